package server

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// metrics counts requests and their latency per route and status, and
// serves them in Prometheus's text format. Written here rather than with
// client_golang: its init registers collectors in every hush command, and
// the server needs only these few series. Each route's counters are its
// own atomics, made when the route is: every request counts itself, and
// one lock for all of them was one more place for every request to queue.
type metrics struct {
	mu      sync.Mutex // guards routes (added to only while routes are made)
	routes  map[string]*routeStats
	started time.Time
}

type routeStats struct {
	codes [1000]atomic.Uint64 // requests by status (net/http allows 100-999)
	// latency: per bucket (cumulative at exposition), the sum in
	// nanoseconds, the count. Not for stream routes.
	counts  [len(buckets)]atomic.Uint64
	sumNs   atomic.Int64
	n       atomic.Uint64
	streams atomic.Int64 // open now (stream routes)
}

// streamRoutes are long-lived requests (a watch stream lasts as long as a
// device is connected): their lifetime is not a latency, and would drown
// the histogram's tail. They are counted in hush_requests_total when they
// end, and as open streams while they last, never in
// hush_request_duration_seconds.
var streamRoutes = map[string]bool{"GET /v1/watch": true}

var buckets = [...]float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5}

func newMetrics() *metrics {
	return &metrics{routes: map[string]*routeStats{}, started: time.Now()}
}

func (m *metrics) route(route string) *routeStats {
	m.mu.Lock()
	defer m.mu.Unlock()
	rs := m.routes[route]
	if rs == nil {
		rs = &routeStats{}
		m.routes[route] = rs
	}
	return rs
}

type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	w.code = code
	w.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the connection (a watch
// stream flushes and sets its own deadlines).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (m *metrics) wrap(route string, h http.HandlerFunc) http.HandlerFunc {
	rs := m.route(route)
	if streamRoutes[route] {
		return func(w http.ResponseWriter, r *http.Request) {
			rs.streams.Add(1)
			sw := &statusWriter{ResponseWriter: w, code: http.StatusOK}
			h(sw, r)
			// Counted as a request before it stops counting as open: a
			// reader that sees it closed sees it counted.
			rs.count(sw.code)
			rs.streams.Add(-1)
		}
	}
	return func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, code: http.StatusOK}
		h(sw, r)
		rs.observe(sw.code, time.Since(start))
	}
}

func (rs *routeStats) count(code int) {
	if code >= 0 && code < len(rs.codes) {
		rs.codes[code].Add(1)
	}
}

func (rs *routeStats) observe(code int, d time.Duration) {
	rs.count(code)
	secs := d.Seconds()
	for i, b := range buckets {
		if secs <= b {
			rs.counts[i].Add(1)
			break
		}
	}
	rs.sumNs.Add(int64(d))
	rs.n.Add(1)
}

func (m *metrics) serve(w http.ResponseWriter, _ *http.Request) {
	m.mu.Lock()
	routes := slices.Sorted(maps.Keys(m.routes))
	stats := make([]*routeStats, len(routes))
	for i, r := range routes {
		stats[i] = m.routes[r]
	}
	m.mu.Unlock()
	// The open streams are read first: a stream is counted as a request
	// before it stops counting as open, so a scrape that sees it closed
	// also sees it counted (read after, a stream closing in between was
	// in neither).
	open := map[string]int64{}
	for _, r := range slices.Sorted(maps.Keys(streamRoutes)) {
		if i := slices.Index(routes, r); i >= 0 {
			open[r] = stats[i].streams.Load()
		}
	}
	w.Header().Set("Content-Type", "text/plain; version=0.0.4")
	fmt.Fprintln(w, "# HELP hush_requests_total Requests served, by route and status.")
	fmt.Fprintln(w, "# TYPE hush_requests_total counter")
	for i, r := range routes {
		for code := range stats[i].codes {
			if n := stats[i].codes[code].Load(); n > 0 {
				fmt.Fprintf(w, "hush_requests_total{route=%q,code=%q} %d\n", r, strconv.Itoa(code), n)
			}
		}
	}
	fmt.Fprintln(w, "# HELP hush_request_duration_seconds Time to serve a request, by route.")
	fmt.Fprintln(w, "# TYPE hush_request_duration_seconds histogram")
	for i, r := range routes {
		h := stats[i]
		n := h.n.Load()
		if streamRoutes[r] || n == 0 {
			continue
		}
		var cum uint64
		for i, b := range buckets {
			cum += h.counts[i].Load()
			fmt.Fprintf(w, "hush_request_duration_seconds_bucket{route=%q,le=%q} %d\n", r, strconv.FormatFloat(b, 'g', -1, 64), cum)
		}
		// (Read one after another, not at one instant: a request counted
		// meanwhile can make +Inf a little under a bucket; Prometheus
		// takes that as it takes any scrape racing requests.)
		fmt.Fprintf(w, "hush_request_duration_seconds_bucket{route=%q,le=\"+Inf\"} %d\n", r, max(n, cum))
		fmt.Fprintf(w, "hush_request_duration_seconds_sum{route=%q} %g\n", r, time.Duration(h.sumNs.Load()).Seconds())
		fmt.Fprintf(w, "hush_request_duration_seconds_count{route=%q} %d\n", r, max(n, cum))
	}
	fmt.Fprintln(w, "# HELP hush_open_streams Long-lived requests open now (watch streams), by route; they are not in hush_request_duration_seconds.")
	fmt.Fprintln(w, "# TYPE hush_open_streams gauge")
	for _, r := range slices.Sorted(maps.Keys(streamRoutes)) {
		fmt.Fprintf(w, "hush_open_streams{route=%q} %d\n", r, open[r])
	}
	fmt.Fprintln(w, "# HELP hush_uptime_seconds Seconds since this server process started.")
	fmt.Fprintln(w, "# TYPE hush_uptime_seconds gauge")
	fmt.Fprintf(w, "hush_uptime_seconds %g\n", time.Since(m.started).Seconds())
}
