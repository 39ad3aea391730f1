package client

import (
	"testing"
	"time"
)

// A fresh window under a day is said in hours, not as "0 days".
func TestQuietFor(t *testing.T) {
	for d, want := range map[time.Duration]string{
		30 * time.Second: "less than an hour", 90 * time.Minute: "an hour", 5 * time.Hour: "5 hours",
		30 * time.Hour: "1 day", 8 * 24 * time.Hour: "8 days",
	} {
		if got := quietFor(d); got != want {
			t.Errorf("quietFor(%v) = %q, want %q", d, got, want)
		}
	}
}
