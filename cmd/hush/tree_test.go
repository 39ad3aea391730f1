package main

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/hush-secrets/hush/cmd/hush/internal/session"
)

// treeApp is an app writing to out, with an empty HUSH_HOME.
func treeApp(t *testing.T, out *bytes.Buffer) *app {
	a := &app{stdin: strings.NewReader(""), stdout: out, stderr: out}
	a.Session = &session.Session{Env: map[string]string{"HUSH_HOME": t.TempDir()}, Notef: a.notef}
	return a
}

// runTree runs args as Main does, on the tree built for treeArgs (nil: the
// whole tree), and returns what it printed and its exit code.
func runTree(t *testing.T, args, treeArgs []string) (string, int) {
	t.Helper()
	var out bytes.Buffer
	a := treeApp(t, &out)
	root := a.rootCommand(treeArgs)
	root.SetArgs(args)
	root.SetIn(a.stdin)
	root.SetOut(&out)
	root.SetErr(&out)
	code := exitOK
	if err := root.Execute(); err != nil {
		code = report(&out, err)
	}
	return out.String(), code
}

// TestTopCommandsNameThemselves: topCommands, by which a command line
// builds only its own command, lists every command of the whole tree under
// exactly the names (name and aliases) that command answers to. A command
// added to the tree but not here, or an alias added to a command but not
// here, fails: the command line would otherwise build the whole tree for
// it (slower), or build the wrong command for a name.
func TestTopCommandsNameThemselves(t *testing.T) {
	var out bytes.Buffer
	a := treeApp(t, &out)
	seen := map[string]bool{}
	var listed []string
	for _, c := range topCommands {
		cmd := c.build(a)
		want := append([]string{cmd.Name()}, cmd.Aliases...)
		if !slices.Equal(c.names, want) {
			t.Errorf("topCommands lists %v for the command that answers to %v", c.names, want)
		}
		for _, n := range c.names {
			if seen[n] {
				t.Errorf("topCommands lists %q twice", n)
			}
			seen[n] = true
		}
		listed = append(listed, cmd.Name())
	}
	var whole []string
	for _, c := range a.rootCommand(nil).Commands() {
		whole = append(whole, c.Name())
	}
	for _, build := range buildTagCommands {
		listed = append(listed, build(a).Name())
	}
	slices.Sort(listed)
	slices.Sort(whole)
	if !slices.Equal(listed, whole) {
		t.Errorf("the whole tree has the commands %v, topCommands (with the build-tag ones) %v", whole, listed)
	}
}

// TestOneCommandTree: a command line whose first word names a command
// builds that command alone, not the other thirty-odd (the start-up work a
// `hush get` pays; docs/benchmarks.md). If the whole tree is built again
// for every command, this fails.
func TestOneCommandTree(t *testing.T) {
	var out bytes.Buffer
	a := treeApp(t, &out)
	for _, args := range [][]string{{"get", "app/TOKEN"}, {"show", "app/TOKEN"}, {"run", "--from", "app", "--", "env"}, {"team", "status"}} {
		var names []string
		for _, c := range a.rootCommand(args).Commands() {
			names = append(names, c.Name())
		}
		want := []string{args[0]}
		switch args[0] {
		case "show":
			want = []string{"get"}
		}
		if !slices.Equal(names, want) {
			t.Errorf("hush %s: built the commands %v, want only %v", strings.Join(args, " "), names, want)
		}
	}
	// Anything else builds every command.
	for _, args := range [][]string{nil, {}, {"--vault", "x", "get", "n"}, {"help", "get"}, {"completion", "bash"}, {"__complete", "get", ""}, {"gett", "x"}} {
		if n := len(a.rootCommand(args).Commands()); n != len(topCommands)+len(buildTagCommands) {
			t.Errorf("hush %s: built %d commands, want the whole tree's %d", strings.Join(args, " "), n, len(topCommands)+len(buildTagCommands))
		}
	}
}

// TestOneCommandTreeBehavesTheSame: for every command under every name,
// what a person sees from the tree of that command alone (help, a flag
// error, a typo of a subcommand, missing arguments) is exactly what the
// whole tree gives, exit code included. Only lines that stop before a
// command runs are tried: help and usage come from the tree, which is what
// differs.
func TestOneCommandTreeBehavesTheSame(t *testing.T) {
	var out bytes.Buffer
	a := treeApp(t, &out)
	for _, c := range topCommands {
		cmd := c.build(a)
		for _, name := range c.names {
			lines := [][]string{{name, "--help"}, {name, "-h"}, {name, "--no-such-flag"}, {name, "--json", "--no-such-flag"}}
			if cmd.HasSubCommands() {
				lines = append(lines, []string{name}, []string{name, "nosuch"}, []string{name, "--help"})
				for _, sub := range cmd.Commands() {
					lines = append(lines, []string{name, sub.Name(), "--help"}, []string{name, sub.Name() + "x"})
				}
			}
			for _, args := range lines {
				one, oneCode := runTree(t, args, args)
				whole, wholeCode := runTree(t, args, nil)
				if one != whole || oneCode != wholeCode {
					t.Errorf("hush %s: the one-command tree gives (exit %d)\n%s\nthe whole tree (exit %d)\n%s", strings.Join(args, " "), oneCode, one, wholeCode, whole)
				}
				if whole == "" {
					t.Errorf("hush %s printed nothing: the comparison shows nothing", strings.Join(args, " "))
				}
			}
		}
	}
	// The flags every command shares, given after the command, parse the same.
	for _, args := range [][]string{{"get", "--vault", "no such!", "n"}, {"get"}, {"get", "a", "b"}, {"ls", "--json", "--vault", "../x"}} {
		one, oneCode := runTree(t, args, args)
		whole, wholeCode := runTree(t, args, nil)
		if one != whole || oneCode != wholeCode {
			t.Errorf("hush %s: the one-command tree gives (exit %d)\n%s\nthe whole tree (exit %d)\n%s", strings.Join(args, " "), oneCode, one, wholeCode, whole)
		}
	}
}
