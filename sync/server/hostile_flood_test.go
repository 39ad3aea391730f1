package server_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/hush-secrets/hush/sync/server"
	"github.com/hush-secrets/hush/sync/wire"
)

// Floods: rate limits for devices and for strangers.

func TestRateLimit(t *testing.T) {
	e := newTeam(t, server.Options{})
	// A new server process on the same file: fresh buckets of 5.
	e.restart(server.Options{Rate: 5, Burst: 5})

	// burst sends up to 10 requests and returns the statuses up to and
	// including the first 429, and how long the first six took.
	burst := func(send func() response) ([]int, time.Duration) {
		var codes []int
		start := time.Now()
		var took time.Duration
		for i := 0; i < 10; i++ {
			r := send()
			codes = append(codes, r.code)
			if i == 5 {
				took = time.Since(start)
			}
			if r.code == http.StatusTooManyRequests {
				r.want(t, http.StatusTooManyRequests, "too many requests")
				break
			}
		}
		return codes, took
	}
	check := func(what string, ok int, codes []int, took time.Duration) {
		t.Helper()
		for i, c := range codes {
			switch {
			case i < 5 && c != ok:
				t.Fatalf("%s: request %d got %d (all: %v)", what, i+1, c, codes)
			case i == 5 && c != http.StatusTooManyRequests && took < 150*time.Millisecond:
				t.Fatalf("%s: the 6th request within %v got %d (all: %v)", what, took, c, codes)
			}
		}
		if codes[len(codes)-1] != http.StatusTooManyRequests {
			t.Fatalf("%s: never limited: %v", what, codes)
		}
	}

	// A device's requests.
	codes, took := burst(func() response { return e.call(e.admin, "GET", "/v1/members", nil) })
	check("an admin's reads", http.StatusOK, codes, took)
	// Pushes: the refused ones change nothing.
	var pushed []string
	codes, took = burst(func() response {
		r := e.record(e.writer, wire.NewID(), 1)
		resp := e.call(e.writer, "POST", "/v1/push", wire.Push{Records: []wire.Record{r}})
		if resp.code == http.StatusOK {
			pushed = append(pushed, r.ID)
		}
		return resp
	})
	check("a writer's pushes", http.StatusOK, codes, took)
	// Self-signed requests are limited by address.
	codes, took = burst(func() response {
		d := newDevice(t, "j", "j")
		return e.call(d, "POST", "/v1/join", e.joinBody(wire.NewID(), d))
	})
	check("joins from one address", http.StatusNotFound, codes, took)

	// The writer's budget is its own: the reader is not limited by it.
	e.call(e.reader, "GET", "/v1/changes?since=0", nil).want(t, http.StatusOK, "")

	// Only the pushes that were let through were stored.
	c := e.changes(e.reader)
	if int(c.Head) != len(pushed) || len(c.Records) != len(pushed) {
		t.Errorf("head %d and %d records stored, %d pushes answered 200", c.Head, len(c.Records), len(pushed))
	}
}

func TestRateLimitStrangers(t *testing.T) {
	e := newTeam(t, server.Options{})
	e.restart(server.Options{Rate: 5, Burst: 5})
	stranger := newDevice(t, "stranger", "mallory")

	// A stranger who knows the writer's id sends requests under it with
	// bad signatures, many more than the writer's budget.
	var codes []int
	start := time.Now()
	for i := 0; i < 20; i++ {
		r := e.request("GET", "/v1/members", nil)
		signRequest(r.Header, stranger.key, e.writer.ID, "GET", "/v1/members", nil, e.clock.Now().Unix(), wire.NewID())
		codes = append(codes, e.send(r).code)
	}
	took := time.Since(start)
	answered := 0
	for _, c := range codes {
		switch c {
		case http.StatusUnauthorized:
			answered++
		case http.StatusTooManyRequests:
		default:
			t.Fatalf("stranger: %v", codes)
		}
	}
	// Unauthenticated requests are limited too (per address): no more of
	// them are answered than the burst and what the rate refilled while
	// they were sent (a slow machine refills some; it never answers all).
	if allowed := 5 + int(took.Seconds()*5) + 1; answered > allowed || answered == len(codes) {
		t.Errorf("bad signatures were not limited: %d of %d answered in %v (at most %d): %v", answered, len(codes), took, allowed, codes)
	}
	// The writer is not locked out by them.
	e.call(e.writer, "GET", "/v1/members", nil).want(t, http.StatusOK, "")
}
