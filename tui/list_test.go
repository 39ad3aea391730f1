package tui_test

import (
	"strings"
	"testing"
	"time"

	"github.com/hush-secrets/hush/tui"
	"github.com/hush-secrets/hush/vault"
)

// rowOf is the screen line that shows name (cut or not: part is a piece of
// it that stays).
func rowsWith(s, part string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, part) {
			out = append(out, l)
		}
	}
	return out
}

func TestPositionIndicator(t *testing.T) {
	path := tui.NewFixtureVault(t, manySecrets(40))
	u := tui.StartUI(t, tui.FixtureOptions(t, path, nil))
	u.WaitText("40 secrets", "1/40")
	u.Press("j", "j")
	u.WaitText("3/40")
	u.Press("G")
	u.WaitText("40/40")
	u.Press("/")
	u.Type("1")
	u.WaitText("13 of 40", "1/13") // 1, 10-19, 21, 31
	u.Press("esc")
	u.WaitText("/ to filter")
	u.Press("q")
	u.Finish()
}

// Deleting in a filtered list keeps the filter and the cursor's place: the
// next match moves under it.
func TestDeleteInAFilteredListKeepsThePlace(t *testing.T) {
	path := tui.NewFixtureVault(t, []tui.FixtureSecret{
		{Name: "app/a/ONE", Value: "1"}, {Name: "app/b/TWO", Value: "2"}, {Name: "app/c/THREE", Value: "3"},
		{Name: "app/d/FOUR", Value: "4"}, {Name: "other/FIVE", Value: "5"},
	})
	u := tui.StartUI(t, tui.FixtureOptions(t, path, nil))
	u.WaitText("5 secrets")
	u.Press("/")
	u.Type("app/")
	u.WaitText("4 of 5")
	u.Press("down") // out of the filter field, onto the list
	u.Press("j", "j")
	u.WaitText("▸ app/c/THREE", "3/4")
	u.Press("d")
	u.WaitText("Remove app/c/THREE?")
	u.Press("y")
	s := u.WaitText("removed app/c/THREE", "3 of 4")
	if !strings.Contains(s, "▸ app/d/FOUR") || !strings.Contains(s, "3/3") {
		t.Errorf("the cursor did not stay in its place:\n%s", s)
	}
	if strings.Contains(s, "other/FIVE") {
		t.Errorf("the filter was dropped:\n%s", s)
	}
	u.Press("q")
	u.Finish()
}

// At 60×16 the middle of a path is cut, not its start: the environments
// stay apart.
func TestNarrowTerminalKeepsPathsApart(t *testing.T) {
	const dev, prod = "app/dev/STRIPE_WEBHOOK_SIGNING_SECRET", "app/prod/STRIPE_WEBHOOK_SIGNING_SECRET"
	path := tui.NewFixtureVault(t, []tui.FixtureSecret{{Name: dev, Value: "a"}, {Name: prod, Value: "b"}})
	u := tui.StartUISized(t, tui.FixtureOptions(t, path, nil), 60, 16)
	s := u.WaitText("2 secrets", "SECRET")
	rows := rowsWith(s, "SECRET")
	if len(rows) != 2 {
		t.Fatalf("want two rows:\n%s", s)
	}
	a, b := strings.TrimSpace(strings.TrimPrefix(rows[0], "▸")), strings.TrimSpace(rows[1])
	na, nb := strings.Fields(a)[0], strings.Fields(b)[0]
	if na == nb {
		t.Errorf("both rows show %q:\n%s", na, s)
	}
	for _, n := range []string{na, nb} {
		if !strings.HasPrefix(n, "app/") || !strings.HasSuffix(n, "SECRET") {
			t.Errorf("%q does not keep the first segment and the name:\n%s", n, s)
		}
	}
	u.Press("q")
	u.Finish()
}

// At 200 columns the columns stay next to the names instead of 150
// columns away.
func TestWideTerminalKeepsColumnsTogether(t *testing.T) {
	path := tui.NewFixtureVault(t, tui.FixtureSecrets)
	u := tui.StartUISized(t, tui.FixtureOptions(t, path, nil), 200, 30)
	s := u.WaitText("3 secrets", "app/prod/DATABASE_URL")
	row := rowsWith(s, "app/prod/DATABASE_URL")[0]
	if i := strings.Index(row, string(vault.TypePassword)); i < 0 || i > len("  app/prod/DATABASE_URL")+4 {
		t.Errorf("the type column is at %d, far from the name:\n%s", i, row)
	}
	u.Press("q")
	u.Finish()
}

// A folder's rotation policy shows in the detail of the secrets it covers,
// with the folder it comes from.
func TestDetailShowsTheFolderPolicy(t *testing.T) {
	path := tui.NewFixtureVault(t, tui.FixtureSecrets)
	{
		v := tui.UnlockFixtureVault(t, path)
		if err := v.SetPolicy("app/prod", 90*24*time.Hour); err != nil {
			t.Fatal(err)
		}
		v.Close()
	}
	u := tui.StartUI(t, tui.FixtureOptions(t, path, nil))
	u.WaitText("3 secrets")
	u.Press("j", "enter") // app/prod/DATABASE_URL
	u.WaitText("primary database", "every 90d (from app/prod)")
	// The form says what an empty interval means here.
	u.Press("e")
	u.WaitText("Edit app/prod/DATABASE_URL", "empty: every 90d, from app/prod")
	u.Press("esc")
	u.WaitText("nothing saved")
	u.Press("esc", "k", "enter") // app/dev/API_KEY: no policy
	s := u.WaitText("app/dev/API_KEY", "Version")
	if strings.Contains(s, "90d") {
		t.Errorf("app/prod's policy shown for app/dev:\n%s", s)
	}
	u.Press("q")
	u.Finish()
}

// t shows the list as a tree: folders fold and unfold (enter, ←, →), and
// t again brings the flat list back.
func TestTreeViewFoldsFolders(t *testing.T) {
	path := tui.NewFixtureVault(t, []tui.FixtureSecret{
		{Name: "app/dev/API_KEY", Value: "1"}, {Name: "app/dev/DB_URL", Value: "2"},
		{Name: "app/prod/DB_URL", Value: "3"}, {Name: "ci/TOKEN", Value: "4"},
	})
	u := tui.StartUI(t, tui.FixtureOptions(t, path, nil))
	u.WaitText("4 secrets", "▸ app/dev/API_KEY")
	u.Press("t")
	s := u.WaitText("▾ app/", "▾ dev/", "▾ prod/", "▾ ci/")
	if !regexpMatch(`(?m)^\s+DB_URL\s`, s) {
		t.Errorf("secrets are not under their folders:\n%s", s)
	}
	// The cursor stayed on app/dev/API_KEY; ← folds app/dev.
	u.Press("left")
	s = u.WaitText("▸ dev/  2")
	if strings.Contains(s, "API_KEY") || !strings.Contains(s, "prod/") {
		t.Errorf("folding app/dev hid the wrong rows:\n%s", s)
	}
	// enter on a folder unfolds it; on a secret it opens the detail.
	u.Press("enter")
	u.WaitText("▾ dev/", "API_KEY")
	u.Press("g", "enter") // app/: fold it all
	s = u.WaitText("▸ app/  3", "ci/")
	if strings.Contains(s, "prod/") || strings.Contains(s, "DB_URL") {
		t.Errorf("app/ folded still shows its folders:\n%s", s)
	}
	u.Press("right", "j", "j", "enter") // app/, dev/, API_KEY
	u.WaitText("app/dev/API_KEY", "Version")
	u.Press("esc", "t")
	u.WaitText("app/prod/DB_URL", "ci/TOKEN", "▸ app/dev/API_KEY")
	u.Press("q")
	u.Finish()
}

// A vault larger than the first screen's rows shows those rows at once,
// says the index is still loading (and how far), and then lists every
// secret. No frame shows a value.
func TestLargeIndexShowsFirstRowsWhileLoading(t *testing.T) {
	const n = 1200
	path := tui.NewFixtureVault(t, manySecrets(n))
	u := tui.StartUI(t, tui.FixtureOptions(t, path, nil))
	u.WaitText("1200 secrets", "1/1200")
	var partial string
	for _, f := range u.Frames() {
		if strings.Contains(f, "loading names: 500 of 1200") {
			partial = f
			break
		}
	}
	if partial == "" {
		t.Fatal("no frame showed the first rows while the rest of the index loaded")
	}
	if !strings.Contains(partial, "1200 secrets") || !strings.Contains(partial, "1/500") || len(rowsWith(partial, "RATHER_LONG")) == 0 {
		t.Errorf("the first screen while loading shows no rows or the wrong counts:\n%s", partial)
	}
	for _, f := range u.Frames() {
		if strings.Contains(f, "value-") {
			t.Fatalf("a frame shows a value:\n%s", f)
		}
	}
	if s := u.Screen(); strings.Contains(s, "loading names") {
		t.Errorf("still says loading after the whole index arrived:\n%s", s)
	}
	u.Press("q")
	u.Finish()
}
