package tui

import (
	"slices"
	"testing"
)

// Results are ranked by how well they match, not by name: the closest
// matches come first.
func TestFilterRanksByMatchQuality(t *testing.T) {
	names := []string{
		"app/prod/BILLING_CLIENT_SECRET_ID",
		"app/prod/BILLING_CLIENT_SECRET_KEY",
		"app/prod/BILLING_SECRET_KEY",
		"app/prod/BILLING_SECRET_SALT",
	}
	for _, c := range []struct {
		query string
		first []string // the leading results, in any order
	}{
		{"billingsecret", []string{"app/prod/BILLING_SECRET_KEY", "app/prod/BILLING_SECRET_SALT"}},
		{"billing_secret", []string{"app/prod/BILLING_SECRET_KEY", "app/prod/BILLING_SECRET_SALT"}},
		{"clientsecret", []string{"app/prod/BILLING_CLIENT_SECRET_ID", "app/prod/BILLING_CLIENT_SECRET_KEY"}},
	} {
		f := newFilter(newIndex(names))
		rows := f.set(c.query)
		var got []string
		for _, r := range rows {
			got = append(got, names[r])
		}
		for i, want := range c.first {
			if i >= len(got) || !slices.Contains(c.first, got[i]) {
				t.Errorf("%q: results %q, want %q first (%s)", c.query, got, c.first, want)
				break
			}
		}
	}
}
