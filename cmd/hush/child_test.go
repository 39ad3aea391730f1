//go:build linux

package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/term"
)

// hushchild is the program `hush run` starts in the tests. It reports what
// a real program would see: its environment, its parent, its signals.
//
//	hushchild env VAR...          print VAR=value or VAR unset, one per line
//	hushchild exit N              exit with N
//	hushchild kill SIG            kill itself with signal SIG (a number)
//	hushchild parent              print the parent's command line
//	hushchild print TEXT...       print the texts, one per line
//	hushchild chunks N TEXT       print TEXT in N-byte writes, 20 ms apart
//	hushchild cat                 copy stdin to stdout
//	hushchild isatty              print whether stdin/stdout are terminals
//	hushchild signals PIDFILE [LOG] write the pid, then print (and log) each forwarded
//	                              signal; exit 42 after SIGTERM
//	hushchild sleep PIDFILE       write the pid, then sleep for a minute
//	hushchild envall              print the whole environment
//	hushchild pg VAR SQL...       connect to the PostgreSQL URL in $VAR, run
//	                              each query, print "ok: <first value>" or
//	                              "error: <message>"; exit 2 if it cannot connect
//	hushchild pgsleep VAR PIDFILE URLFILE
//	                              connect to $VAR, write the URL to URLFILE (a
//	                              test's eyes only) and the pid, then sleep for
//	                              a minute with the session open
func hushchild() int {
	args := os.Args[1:]
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "hushchild: no command")
		return 2
	}
	switch args[0] {
	case "env":
		for _, k := range args[1:] {
			if v, ok := os.LookupEnv(k); ok {
				fmt.Printf("%s=%s\n", k, v)
			} else {
				fmt.Printf("%s unset\n", k)
			}
		}
	case "exit":
		n, _ := strconv.Atoi(args[1])
		return n
	case "kill":
		n, _ := strconv.Atoi(args[1])
		signal.Reset()
		syscall.Kill(os.Getpid(), syscall.Signal(n))
		time.Sleep(5 * time.Second)
		return 99
	case "parent":
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", os.Getppid()))
		fmt.Printf("parent: %s\n", strings.ReplaceAll(strings.TrimRight(string(b), "\x00"), "\x00", " "))
	case "print":
		for _, s := range args[1:] {
			fmt.Println(s)
		}
	case "chunks":
		n, _ := strconv.Atoi(args[1])
		text := args[2] + "\n"
		for i := 0; i < len(text); i += n {
			os.Stdout.WriteString(text[i:min(i+n, len(text))])
			time.Sleep(20 * time.Millisecond)
		}
	case "cat":
		io.Copy(os.Stdout, os.Stdin)
	case "isatty":
		fmt.Printf("stdin tty: %v, stdout tty: %v\n", term.IsTerminal(0), term.IsTerminal(1))
	case "signals":
		sigs := make(chan os.Signal, 16)
		signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT,
			syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGWINCH, syscall.SIGALRM)
		// An optional LOGFILE gets each line too, so that a script can wait
		// for one signal to arrive before it sends the next: pending
		// standard signals are delivered lowest number first, not in the
		// order they were sent.
		var log *os.File
		if len(args) > 2 {
			f, err := os.OpenFile(args[2], os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 1
			}
			log = f
		}
		writePid(args[1])
		fmt.Println("ready")
		timeout := time.After(2 * time.Minute)
		for {
			select {
			case s := <-sigs:
				fmt.Printf("got %v\n", s)
				if log != nil {
					fmt.Fprintf(log, "got %v\n", s)
				}
				if s == syscall.SIGTERM {
					return 42
				}
			case <-timeout:
				fmt.Println("timed out")
				return 1
			}
		}
	case "sleep":
		writePid(args[1])
		time.Sleep(time.Minute)
	case "envall":
		for _, kv := range os.Environ() {
			fmt.Println(kv)
		}
	case "pg":
		return childPG(args[1], args[2:])
	case "pgsleep":
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		conn, err := pgx.Connect(ctx, os.Getenv(args[1]))
		cancel()
		if err != nil {
			fmt.Printf("connect: %v\n", err)
			return 2
		}
		defer conn.Close(context.Background())
		os.WriteFile(args[3], []byte(os.Getenv(args[1])), 0o600)
		writePid(args[2])
		time.Sleep(time.Minute)
	default:
		fmt.Fprintf(os.Stderr, "hushchild: unknown command %q\n", args[0])
		return 2
	}
	return 0
}

func childPG(variable string, queries []string) int {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, os.Getenv(variable))
	if err != nil {
		fmt.Printf("connect: %v\n", err)
		return 2
	}
	defer conn.Close(ctx)
	for _, q := range queries {
		var v any
		rows, err := conn.Query(ctx, q)
		if err == nil {
			if rows.Next() {
				vals, verr := rows.Values()
				if verr == nil && len(vals) > 0 {
					v = vals[0]
				}
			}
			rows.Close()
			err = rows.Err()
		}
		if err != nil {
			fmt.Printf("error: %v\n", err)
			continue
		}
		fmt.Printf("ok: %v\n", v)
	}
	return 0
}

func writePid(path string) {
	tmp := path + ".tmp"
	os.WriteFile(tmp, []byte(strconv.Itoa(os.Getpid())), 0o644)
	os.Rename(tmp, path)
}
