package bench

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"syscall"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/redis/go-redis/v9"
	bolt "go.etcd.io/bbolt"

	c "onething/contracts"
	"onething/gateway/calendar"
	"onething/gateway/engine"
	"onething/gateway/service"
	"onething/gateway/store"
	"onething/gateway/workflow"
)

// Child runs one process of a benchmark (`onething bench-child ROLE …`):
//
//	gateway   the gateway from a configuration file, as `serve` runs it;
//	          --intake-only serves HTTP without the queue's workers
//	baseline  a bare gin handler: binds the submission JSON and writes the
//	          same number of keys the gateway's intake writes, raw (Redis
//	          MULTI/EXEC, or one bbolt transaction), no validation or workflow
//	relay     the end-to-end raw baseline on --config FILE (relay.go): the
//	          gateway's exchanges with the portal and the departments, one
//	          small durable write per step, no rules, sealing or timeline
//
// Each serves --debug ADDR: /memstats (the Go heap) and /debug/pprof/.
func Child(args []string) error {
	if len(args) == 0 {
		return errors.New("bench-child gateway|baseline|relay …")
	}
	role := args[0]
	fs := flag.NewFlagSet("bench-child "+role, flag.ContinueOnError)
	config := fs.String("config", "", "gateway, relay: configuration file")
	intakeOnly := fs.Bool("intake-only", false, "gateway: no queue workers")
	listen := fs.String("listen", "127.0.0.1:0", "baseline: address")
	storeURL := fs.String("store", "", "baseline: redis://… or bolt:///path")
	debug := fs.String("debug", "", "address of the /memstats and /debug/pprof listener")
	logFile := fs.String("log", "", "log file (JSON lines, level info, as in production); empty: discard")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	log := slog.New(slog.DiscardHandler)
	if *logFile != "" {
		f, err := os.Create(*logFile)
		if err != nil {
			return err
		}
		defer f.Close()
		log = slog.New(slog.NewJSONHandler(f, nil))
	}
	if *debug != "" {
		if err := serveDebug(*debug); err != nil {
			return err
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	switch role {
	case "gateway":
		return childGateway(ctx, *config, *intakeOnly, log)
	case "baseline":
		return childBaseline(ctx, *listen, *storeURL)
	case "relay":
		return childRelay(ctx, *config, log)
	}
	return fmt.Errorf("bench-child: unknown role %q", role)
}

func serveDebug(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/memstats", func(w http.ResponseWriter, _ *http.Request) {
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		json.NewEncoder(w).Encode(map[string]uint64{"heapInuse": m.HeapInuse, "heapAlloc": m.HeapAlloc, "sys": m.Sys, "numGC": uint64(m.NumGC)})
	})
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	go http.Serve(ln, mux)
	return nil
}

func childGateway(ctx context.Context, path string, intakeOnly bool, log *slog.Logger) error {
	l, err := service.LoadConfig(path, nil)
	if err != nil {
		return err
	}
	svc, err := service.New(l.Config, log)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", l.Config.Listen)
	if err != nil {
		svc.Store.Close()
		return err
	}
	if !intakeOnly {
		return svc.Run(ctx, ln)
	}
	srv := &http.Server{Handler: svc.Handler, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	srv.Shutdown(sctx)
	return svc.Store.Close()
}

// IntakeWrites is what the gateway's intake writes for one submission of
// the bundled example: the application, its two dedupe keys, the open
// index entry, and per first job a record and a due-index entry (the jobs
// are planned from the example, as the gateway plans them).
func IntakeWrites() (jobs int, writes int, err error) {
	sub, err := exampleSubmission()
	if err != nil {
		return 0, 0, err
	}
	flow := workflow.New(calendar.Default())
	app := &c.Application{ID: "X", PortalRef: sub.PortalRef, Applicant: sub.Applicant, Requests: sub.Requests, Channel: sub.Channel,
		ReceivedAt: time.Now().UTC(), Version: 1}
	ready := flow.Plan(app)
	jobs = len(ready) + 1 // the dispatches and the status push
	return jobs, 2 + 1 + 1 + 2*jobs, nil
}

func exampleSubmission() (*c.Submission, error) {
	raw, err := c.Example("submission-full.json")
	if err != nil {
		return nil, err
	}
	var sub c.Submission
	if err := json.Unmarshal(raw, &sub); err != nil {
		return nil, err
	}
	return &sub, nil
}

// childBaseline is the raw cost of intake's parts: gin, binding the same
// JSON into the same type, and the same number of raw store writes in one
// atomic, fsynced write, with no signature, validation, dedupe or workflow.
func childBaseline(ctx context.Context, listen, storeURL string) error {
	jobs, _, err := IntakeWrites()
	if err != nil {
		return err
	}
	var write func(ctx context.Context, id string, sub *c.Submission, body []byte) error
	switch {
	case len(storeURL) > 8 && storeURL[:8] == "redis://":
		opt, err := redis.ParseURL(storeURL)
		if err != nil {
			return err
		}
		rdb := redis.NewClient(opt)
		defer rdb.Close()
		write = func(ctx context.Context, id string, sub *c.Submission, body []byte) error {
			now := float64(time.Now().UnixMilli())
			_, err := rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
				p.SetNX(ctx, "base:key:delivery:"+id, id, 30*24*time.Hour)
				p.SetNX(ctx, "base:key:ref:"+sub.PortalRef, id, 0)
				p.HSet(ctx, "base:{app:"+id+"}", "doc", body, "rev", 1)
				p.ZAdd(ctx, "base:{queue}:open", redis.Z{Score: now, Member: id})
				for j := 0; j < jobs; j++ {
					jid := id + ":" + strconv.Itoa(j)
					p.HSetNX(ctx, "base:{queue}:jobs", jid, `{"id":"`+jid+`"}`)
					p.ZAdd(ctx, "base:{queue}:due", redis.Z{Score: now, Member: jid})
				}
				return nil
			})
			return err
		}
	case len(storeURL) > 7 && storeURL[:7] == "bolt://":
		db, err := bolt.Open(storeURL[7:], 0o600, &bolt.Options{Timeout: 5 * time.Second})
		if err != nil {
			return err
		}
		defer db.Close()
		buckets := [][]byte{[]byte("apps"), []byte("keys"), []byte("jobs"), []byte("due")}
		err = db.Update(func(tx *bolt.Tx) error {
			for _, b := range buckets {
				if _, err := tx.CreateBucketIfNotExists(b); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		write = func(_ context.Context, id string, sub *c.Submission, body []byte) error {
			return db.Update(func(tx *bolt.Tx) error {
				apps, keys, jb, due := tx.Bucket(buckets[0]), tx.Bucket(buckets[1]), tx.Bucket(buckets[2]), tx.Bucket(buckets[3])
				if err := apps.Put([]byte(id), body); err != nil {
					return err
				}
				keys.Put([]byte("delivery:"+id), []byte(id))
				keys.Put([]byte("ref:"+sub.PortalRef), []byte(id))
				keys.Put([]byte("open:"+id), nil)
				for j := 0; j < jobs; j++ {
					jid := id + ":" + strconv.Itoa(j)
					jb.Put([]byte(jid), []byte(`{"id":"`+jid+`"}`))
					due.Put([]byte(time.Now().Format(time.RFC3339Nano)+jid), nil)
				}
				return nil
			})
		}
	default:
		return fmt.Errorf("baseline: --store must be redis://… or bolt:///path")
	}
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.POST("/v1/portal/submissions", func(g *gin.Context) {
		var sub c.Submission
		if err := g.ShouldBindJSON(&sub); err != nil {
			g.JSON(http.StatusBadRequest, gin.H{"code": "malformed_json"})
			return
		}
		id := engine.NewID(time.Now())
		body, _ := json.Marshal(&sub)
		if err := write(g.Request.Context(), id, &sub, body); err != nil {
			g.JSON(http.StatusServiceUnavailable, gin.H{"code": "store_unavailable"})
			return
		}
		g.JSON(http.StatusAccepted, gin.H{"applicationId": id, "portalRef": sub.PortalRef, "status": "received"})
	})
	r.GET("/healthz", func(g *gin.Context) { g.JSON(http.StatusOK, gin.H{"status": "ok"}) })
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: r, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
}

// storeOf opens the store a gateway configuration names (growth prefill).
func storeOf(cfg service.Config) (store.Store, error) { return service.OpenStore(cfg, nil) }
