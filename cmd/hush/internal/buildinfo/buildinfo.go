// Package buildinfo says which hush is running: the version, commit and
// date a release build stamps into package main (-ldflags "-X
// main.version=..."; the Makefile and .goreleaser.yaml do), else what `go
// build` recorded (the module version, the VCS revision and time), and the
// Go version and platform.
package buildinfo

import (
	"runtime"
	"runtime/debug"
)

// Info is one build of hush.
type Info struct {
	Version, Commit, Date string
}

// Read is the build stamped with version, commit and date ("" where the
// linker set nothing: then the module version and VCS stamp, or "devel").
func Read(version, commit, date string) Info {
	i := Info{Version: version, Commit: commit, Date: date}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		bi = &debug.BuildInfo{}
	}
	if i.Version == "" {
		i.Version = "devel"
		if bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			i.Version = bi.Main.Version
		}
	}
	if i.Commit == "" || i.Date == "" {
		for _, s := range bi.Settings {
			switch {
			case s.Key == "vcs.revision" && commit == "":
				i.Commit = s.Value
				if len(i.Commit) > 12 {
					i.Commit = i.Commit[:12]
				}
			case s.Key == "vcs.time" && date == "":
				i.Date = s.Value
			}
		}
	}
	return i
}

// String is what `hush version` prints.
func (i Info) String() string {
	stamp := ""
	if i.Commit != "" {
		stamp = "; commit " + i.Commit
	}
	if i.Date != "" {
		stamp += "; built " + i.Date
	}
	return "hush " + i.Version + " (" + runtime.Version() + ", " + runtime.GOOS + "/" + runtime.GOARCH + stamp + ")"
}

// JSON is what `hush version --json` prints.
func (i Info) JSON() map[string]string {
	return map[string]string{"version": i.Version, "commit": i.Commit, "date": i.Date, "go": runtime.Version(), "os": runtime.GOOS, "arch": runtime.GOARCH}
}
