package store

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"onething/civil"
	"onething/contracts"
)

// `onething store check`: an offline, whole-store consistency check. Unlike
// an open, it walks everything: bbolt's own check of every page (Tx.Check:
// page types, references, key order, the free list), then the buckets'
// agreement with each other (every queued job in the due index and back,
// the open and blind indexes naming stored applications), the key checks
// against the configured keys, and counts. With Records it also opens
// every application and lists those that do not open. On Redis (which
// the replicas keep using meanwhile) it checks the identity and the key
// checks and counts what the prefix holds.

// CheckOptions tune a check.
type CheckOptions struct {
	// Records opens every application (decrypts its sealed part) and lists
	// those that do not open: a walk that costs some seconds per 100,000
	// applications.
	Records bool
}

// CheckReport is what a check found.
type CheckReport struct {
	Backend  string   `json:"backend"` // bolt or redis
	Store    string   `json:"store"`   // the file, or the Redis database and prefix
	Identity Identity `json:"identity"`
	// Counts of what the store holds: applications, openApplications,
	// jobs, leasedJobs, deadLetters, auditEntries, dedupeKeys,
	// indexEntries, keyChecks, unreadableListed, unreadableFound (Records).
	Counts map[string]int `json:"counts"`
	// Problems found, in English (ids and counts only, no personal data);
	// none: the store is consistent.
	Problems []string `json:"problems"`
	// Unreadable are the applications that did not open (Records).
	Unreadable []contracts.UnreadableRecord `json:"unreadable,omitempty"`
}

// OK reports whether the check found no problem.
func (r *CheckReport) OK() bool { return len(r.Problems) == 0 }

// maxProblems bounds the problems a report lists.
const maxProblems = 100

// problem adds one problem, Chinese first and English beside: zh's verbs
// take the first args, en's the rest (each names its own values).
func (r *CheckReport) problem(zh, en string, args ...any) {
	nz := strings.Count(zh, "%") - 2*strings.Count(zh, "%%")
	switch {
	case len(r.Problems) < maxProblems:
		r.Problems = append(r.Problems, fmt.Sprintf(zh, args[:nz]...)+" / "+fmt.Sprintf(en, args[nz:]...))
	case len(r.Problems) == maxProblems:
		r.Problems = append(r.Problems, "……其余问题未列出 / … more problems not listed")
	}
}

// String is the report for people.
func (r *CheckReport) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "store    %s (%s)\n", r.Store, r.Backend)
	if r.Identity.ID != "" {
		fmt.Fprintf(&b, "identity %s, format %d, created %s\n", r.Identity.ID, r.Identity.Format, civil.In(r.Identity.Created).Format(time.RFC3339))
	}
	names := make([]string, 0, len(r.Counts))
	for k := range r.Counts {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		fmt.Fprintf(&b, "  %-18s %d\n", k, r.Counts[k])
	}
	for _, u := range r.Unreadable {
		fmt.Fprintf(&b, "无法读取 / unreadable %s: %s\n", u.ApplicationID, u.Reason)
	}
	if r.OK() {
		b.WriteString("存储一致 / the store is consistent\n")
		return b.String()
	}
	fmt.Fprintf(&b, "发现 %d 个问题 / %d problem(s):\n", len(r.Problems), len(r.Problems))
	for _, p := range r.Problems {
		fmt.Fprintf(&b, "  - %s\n", p)
	}
	return b.String()
}

// String says what an init did, for people.
func (r InitResult) String() string {
	// People read the creation time: China time with its offset.
	id := fmt.Sprintf("id %s, format %d, created %s", r.Identity.ID, r.Identity.Format, civil.In(r.Identity.Created).Format(time.RFC3339))
	switch {
	case r.Created:
		return "已创建新的存储 / created a new store (" + id + ")"
	case r.Adopted:
		return "已为早期版本的存储记录标识，数据未改动 / recorded the identity of an earlier onething's store, its data unchanged (" + id + ")"
	}
	return "存储此前已初始化，未作任何改动 / the store was initialised before; nothing changed (" + id + ")"
}

// CheckBolt checks the bbolt file at path, which no gateway may have open
// (the check waits a moment for the file's lock, then gives up). It
// returns an error when it cannot check (no store there, not initialised,
// another format, in use), and a report, with its problems, otherwise:
// damage found (a truncated file, pages bbolt's check refuses) is a
// problem in the report.
func CheckBolt(ctx context.Context, path string, co CheckOptions, opts ...Option) (*CheckReport, error) {
	o := boltOptions(path, opts)
	rep := &CheckReport{Backend: "bolt", Store: path, Counts: map[string]int{}}
	if _, err := readBoltHeader(path); err != nil {
		var d *damage
		switch {
		case errors.As(err, &d):
			rep.problem("文件已损坏：%s", "the file is damaged: %s", d.zh, d.en)
			return rep, nil
		case errors.Is(err, errFileMissing):
			return nil, notInitialised(path, "文件不存在", "the file does not exist")
		case errors.Is(err, errFileEmpty):
			return nil, notInitialised(path, "文件为空（0 字节），不是存储", "the file is empty (0 bytes), not a store")
		}
		return nil, fmt.Errorf("check store %s: %w", path, err)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: 2 * time.Second, OpenFile: noCreate})
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, fmt.Errorf("check store %s: 文件正在使用（网关在运行？），请先停止网关：检查只读没有人在写的文件 / the file is in use (a gateway running on it?): stop it first; the check reads a file no one writes", path)
	}
	if err != nil {
		rep.problem("bbolt 无法打开该文件：%v", "bbolt cannot open the file: %v", err, err)
		return rep, nil
	}
	defer db.Close()
	err = db.View(func(tx *bolt.Tx) error {
		id, has, err := identityOf(boltMetaMap(tx))
		switch {
		case err != nil:
			return err
		case !has:
			if kind, other := classifyBolt(tx); kind == boltDamaged {
				return damagedRoot(path, other)
			} else if kind == boltForeign {
				return foreign(path, "这是其他程序的 bbolt 文件（含有桶 "+other+"）", "another program's bbolt file (it has a bucket "+other+")")
			} else if kind == boltEarlier {
				return earlierStore(path)
			}
			return notInitialised(path, "这是空的 bbolt 文件", "an empty bbolt file")
		case id.Format != FormatVersion:
			return otherFormat(path, id.Format)
		}
		rep.Identity = id
		// bbolt's own check of every page first: the walks below trust
		// the pages.
		for err := range tx.Check() {
			rep.problem("bbolt 页面检查：%v", "bbolt: %v", err, err)
		}
		if !rep.OK() {
			rep.problem("文件的页面已损坏：请从备份恢复", "the file's pages are damaged: restore it from a backup")
			return nil
		}
		c := codec{keys: o.keys}
		if o.keys != nil {
			ks, ksID, err := openBoltKeyStore(o.keyStore, false, true)
			if err != nil {
				if tx.Bucket(bucketMeta).Get([]byte(metaKeyStore)) != nil {
					rep.problem("各申请数据密钥的密钥库打不开：%v", "the key store of the applications' own data keys does not open: %v", err, err)
				}
			} else {
				defer ks.close()
				if want := string(tx.Bucket(bucketMeta).Get([]byte(metaKeyStore))); want != "" && ksID != want {
					rep.problem("密钥库 %s 不是该存储的（标识不符）", "the key store %s is not this store's (its id differs)", o.keyStore, o.keyStore)
				}
				c.dek = newAppKeys(o.keys, ks)
			}
		}
		checkBoltContents(ctx, tx, rep, c, co)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return rep, nil
}

// checkBoltContents checks the buckets against each other, the key
// checks and, with Records, every application.
func checkBoltContents(ctx context.Context, tx *bolt.Tx, rep *CheckReport, c codec, co CheckOptions) {
	defer func() {
		if p := recover(); p != nil {
			rep.problem("遍历文件失败（%v）：内容已损坏", "walking the file failed (%v): its contents are damaged", p, p)
		}
	}()
	for _, name := range ourBuckets {
		// The unreadable list is made when first needed; the lists are
		// filled when the gateway first opens a file from before them; drafts
		// when the first is saved.
		if tx.Bucket(name) == nil && !bytes.Equal(name, bucketUnreadable) && !bytes.Equal(name, bucketLists) && !bytes.Equal(name, bucketDrafts) &&
			!bytes.Equal(name, bucketPersonal) && !bytes.Equal(name, bucketTimeline) {
			rep.problem("缺少桶 %q", "bucket %q is missing", name, name)
		}
	}
	if !rep.OK() {
		return
	}
	apps := tx.Bucket(bucketApps)
	has := func(id []byte) bool { return apps.Get(id) != nil }
	rep.Counts["applications"] = apps.Stats().KeyN
	rep.Counts["dedupeKeys"] = tx.Bucket(bucketKeys).Stats().KeyN
	rep.Counts["deadLetters"] = tx.Bucket(bucketDead).Stats().KeyN
	rep.Counts["auditEntries"] = tx.Bucket(bucketAudit).Stats().KeyN
	if ub := tx.Bucket(bucketUnreadable); ub != nil {
		rep.Counts["unreadableListed"] = ub.Stats().KeyN
	}

	open := 0
	tx.Bucket(bucketOpen).ForEach(func(k, _ []byte) error {
		open++
		if !has(k) {
			rep.problem("未办结索引指向不存在的申请 %s", "the open index names application %s, which is not stored", k, k)
		}
		return nil
	})
	rep.Counts["openApplications"] = open

	idx := 0
	tx.Bucket(bucketIdx).ForEach(func(k, _ []byte) error {
		idx++
		i := bytes.IndexByte(k, 0)
		if i < 0 {
			rep.problem("盲索引条目缺少申请编号", "a blind index entry without an application id")
		} else if !has(k[i+1:]) {
			rep.problem("盲索引指向不存在的申请 %s", "the blind index names application %s, which is not stored", k[i+1:], k[i+1:])
		}
		return nil
	})
	rep.Counts["indexEntries"] = idx

	// The parts of records of format 4 (parts.go): each belongs to an
	// application whose record is in parts.
	inParts := func(id []byte) bool { return bytes.HasPrefix(apps.Get(id), partsHead) }
	if pb := tx.Bucket(bucketPersonal); pb != nil {
		n := 0
		pb.ForEach(func(k, _ []byte) error {
			n++
			if !inParts(k) {
				rep.problem("申请 %s 的个人信息部分无对应的分部记录（或记录不存在）", "a personal part of application %s, whose record is not in parts (or not stored)", k, k)
			}
			return nil
		})
		rep.Counts["personalParts"] = n
	}
	if tb := tx.Bucket(bucketTimeline); tb != nil {
		n := 0
		var last []byte
		tb.ForEach(func(k, _ []byte) error {
			n++
			i := bytes.IndexByte(k, 0)
			if i < 0 {
				rep.problem("时间线条目缺少申请编号", "a timeline entry without an application id")
				return nil
			}
			if bytes.Equal(k[:i], last) {
				return nil
			}
			last = append(last[:0], k[:i]...)
			if !inParts(k[:i]) {
				rep.problem("申请 %s 的时间线条目无对应的分部记录（或记录不存在）", "timeline entries of application %s, whose record is not in parts (or not stored)", k[:i], k[:i])
			}
			return nil
		})
		rep.Counts["timelineEntries"] = n
	}

	if lb := tx.Bucket(bucketLists); lb != nil {
		entries := 0
		lb.ForEach(func(k, _ []byte) error {
			entries++
			if i := bytes.LastIndexByte(k, '|'); i < 0 {
				rep.problem("列表条目缺少申请编号", "a list entry without an application id")
			} else if !has(k[i+1:]) {
				rep.problem("列表指向不存在的申请 %s", "a list names application %s, which is not stored", k[i+1:], k[i+1:])
			}
			return nil
		})
		rep.Counts["listEntries"] = entries
	}

	due := tx.Bucket(bucketDue)
	dueEntries := map[string]bool{}
	due.ForEach(func(k, _ []byte) error {
		if len(k) < 8 {
			rep.problem("到期索引条目长度异常（%d 字节）", "a due index entry of %d bytes", len(k), len(k))
			return nil
		}
		dueEntries[string(k)] = true
		return nil
	})
	jobs, leased := 0, 0
	// The leased index (a file from before it has none until a gateway
	// opens it) must name every job whose lease still runs (one whose
	// lease has ended is due: it needs no handing back); an entry of a job
	// no longer leased (an earlier version ended the lease) is dropped at
	// the next open, harmless.
	now := time.Now()
	leasedIndex := map[string]bool{}
	lb := tx.Bucket(bucketLeased)
	if lb != nil {
		lb.ForEach(func(k, _ []byte) error {
			leasedIndex[string(k)] = true
			return nil
		})
	}
	tx.Bucket(bucketJobs).ForEach(func(k, v []byte) error {
		jobs++
		var j Job
		if err := unmarshalJSON(v, &j); err != nil {
			rep.problem("任务 %s 无法解码，记录已损坏（运行中的网关到期时将其转为死信）", "job %s does not decode: its record is damaged (a running gateway parks it as a dead letter when it is due)", k, k)
			for key := range dueEntries {
				if key[8:] == string(k) {
					delete(dueEntries, key)
				}
			}
			return nil
		}
		if j.ID != string(k) {
			rep.problem("任务 %s 的记录写的是编号 %q，记录已损坏（运行中的网关到期时将其转为死信）", "job %s: its record names id %q: the record is damaged (a running gateway parks it as a dead letter when it is due)", k, j.ID, k, j.ID)
		}
		if j.Leased {
			leased++
			if lb != nil && !leasedIndex[string(k)] && j.Due.After(now) {
				rep.problem("任务 %s 租约至 %s，但不在租约索引中：重启后租约期满前不会交回", "job %s is leased until %s but not in the leased index: a restart would not hand it back before its lease ends", k, civil.In(j.Due).Format(time.RFC3339), k, civil.In(j.Due).Format(time.RFC3339))
			}
		}
		key := string(dueKey(j.Due, string(k)))
		if !dueEntries[key] {
			rep.problem("任务 %s 不在到期索引中：不会有工作进程处理它", "job %s is not in the due index: no worker will take it", k, k)
		}
		delete(dueEntries, key)
		return nil
	})
	for k := range dueEntries {
		rep.problem("到期索引中的任务 %s 不在队列中", "the due index holds job %s, which is not queued", k[8:], k[8:])
	}

	rep.Counts["jobs"], rep.Counts["leasedJobs"] = jobs, leased
	tx.Bucket(bucketDead).ForEach(func(k, v []byte) error {
		var j Job
		if err := unmarshalJSON(v, &j); err != nil {
			rep.problem("死信 %s 无法解码，记录已损坏", "dead letter %s does not decode: its record is damaged", k, k)
		} else if j.ID != string(k) {
			rep.problem("死信 %s 的记录写的是编号 %q，记录已损坏", "dead letter %s: its record names id %q: the record is damaged", k, j.ID, k, j.ID)
		}
		return nil
	})

	meta := boltMetaMap(tx)
	checkMeta(rep, meta, c)

	if co.Records {
		found := 0
		apps.ForEach(func(k, v []byte) error {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if _, _, _, err := c.decodeRecordParts(string(k), partsOf(tx, string(k), v)); err != nil {
				found++
				if len(rep.Unreadable) < MaxUnreadableListed {
					rep.Unreadable = append(rep.Unreadable, unreadableOf(string(k), err))
				}
			}
			return nil
		})
		rep.Counts["unreadableFound"] = found
		if found > 0 {
			rep.problem("%d 件申请无法打开（见上）", "%d application(s) do not open (listed above)", found, found)
		}
	}
}

// checkMeta checks the key checks against the configured keys.
func checkMeta(rep *CheckReport, meta map[string]string, c codec) {
	checks := 0
	for name := range meta {
		if strings.HasPrefix(name, metaDataKey) || strings.HasPrefix(name, metaIndexKey) {
			checks++
		}
	}
	rep.Counts["keyChecks"] = checks
	if c.keys == nil {
		if checks > 0 {
			rep.problem("存储含有加密数据，但未提供用于检查的密钥", "the store holds sealed data and no keys were given to check")
		}
		return
	}
	names := make([]string, 0, len(meta))
	for name := range meta {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if err := verifyCheck(c.keys, name, meta[name]); err != nil {
			rep.problem("%v", "%v", err, err)
		}
	}
}

// CheckRedis checks the store under the URL's prefix: its identity, the
// key checks against the configured keys, the counts of what it holds,
// and with Records every application. The replicas may keep running.
func CheckRedis(ctx context.Context, rawURL string, co CheckOptions, opts ...Option) (*CheckReport, error) {
	t, err := parseRedisURL(rawURL)
	if err != nil {
		return nil, err
	}
	o := buildOptions(opts)
	r := &Redis{rdb: t.client(o), prefix: cmp.Or(t.opts.Prefix, "onething"), codec: codec{keys: o.keys}, at: t.where}
	defer r.rdb.Close()
	if o.keys != nil {
		// Read only: the check writes nothing, not even the key store's id.
		ks, err := r.openRedisKeyStore(ctx, o)
		if err != nil {
			return nil, fmt.Errorf("check store %s: %w", r.where(), err)
		}
		defer ks.close()
		r.codec.dek = newAppKeys(o.keys, ks)
	}
	rep := &CheckReport{Backend: "redis", Store: r.where(), Counts: map[string]int{}}
	if err := r.rdb.Ping(ctx).Err(); err != nil {
		return nil, fmt.Errorf("check store %s: redis: %w", rep.Store, err)
	}
	meta, err := r.meta(ctx)
	if err != nil {
		return nil, fmt.Errorf("check store %s: %w", rep.Store, err)
	}
	id, has, err := identityOf(meta)
	switch {
	case err != nil:
		return nil, fmt.Errorf("check store %s: %w", rep.Store, err)
	case !has:
		if len(meta) > 0 {
			return nil, earlierStore(rep.Store)
		}
		return nil, notInitialised(rep.Store, "没有存储标识", "no store identity")
	case id.Format != FormatVersion:
		return nil, otherFormat(rep.Store, id.Format)
	}
	rep.Identity = id
	checkMeta(rep, meta, r.codec)

	jk, dk, lk, ok := r.QueueKeys()
	pipe := r.rdb.Pipeline()
	counts := map[string]*redis.IntCmd{
		"jobs": pipe.HLen(ctx, jk), "dueJobs": pipe.ZCard(ctx, dk), "leasedJobs": pipe.ZCard(ctx, lk),
		"openApplications": pipe.ZCard(ctx, ok), "finishedJobIds": pipe.ZCard(ctx, r.DoneKey()),
		"deadLetters": pipe.HLen(ctx, r.deadKey()), "auditEntries": pipe.XLen(ctx, r.auditKey()),
		"unreadableListed": pipe.HLen(ctx, r.unreadableKey()),
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("check store %s: %w", rep.Store, err)
	}
	for k, c := range counts {
		rep.Counts[k] = int(c.Val())
	}
	if q := rep.Counts["dueJobs"] + rep.Counts["leasedJobs"]; q != rep.Counts["jobs"] {
		// The replicas may be writing: a difference that stays on a
		// second check is the reconciler's to mend.
		rep.Counts["jobsOutsideTheQueue"] = rep.Counts["jobs"] - q
	}
	n, found := 0, 0
	err = r.AppIDs(ctx, func(id string) error {
		n++
		if !co.Records {
			return nil
		}
		h, err := r.rdb.HGetAll(ctx, r.appKey(id)).Result()
		if err != nil {
			return err
		}
		if h["doc"] == "" {
			return nil
		}
		if !strings.HasPrefix(h["doc"], string(partsHead)) {
			for f := range h {
				if f == "per" || strings.HasPrefix(f, "t:") {
					rep.problem("申请 %s：非分部记录旁有分部数据（%s）", "application %s: parts (%s) beside a record that is not in parts", id, f, id, f)
					break
				}
			}
		}
		if _, _, _, err := r.codec.decodeRecordParts(id, storedOfHash(h)); err != nil {
			found++
			if len(rep.Unreadable) < MaxUnreadableListed {
				rep.Unreadable = append(rep.Unreadable, unreadableOf(id, err))
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("check store %s: %w", rep.Store, err)
	}
	rep.Counts["applications"] = n
	if co.Records {
		rep.Counts["unreadableFound"] = found
		if found > 0 {
			rep.problem("%d 件申请无法打开（见上）", "%d application(s) do not open (listed above)", found, found)
		}
	}
	return rep, nil
}

// unreadableOf is how the check lists a record that did not decode.
func unreadableOf(id string, err error) contracts.UnreadableRecord {
	var ue *UnreadableError
	if errors.As(err, &ue) {
		return contracts.UnreadableRecord{ApplicationID: ue.ID, Reason: ue.Reason}
	}
	return contracts.UnreadableRecord{ApplicationID: id, Reason: "it could not be read: " + err.Error()}
}
