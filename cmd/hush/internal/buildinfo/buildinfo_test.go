package buildinfo

import (
	"runtime"
	"strings"
	"testing"
)

func TestStampedBuildWinsOverWhatGoRecorded(t *testing.T) {
	i := Read("v1.2.3", "0123456789ab", "2026-12-07T00:00:00Z")
	if i != (Info{"v1.2.3", "0123456789ab", "2026-12-07T00:00:00Z"}) {
		t.Fatalf("Read = %+v", i)
	}
	want := "hush v1.2.3 (" + runtime.Version() + ", " + runtime.GOOS + "/" + runtime.GOARCH + "; commit 0123456789ab; built 2026-12-07T00:00:00Z)"
	if i.String() != want {
		t.Fatalf("String = %q, want %q", i.String(), want)
	}
	if j := i.JSON(); j["version"] != "v1.2.3" || j["commit"] != "0123456789ab" || j["go"] != runtime.Version() {
		t.Fatalf("JSON = %v", j)
	}
}

func TestUnstampedBuildSaysDevelOrTheModuleVersion(t *testing.T) {
	i := Read("", "", "")
	if i.Version == "" || strings.Contains(i.Version, "(devel)") {
		t.Fatalf("Version = %q", i.Version)
	}
	if len(i.Commit) > 12 {
		t.Fatalf("Commit = %q: longer than 12", i.Commit)
	}
}
