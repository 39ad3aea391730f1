// Command pair runs commands alternately, N rounds, and prints for each the
// median CPU time (user + system of the process and the children it waited
// for, from wait4) and the median wall time, with the ratio of each
// command's CPU time to the last command's. Running them in turn makes
// every command see the same moment's load on a shared machine, so the
// ratios mean something even when the absolute times do not.
// docs/benchmarks.md reports its figures.
//
//	go run ./scripts/pair 41 /tmp/hush get NAME --- /tmp/floor VAULT get NAME
//
// Commands are separated by "---"; a command of one word runs through sh -c.
// Their output is discarded; a command that fails stops the run.
package main

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"time"
)

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: pair ROUNDS CMD [ARG...] [--- CMD [ARG...]]...")
		os.Exit(2)
	}
	n, err := strconv.Atoi(os.Args[1])
	if err != nil || n < 1 {
		fmt.Fprintf(os.Stderr, "pair: %q is not a number of rounds\n", os.Args[1])
		os.Exit(2)
	}
	var cmds [][]string
	cur := []string{}
	for _, a := range os.Args[2:] {
		if a == "---" {
			cmds = append(cmds, cur)
			cur = []string{}
			continue
		}
		cur = append(cur, a)
	}
	cmds = append(cmds, cur)
	for _, c := range cmds {
		if len(c) == 0 {
			fmt.Fprintln(os.Stderr, "pair: an empty command")
			os.Exit(2)
		}
	}
	cpu := make([][]float64, len(cmds))
	wall := make([][]float64, len(cmds))
	for range n {
		for j, c := range cmds {
			cmd := exec.Command(c[0], c[1:]...)
			if len(c) == 1 {
				cmd = exec.Command("sh", "-c", c[0])
			}
			cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
			start := time.Now()
			if err := cmd.Run(); err != nil {
				fmt.Fprintf(os.Stderr, "pair: %s: %v\n", strings.Join(c, " "), err)
				os.Exit(1)
			}
			wall[j] = append(wall[j], ms(time.Since(start)))
			cpu[j] = append(cpu[j], ms(cmd.ProcessState.UserTime()+cmd.ProcessState.SystemTime()))
		}
	}
	last := median(cpu[len(cmds)-1])
	for j, c := range cmds {
		m := median(cpu[j])
		fmt.Printf("%-50.50s cpu %9.2f ms  wall %9.2f ms  cpu ratio to the last %.2f\n", strings.Join(c, " "), m, median(wall[j]), m/last)
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func median(x []float64) float64 {
	x = slices.Clone(x)
	slices.Sort(x)
	return x[len(x)/2]
}
