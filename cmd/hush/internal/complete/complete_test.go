package complete

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
)

func TestCandidates(t *testing.T) {
	names := []string{"DB", "app/dev/API_KEY", "app/dev/sub/X", "app/prod/API_KEY", "app/prod/DB_PASSWORD", "app/prod2/K", "ci/TOKEN"}
	for _, c := range []struct {
		prefix  string
		folders bool
		want    []string
	}{
		{"", false, []string{"DB", "app/", "ci/"}},
		{"", true, []string{"app/", "ci/"}},
		{"app/pr", false, []string{"app/prod/", "app/prod2/"}},
		{"app/prod/", false, []string{"app/prod/API_KEY", "app/prod/DB_PASSWORD"}},
		{"app/prod/D", false, []string{"app/prod/DB_PASSWORD"}},
		{"app/dev/", true, []string{"app/dev/sub/"}},
		{"app/dev/", false, []string{"app/dev/API_KEY", "app/dev/sub/"}},
		{"zz", false, nil},
	} {
		if got := Candidates(names, c.prefix, c.folders); !slices.Equal(got, c.want) {
			t.Errorf("Candidates(%q, folders %v) = %q, want %q", c.prefix, c.folders, got, c.want)
		}
	}
}

func BenchmarkCandidates100k(b *testing.B) {
	var names []string
	for i := range 100_000 {
		names = append(names, fmt.Sprintf("app/f%03d/KEY_%06d", i%1000, i))
	}
	sort.Strings(names)
	for b.Loop() {
		if len(Candidates(names, "app/f", false)) != 1000 {
			b.Fatal("want 1000 folders")
		}
	}
}

func TestOfferAFolderAsItsOwnAnswer(t *testing.T) {
	names := []string{"app/dev/A", "app/prod/B", "app/prod/C", "top"}
	for _, c := range []struct {
		typed       string
		foldersOnly bool
		want        string
		into        bool
	}{
		{"app/", true, "app/dev/ app/prod/", true},
		{"app/prod", true, "app/prod/", true},
		{"app/prod/", true, "app/prod", false}, // nothing further: the folder itself
		{"app/prod/", false, "app/prod/B app/prod/C", false},
		{"t", false, "top", false},
		{"none/", true, "", false},
	} {
		out, into := Offer(names, c.typed, c.foldersOnly)
		if got := strings.Join(out, " "); got != c.want || into != c.into {
			t.Errorf("Offer(%q, %v) = %q, %v; want %q, %v", c.typed, c.foldersOnly, got, into, c.want, c.into)
		}
	}
}
