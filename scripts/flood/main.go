// Command flood measures a real `hush server`'s memory under the floods of
// issue 14: N connections each sending most of a declared 16 MiB body to
// the unauthenticated POST /v1/join, then N more to POST /v1/push with a
// real device id and a garbage signature. It prints the server's resident
// memory (VmRSS, and the peak VmHWM) from /proc before, during and after
// each flood. Linux only; figures go in docs/benchmarks.md.
//
//	go build -o /tmp/hush ./cmd/hush && go run ./scripts/flood -hush /tmp/hush
package main

import (
	"bufio"
	"context"
	"encoding/base64"
	"flag"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hush-secrets/hush/crypto"
	"github.com/hush-secrets/hush/sync/client"
	"github.com/hush-secrets/hush/sync/wire"
	"github.com/hush-secrets/hush/vault"
)

func main() {
	hush := flag.String("hush", "hush", "the hush binary to run as the server")
	conns := flag.Int("conns", 60, "connections per flood")
	send := flag.Int("send", 15<<20, "body bytes each connection sends")
	declare := flag.Int("declare", 16<<20, "body bytes each connection declares (Content-Length)")
	hold := flag.Duration("hold", 10*time.Second, "how long the connections stay open after sending")
	flag.Parse()
	if err := run(*hush, *conns, *send, *declare, *hold); err != nil {
		fmt.Fprintln(os.Stderr, "flood:", err)
		os.Exit(1)
	}
}

func run(hush string, conns, send, declare int, hold time.Duration) error {
	dir, err := os.MkdirTemp("", "hush-flood-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	addrFile := filepath.Join(dir, "addr")
	srv := exec.Command(hush, "server", "--listen", "127.0.0.1:0", "--addr-file", addrFile, "--db", filepath.Join(dir, "server.db"))
	srv.Env = append(os.Environ(), "HUSH_HOME="+dir)
	if err := srv.Start(); err != nil {
		return err
	}
	defer func() { srv.Process.Kill(); srv.Wait() }()
	var base string
	for deadline := time.Now().Add(60 * time.Second); ; {
		b, err := os.ReadFile(addrFile)
		if err == nil && strings.HasSuffix(string(b), "\n") {
			base = strings.TrimSpace(string(b))
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the server did not start")
		}
		time.Sleep(50 * time.Millisecond)
	}
	u, _ := url.Parse(base)
	pid := srv.Process.Pid

	// A real team, so that the push flood names a real device.
	v, err := vault.Create(filepath.Join(dir, "v.db"), []byte("correct horse battery"), vault.CreateOptions{KDF: crypto.FloorKDF})
	if err != nil {
		return err
	}
	defer v.Close()
	st, err := client.Create(context.Background(), v, client.CreateOptions{Server: base, Name: "flood", Device: "d", Member: "m"})
	if err != nil {
		return err
	}
	fmt.Printf("server pid %d at %s; %d connections x %d MiB sent of %d MiB declared\n", pid, base, conns, send>>20, declare>>20)
	report(pid, "idle")
	garbage := base64.StdEncoding.EncodeToString(make([]byte, 64))
	for _, f := range []struct{ name, head string }{
		{"POST /v1/join (unauthenticated)", "POST /v1/join HTTP/1.1\r\n"},
		{"POST /v1/push (real device, bad signature)", "POST /v1/push HTTP/1.1\r\n" +
			wire.HeaderDevice + ": " + st.Device.ID + "\r\n" + wire.HeaderTime + ": " + strconv.FormatInt(time.Now().Unix(), 10) + "\r\n" +
			wire.HeaderNonce + ": " + wire.NewID() + "\r\n" + wire.HeaderSignature + ": " + garbage + "\r\n"},
	} {
		head := f.head + "Host: " + u.Host + "\r\nContent-Type: application/json\r\nContent-Length: " + strconv.Itoa(declare) + "\r\n\r\n"
		sent, refused := flood(u.Host, head, conns, send, hold, pid, f.name)
		fmt.Printf("%s: %d MiB sent in all; %d connections answered or cut before sending all\n", f.name, sent>>20, refused)
		time.Sleep(5 * time.Second)
		report(pid, f.name+", 5 s after the connections closed")
	}
	return nil
}

// flood opens n connections, sends head and up to send body bytes on
// each, samples the server's memory while they stay open, then closes them.
func flood(host, head string, n, send int, hold time.Duration, pid int, name string) (sent int64, refused int) {
	var wg sync.WaitGroup
	var mu sync.Mutex
	cs := make([]net.Conn, 0, n)
	chunk := make([]byte, 64<<10)
	for i := range chunk {
		chunk[i] = ' '
	}
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := net.DialTimeout("tcp", host, 10*time.Second)
			if err != nil {
				mu.Lock()
				refused++
				mu.Unlock()
				return
			}
			mu.Lock()
			cs = append(cs, c)
			mu.Unlock()
			c.SetWriteDeadline(time.Now().Add(2 * time.Minute))
			w := bufio.NewWriter(c)
			w.WriteString(head)
			var k int
			for k < send {
				m, err := w.Write(chunk[:min(len(chunk), send-k)])
				k += m
				if err != nil {
					break
				}
			}
			if w.Flush() != nil || k < send {
				mu.Lock()
				refused++
				mu.Unlock()
			}
			mu.Lock()
			sent += int64(k)
			mu.Unlock()
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	peak := int64(0)
	for waiting := true; waiting; {
		select {
		case <-done:
			waiting = false
		case <-tick.C:
			rss, _ := mem(pid)
			peak = max(peak, rss)
		}
	}
	end := time.Now().Add(hold)
	for time.Now().Before(end) {
		rss, _ := mem(pid)
		peak = max(peak, rss)
		time.Sleep(500 * time.Millisecond)
	}
	rss, hwm := mem(pid)
	fmt.Printf("%s: during: RSS now %d MiB, sampled peak %d MiB, process peak (VmHWM) %d MiB\n", name, rss>>20, max(peak, rss)>>20, hwm>>20)
	for _, c := range cs {
		c.Close()
	}
	return sent, refused
}

func report(pid int, when string) {
	rss, hwm := mem(pid)
	fmt.Printf("%s: RSS %d MiB (VmHWM %d MiB)\n", when, rss>>20, hwm>>20)
}

// mem reads a process's resident memory and its peak, in bytes.
func mem(pid int) (rss, hwm int64) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) < 2 {
			continue
		}
		n, _ := strconv.ParseInt(f[1], 10, 64)
		switch f[0] {
		case "VmRSS:":
			rss = n << 10
		case "VmHWM:":
			hwm = n << 10
		}
	}
	return rss, hwm
}
