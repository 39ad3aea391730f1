package server

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"sync"
	"time"
)

// metrics counts requests and their latency per route and status, and
// serves them in Prometheus's text format. Written here rather than with
// client_golang: its init registers collectors in every hush command, and
// the server needs only these few series.
type metrics struct {
	mu       sync.Mutex
	requests map[[2]string]uint64 // route, status -> count
	latency  map[string]*histogram
	streams  map[string]int64 // stream route -> open now
	started  time.Time
}

// streamRoutes are long-lived requests (a watch stream lasts as long as a
// device is connected): their lifetime is not a latency, and would drown
// the histogram's tail. They are counted in hush_requests_total when they
// end, and as open streams while they last, never in
// hush_request_duration_seconds.
var streamRoutes = map[string]bool{"GET /v1/watch": true}

var buckets = []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5}

type histogram struct {
	counts []uint64 // per bucket, cumulative at exposition
	sum    float64
	n      uint64
}

func newMetrics() *metrics {
	return &metrics{requests: map[[2]string]uint64{}, latency: map[string]*histogram{}, streams: map[string]int64{}, started: time.Now()}
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
	if streamRoutes[route] {
		return func(w http.ResponseWriter, r *http.Request) {
			m.open(route, 1)
			sw := &statusWriter{ResponseWriter: w, code: http.StatusOK}
			h(sw, r)
			m.open(route, -1)
			m.mu.Lock()
			m.requests[[2]string{route, strconv.Itoa(sw.code)}]++
			m.mu.Unlock()
		}
	}
	return func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, code: http.StatusOK}
		h(sw, r)
		m.observe(route, sw.code, time.Since(start).Seconds())
	}
}

func (m *metrics) open(route string, d int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.streams[route] += d
}

func (m *metrics) observe(route string, code int, secs float64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.requests[[2]string{route, strconv.Itoa(code)}]++
	h := m.latency[route]
	if h == nil {
		h = &histogram{counts: make([]uint64, len(buckets))}
		m.latency[route] = h
	}
	for i, b := range buckets {
		if secs <= b {
			h.counts[i]++
			break
		}
	}
	h.sum += secs
	h.n++
}

func (m *metrics) serve(w http.ResponseWriter, _ *http.Request) {
	m.mu.Lock()
	defer m.mu.Unlock()
	w.Header().Set("Content-Type", "text/plain; version=0.0.4")
	fmt.Fprintln(w, "# HELP hush_requests_total Requests served, by route and status.")
	fmt.Fprintln(w, "# TYPE hush_requests_total counter")
	keys := make([][2]string, 0, len(m.requests))
	for k := range m.requests {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i][0]+keys[i][1] < keys[j][0]+keys[j][1] })
	for _, k := range keys {
		fmt.Fprintf(w, "hush_requests_total{route=%q,code=%q} %d\n", k[0], k[1], m.requests[k])
	}
	fmt.Fprintln(w, "# HELP hush_request_duration_seconds Time to serve a request, by route.")
	fmt.Fprintln(w, "# TYPE hush_request_duration_seconds histogram")
	routes := make([]string, 0, len(m.latency))
	for r := range m.latency {
		routes = append(routes, r)
	}
	sort.Strings(routes)
	for _, r := range routes {
		h := m.latency[r]
		var cum uint64
		for i, b := range buckets {
			cum += h.counts[i]
			fmt.Fprintf(w, "hush_request_duration_seconds_bucket{route=%q,le=%q} %d\n", r, strconv.FormatFloat(b, 'g', -1, 64), cum)
		}
		fmt.Fprintf(w, "hush_request_duration_seconds_bucket{route=%q,le=\"+Inf\"} %d\n", r, h.n)
		fmt.Fprintf(w, "hush_request_duration_seconds_sum{route=%q} %g\n", r, h.sum)
		fmt.Fprintf(w, "hush_request_duration_seconds_count{route=%q} %d\n", r, h.n)
	}
	fmt.Fprintln(w, "# HELP hush_open_streams Long-lived requests open now (watch streams), by route; they are not in hush_request_duration_seconds.")
	fmt.Fprintln(w, "# TYPE hush_open_streams gauge")
	for _, r := range slices.Sorted(maps.Keys(streamRoutes)) {
		fmt.Fprintf(w, "hush_open_streams{route=%q} %d\n", r, m.streams[r])
	}
	fmt.Fprintln(w, "# HELP hush_uptime_seconds Seconds since this server process started.")
	fmt.Fprintln(w, "# TYPE hush_uptime_seconds gauge")
	fmt.Fprintf(w, "hush_uptime_seconds %g\n", time.Since(m.started).Seconds())
}
