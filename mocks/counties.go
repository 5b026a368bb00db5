package mocks

import (
	"net/http"
	"sort"
)

// Counties is one mock process serving several counties' systems of one
// department, as a per-county department (hrss, medical) is deployed: the
// home county's system at the root (its API and /_mock/… as a single mock
// has them), every other county's under /{county}/ (e.g.
// /511703/api/v1/pension-subsidy-cases, /511703/_mock/faults), each with
// its own secrets. GET /_mock/stats at the root sums them all, its
// counties saying which counties' cases were taken;
// /{county}/_mock/stats is one county's.
type Counties struct {
	Home   *Dept
	byCode map[string]*Dept
}

// NewCounties serves home at the root and each of others under its code.
func NewCounties(home *Dept, others map[string]*Dept) *Counties {
	m := &Counties{Home: home, byCode: map[string]*Dept{}}
	for code, d := range others {
		d.cfg.Prefix = "/" + code
		if d.cfg.County == "" {
			d.cfg.County = code
		}
		m.byCode[code] = d
	}
	return m
}

// County is the system of a county served under its code (nil: none).
func (m *Counties) County(code string) *Dept { return m.byCode[code] }

// Codes are the counties served under their code, in order.
func (m *Counties) Codes() []string {
	out := make([]string, 0, len(m.byCode))
	for code := range m.byCode {
		out = append(out, code)
	}
	sort.Strings(out)
	return out
}

// All are the systems: the home one first, then by code.
func (m *Counties) All() []*Dept {
	out := []*Dept{m.Home}
	for _, code := range m.Codes() {
		out = append(out, m.byCode[code])
	}
	return out
}

// Handler serves every county's system; wrap (nil: none) wraps each
// county's handler, which sees paths without the county's prefix (tests
// check each county's traffic against the department's contract).
func (m *Counties) Handler(wrap func(http.Handler) http.Handler) http.Handler {
	if wrap == nil {
		wrap = func(h http.Handler) http.Handler { return h }
	}
	mux := http.NewServeMux()
	mux.Handle("/", wrap(m.Home.Handler()))
	for code, d := range m.byCode {
		mux.Handle("/"+code+"/", http.StripPrefix("/"+code, wrap(d.Handler())))
		mux.Handle("/"+code+"/_mock/", http.StripPrefix("/"+code, d.Handler())) // not the department's API
	}
	mux.HandleFunc("GET /_mock/stats", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, m.Stats())
	})
	return mux
}

// Stats sums what every county's system has seen.
func (m *Counties) Stats() Stats {
	sum := m.Home.Stats()
	for _, d := range m.byCode {
		st := d.Stats()
		sum.Requests += st.Requests
		sum.Repeats += st.Repeats
		sum.Conflicts += st.Conflicts
		sum.Cases += st.Cases
		sum.Cancelled += st.Cancelled
		sum.Supplements += st.Supplements
		for k, v := range st.Effects {
			sum.Effects[k] += v
		}
		for k, v := range st.Counties {
			sum.Counties[k] += v
		}
	}
	return sum
}

// Close stops every county's system.
func (m *Counties) Close() {
	for _, d := range m.All() {
		d.Close()
	}
}
