package service

import (
	"net/url"
	"sort"
	"strings"

	"onething/gateway/engine"
)

// StartAttrs are what `onething serve` logs in its one line at start, so
// that an operator reading one replica's log knows what it runs on: the
// store (a bolt file, or a Redis address without user or password), how
// many workers, the department systems with the counties each serves, and
// the calendar years the working-day calendar covers. No secret is among
// them.
func (s *Service) StartAttrs() []any {
	workers := s.cfg.Workers
	if workers == 0 {
		workers = engine.DefaultConcurrency
	}
	attrs := append(storeAttrs(s.cfg), "workers", workers)
	routes, _ := Routing(s.cfg) // Assemble has refused a configuration with problems
	depts := map[string]bool{}
	var endpoints []string
	for _, e := range routes.Endpoints() {
		depts[string(e.Dept)] = true
		ep := e.Name
		if len(e.Codes) > 0 {
			ep += "=" + strings.Join(e.Codes, ",")
		}
		endpoints = append(endpoints, ep)
	}
	names := make([]string, 0, len(depts))
	for d := range depts {
		names = append(names, d)
	}
	sort.Strings(names)
	return append(attrs, "departments", names, "endpoints", endpoints, "calendarYears", s.Calendar.Years(),
		"retention", s.cfg.RetentionDays().String(), "auditRetention", s.cfg.AuditRetentionDays().String())
}

// storeAttrs names the store: its bolt file, or its Redis scheme, host
// and database (never the URL itself, which may carry the password).
func storeAttrs(cfg Config) []any {
	t, err := StoreTarget(cfg)
	switch {
	case err != nil:
		return []any{"store", "unknown"}
	case t.Backend == "bolt":
		return []any{"store", "bolt", "storePath", t.Path}
	}
	u, err := url.Parse(t.URL)
	if err != nil {
		return []any{"store", "redis", "storeAddr", "unparseable"}
	}
	return []any{"store", "redis", "storeAddr", u.Scheme + "://" + u.Host + u.Path}
}
