package vault

// Benchmarks for the operations a hush command performs. Run them with
//
//	go test -run '^$' -bench . ./vault/
//
// The vaults of 100, 10,000 and 100,000 secrets are built once per test
// binary run, on first use, under one folder in os.TempDir named
// hush-vault-bench-*; TestMain removes it when the run ends. A plain
// `go test ./vault/` builds none of them.

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/hush-secrets/hush/crypto"
)

// benchSizes are the vault sizes every per-size benchmark runs at.
var benchSizes = []int{100, 10_000, 100_000}

const (
	benchFolders   = 1000 // secrets are spread over this many folders
	benchBatch     = 5000 // secrets per SetMany while building a fixture
	benchValueSize = 40
)

// benchName is the name of secret i of a fixture: folder i mod 1000, so one
// folder holds about n/1000 secrets (at least one).
func benchName(i int) string {
	return fmt.Sprintf("app/f%03d/KEY_%06d", i%benchFolders, i)
}

// benchValue is the fixture's value of secret i: 40 bytes.
func benchValue(i int) []byte {
	return fmt.Appendf(nil, "fixture-value-%06d-abcdefghijklmnopqrs", i)
}

// benchFixture is a built vault file and the key that opens it.
type benchFixture struct {
	path string
	n    int
	key  *crypto.Key
	err  error
}

var benchFixtures struct {
	sync.Mutex
	dir string // created on first use; removed by TestMain
	m   map[int]*benchFixture
}

// TestMain runs the tests and benchmarks, then removes the fixture folder.
func TestMain(m *testing.M) {
	m.Run()
	benchFixtures.Lock()
	defer benchFixtures.Unlock()
	if benchFixtures.dir != "" {
		os.RemoveAll(benchFixtures.dir)
	}
}

// fixture returns the vault of n secrets, building it on first use. A build
// that failed fails every benchmark asking for it.
func fixture(b *testing.B, n int) *benchFixture {
	b.Helper()
	benchFixtures.Lock()
	defer benchFixtures.Unlock()
	f, ok := benchFixtures.m[n]
	if !ok {
		f = buildFixture(n)
		if benchFixtures.m == nil {
			benchFixtures.m = map[int]*benchFixture{}
		}
		benchFixtures.m[n] = f
	}
	if f.err != nil {
		b.Fatalf("building the %d-secret fixture: %v", n, f.err)
	}
	return f
}

// buildFixture is called with benchFixtures locked.
func buildFixture(n int) *benchFixture {
	f := &benchFixture{n: n}
	if benchFixtures.dir == "" {
		dir, err := os.MkdirTemp("", "hush-vault-bench-")
		if err != nil {
			f.err = err
			return f
		}
		benchFixtures.dir = dir
	}
	f.path = filepath.Join(benchFixtures.dir, fmt.Sprintf("n%d", n), "vault.db")
	v, err := Create(f.path, testPass, CreateOptions{KDF: crypto.FloorKDF})
	if err != nil {
		f.err = err
		return f
	}
	defer v.Close()
	now := time.Now()
	reqs := make([]SetRequest, 0, benchBatch)
	for start := 0; start < n; start += benchBatch {
		reqs = reqs[:0]
		for i := start; i < min(start+benchBatch, n); i++ {
			reqs = append(reqs, SetRequest{Name: benchName(i), Value: benchValue(i)})
		}
		if _, err := v.SetMany(reqs, now); err != nil {
			f.err = err
			return f
		}
	}
	if f.key, f.err = v.Key(); f.err != nil {
		return f
	}
	if count, err := v.Count(); err != nil || count != n {
		f.err = fmt.Errorf("fixture holds %d secrets (%v), want %d", count, err, n)
	}
	return f
}

// open opens the fixture with its key, skipping Argon2. The handle is
// closed when the benchmark ends.
func (f *benchFixture) open(b *testing.B) *Vault {
	b.Helper()
	v, err := Open(f.path)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { v.Close() })
	if err := v.UnlockWithKey(f.key); err != nil {
		b.Fatal(err)
	}
	return v
}

// randomNames returns count names of existing secrets of an n-secret
// fixture, picked with a fixed seed so runs are comparable.
func randomNames(n, count int) []string {
	r := rand.New(rand.NewPCG(1, uint64(n)))
	names := make([]string, count)
	for i := range names {
		names[i] = benchName(r.IntN(n))
	}
	return names
}

// runSizes runs fn as one sub-benchmark per vault size.
func runSizes(b *testing.B, fn func(b *testing.B, f *benchFixture)) {
	for _, n := range benchSizes {
		b.Run("n="+strconv.Itoa(n), func(b *testing.B) {
			fn(b, fixture(b, n))
		})
	}
}

// BenchmarkUnlockDefault is Open + Unlock (Argon2id at crypto.DefaultKDF)
// + Close: what each command pays when no key is cached.
func BenchmarkUnlockDefault(b *testing.B) {
	path := filepath.Join(b.TempDir(), "vaults", "default.db")
	v, err := Create(path, testPass, CreateOptions{KDF: crypto.DefaultKDF})
	if err != nil {
		b.Fatal(err)
	}
	if err := v.Close(); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		v, err := Open(path)
		if err != nil {
			b.Fatal(err)
		}
		if err := v.Unlock(testPass); err != nil {
			b.Fatal(err)
		}
		v.Close()
	}
}

// BenchmarkGet reads the current version of a random existing secret.
func BenchmarkGet(b *testing.B) {
	runSizes(b, func(b *testing.B, f *benchFixture) {
		v := f.open(b)
		names := randomNames(f.n, 4096)
		i := 0
		b.ReportAllocs()
		for b.Loop() {
			s, err := v.Get(names[i%len(names)])
			if err != nil {
				b.Fatal(err)
			}
			if len(s.Value) != benchValueSize {
				b.Fatalf("%s: value of %d bytes", s.Name, len(s.Value))
			}
			i++
		}
	})
}

// benchSetCounter makes every value BenchmarkSet writes new, across runs of
// the benchmark within one binary, so each Set really adds a version.
var benchSetCounter uint64

// BenchmarkSet writes a new 40-byte value to a random existing secret: one
// transaction, one new version. It adds versions to the shared fixture,
// which the benchmarks after it then read around.
func BenchmarkSet(b *testing.B) {
	runSizes(b, func(b *testing.B, f *benchFixture) {
		v := f.open(b)
		names := randomNames(f.n, 4096)
		value := []byte("set-00000000000000000000-abcdefghijklmno")
		i := 0
		b.ReportAllocs()
		for b.Loop() {
			benchSetCounter++
			strconv.AppendUint(value[:4], benchSetCounter+1e19, 10) // 20 digits, in place
			res, err := v.Set(names[i%len(names)], value, Update{})
			if err != nil {
				b.Fatal(err)
			}
			if !res.Changed || res.Created {
				b.Fatalf("Set %s: %+v, want a new version", res.Name, res)
			}
			i++
		}
	})
}

// BenchmarkList lists every secret (names and metadata, no values) as
// `hush ls` does: after the first List, from the sealed listing cache.
func BenchmarkList(b *testing.B) {
	runSizes(b, func(b *testing.B, f *benchFixture) {
		v := f.open(b)
		if _, err := v.List(""); err != nil { // writes the cache
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			es, err := v.List("")
			if err != nil {
				b.Fatal(err)
			}
			if len(es) != f.n {
				b.Fatalf("List returned %d secrets, want %d", len(es), f.n)
			}
		}
		b.ReportMetric(float64(f.n), "secrets")
	})
}

// BenchmarkListUncached lists every secret opening and checking every row:
// what the first List after a change costs (without writing the cache).
func BenchmarkListUncached(b *testing.B) {
	runSizes(b, func(b *testing.B, f *benchFixture) {
		v := f.open(b)
		b.ReportAllocs()
		for b.Loop() {
			es, err := v.list("")
			if err != nil {
				b.Fatal(err)
			}
			if len(es) != f.n {
				b.Fatalf("List returned %d secrets, want %d", len(es), f.n)
			}
		}
		b.ReportMetric(float64(f.n), "secrets")
	})
}

// BenchmarkChildren reads one folder's secrets with their values, as
// `hush run --from` and `hush export` do.
// BenchmarkIndex is what the terminal UI pays to open: names only, with
// no listing cache (BenchmarkIndexFromListCache: with one).
func BenchmarkIndex(b *testing.B) {
	runSizes(b, func(b *testing.B, f *benchFixture) {
		os.Remove(ListCachePath(f.path))
		v := f.open(b)
		b.ReportAllocs()
		for b.Loop() {
			es, err := v.Index()
			if err != nil {
				b.Fatal(err)
			}
			if len(es) != f.n {
				b.Fatalf("Index returned %d secrets, want %d", len(es), f.n)
			}
		}
		b.ReportMetric(float64(f.n), "secrets")
	})
}

func BenchmarkChildren(b *testing.B) {
	runSizes(b, func(b *testing.B, f *benchFixture) {
		v := f.open(b)
		want := max(f.n/benchFolders, 1)
		b.ReportAllocs()
		for b.Loop() {
			ss, err := v.Children("app/f007")
			if err != nil {
				b.Fatal(err)
			}
			if len(ss) != want {
				b.Fatalf("Children returned %d secrets, want %d", len(ss), want)
			}
		}
		b.ReportMetric(float64(want), "secrets")
	})
}

// BenchmarkOpenUnlockWithKeyGet is one whole `hush get` with the key in
// hand: Open + UnlockWithKey + Get + Close of the largest vault.
func BenchmarkOpenUnlockWithKeyGet(b *testing.B) {
	const n = 100_000
	b.Run("n="+strconv.Itoa(n), func(b *testing.B) {
		f := fixture(b, n)
		names := randomNames(n, 4096)
		i := 0
		b.ReportAllocs()
		for b.Loop() {
			v, err := Open(f.path)
			if err != nil {
				b.Fatal(err)
			}
			if err := v.UnlockWithKey(f.key); err != nil {
				b.Fatal(err)
			}
			if _, err := v.Get(names[i%len(names)]); err != nil {
				b.Fatal(err)
			}
			v.Close()
			i++
		}
	})
}

// BenchmarkSetManyNew10k writes 10,000 new secrets in one SetMany, into a
// new vault each time: what `hush import` of a 10,000-line dotenv file
// does after parsing.
func BenchmarkSetManyNew10k(b *testing.B) {
	const n = 10_000
	reqs := make([]SetRequest, n)
	for i := range reqs {
		reqs[i] = SetRequest{Name: fmt.Sprintf("app/KEY_%06d", i), Value: benchValue(i)}
	}
	dir := b.TempDir()
	i := 0
	for b.Loop() {
		b.StopTimer()
		i++
		v, err := Create(filepath.Join(dir, fmt.Sprintf("v%d.db", i)), testPass, CreateOptions{KDF: crypto.FloorKDF})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if _, err := v.SetMany(reqs, time.Time{}); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		v.Close()
		b.StartTimer()
	}
}

// BenchmarkIndexHead is what the terminal UI reads before its first
// screen: the first 500 rows and the count. Compare with BenchmarkIndex
// (what it waited for before).
func BenchmarkIndexHead(b *testing.B) {
	runSizes(b, func(b *testing.B, f *benchFixture) {
		v := f.open(b)
		for b.Loop() {
			es, total, err := v.IndexHead(500)
			if err != nil {
				b.Fatal(err)
			}
			if total != f.n || len(es) != min(500, f.n) {
				b.Fatalf("IndexHead returned %d of %d secrets, want %d of %d", len(es), total, min(500, f.n), f.n)
			}
		}
	})
}

// BenchmarkListCacheDigest is the digest of the vault's bytes that a
// cached List computes to know the cache is current.
func BenchmarkListCacheDigest(b *testing.B) {
	runSizes(b, func(b *testing.B, f *benchFixture) {
		v := f.open(b)
		for b.Loop() {
			if _, err := v.filesDigest(); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkIndexFromListCache is the terminal UI's index when an `ls`
// has written the listing cache since the vault last changed.
func BenchmarkIndexFromListCache(b *testing.B) {
	runSizes(b, func(b *testing.B, f *benchFixture) {
		v := f.open(b)
		if _, err := v.List(""); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			es, err := v.Index()
			if err != nil {
				b.Fatal(err)
			}
			if len(es) != f.n {
				b.Fatalf("Index returned %d secrets, want %d", len(es), f.n)
			}
		}
	})
}

// BenchmarkSetManyAgain10k writes the same 10,000 names again into the
// vault that holds them, as a second `hush import` of a file does:
// "unchanged" (the same values: nothing is written but the audit entry)
// and "updated" (every value changed: a version each). Each iteration
// starts from a copy of the same vault, made untimed.
func BenchmarkSetManyAgain10k(b *testing.B) {
	const n = 10_000
	reqs := make([]SetRequest, n)
	for i := range reqs {
		reqs[i] = SetRequest{Name: fmt.Sprintf("app/KEY_%06d", i), Value: benchValue(i)}
	}
	dir := b.TempDir()
	template := filepath.Join(dir, "template.db")
	v, err := Create(template, testPass, CreateOptions{KDF: crypto.FloorKDF})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := v.SetMany(reqs, time.Time{}); err != nil {
		b.Fatal(err)
	}
	key, _ := v.Key()
	v.Close()
	changed := make([]SetRequest, n)
	for i := range changed {
		changed[i] = SetRequest{Name: reqs[i].Name, Value: fmt.Appendf(nil, "changed-%d", i)}
	}
	for _, tc := range []struct {
		what string
		reqs []SetRequest
	}{{"unchanged", reqs}, {"updated", changed}} {
		b.Run(tc.what, func(b *testing.B) {
			i := 0
			for b.Loop() {
				b.StopTimer()
				i++
				path := filepath.Join(dir, fmt.Sprintf("%s%d.db", tc.what, i))
				copyVaultFile(b, template, path)
				v, err := Open(path)
				if err != nil {
					b.Fatal(err)
				}
				if err := v.UnlockWithKey(key); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				if _, err := v.SetMany(tc.reqs, time.Time{}); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				v.Close()
				b.StartTimer()
			}
		})
	}
}

// copyVaultFile copies a closed vault's file and its audit log.
func copyVaultFile(b *testing.B, from, to string) {
	b.Helper()
	for _, p := range [][2]string{{from, to}, {AuditPath(from), AuditPath(to)}} {
		data, err := os.ReadFile(p[0])
		if err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(p[1], data, 0o600); err != nil {
			b.Fatal(err)
		}
	}
}
