package vault

import (
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"
)

// sameAsJSON fails when decodeMeta gives b another result than
// json.Unmarshal into a zero Meta: another error-ness or another value.
// It reports whether the shortcut took b.
func sameAsJSON(t testing.TB, b []byte) bool {
	t.Helper()
	var want Meta
	werr := json.Unmarshal(b, &want)
	var got Meta
	gerr := decodeMeta(b, &got)
	if (werr == nil) != (gerr == nil) {
		t.Fatalf("%q: decodeMeta error %v, encoding/json %v", b, gerr, werr)
	}
	if werr == nil && !reflect.DeepEqual(got, want) {
		t.Fatalf("%q: decodeMeta gives\n%#v\nencoding/json\n%#v", b, got, want)
	}
	var fast Meta
	took := fastMeta(b, &fast)
	if took && (werr != nil || !reflect.DeepEqual(fast, want)) {
		t.Fatalf("%q: the shortcut took input encoding/json reads otherwise (%v):\n%#v\n%#v", b, werr, fast, want)
	}
	return took
}

// randomMeta is metadata as hush writes it, with the odd characters,
// times and fields a user's can hold.
func randomMeta(r *rand.Rand) Meta {
	pick := func(xs ...string) string { return xs[r.IntN(len(xs))] }
	str := func() string {
		return pick("", "x", "a note", "é ü 日本", "<b>&amp;</b>", `quote " and \ backslash`, "tab\there", "nul\x00", "line\nbreak",
			"\u2028", "bad \xff utf-8", "emoji 🔑", strings.Repeat("long ", 50))
	}
	var m Meta
	m.Type = Type(pick("", "password", "api-key", "other", "certificate", "ssh-key", "dynamic-postgres", "Other"))
	if r.IntN(2) == 0 {
		m.Note = str()
	}
	switch r.IntN(4) {
	case 0:
		m.Tags = []string{}
	case 1:
		m.Tags = []string{str()}
	case 2:
		m.Tags = []string{"prod", str(), "team"}
	}
	if r.IntN(3) == 0 {
		m.RotateEvery = time.Duration(r.Int64N(1<<62)) - 1<<61
	}
	tm := func() time.Time {
		t := time.Unix(r.Int64N(4_000_000_000), r.Int64N(1e9))
		switch r.IntN(3) {
		case 0:
			return t.UTC()
		case 1:
			return t.In(time.FixedZone("", 3600*r.IntN(14)-7*3600+1800*r.IntN(2)))
		}
		return t.Truncate(time.Second).UTC()
	}
	if r.IntN(3) == 0 {
		m.Expires = tm()
	}
	if r.IntN(4) == 0 {
		m.Rotator = str()
	}
	if r.IntN(8) == 0 {
		m.Revoked = &Revocation{At: tm(), Reason: str()}
	}
	if r.IntN(8) == 0 {
		m.Exposed = &Exposure{At: tm(), Reason: str()}
	}
	if r.IntN(4) == 0 {
		m.NotAfter = tm()
	}
	if r.IntN(3) == 0 {
		m.Summary = str()
	}
	if r.IntN(10) == 0 {
		m.Dynamic = &DynamicSource{Template: str(), TTL: time.Duration(r.Int64N(1 << 40))}
	}
	if r.IntN(3) == 0 {
		m.ValueSince = tm()
	}
	return m
}

// TestDecodeMetaIsJSON: metadata as hush writes it decodes as encoding/json
// decodes it, most of it by the shortcut, and never a revocation, an
// exposure or a dynamic source.
func TestDecodeMetaIsJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(18, 2026))
	took := 0
	const n = 20000
	for range n {
		m := randomMeta(r)
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		if sameAsJSON(t, b) {
			took++
			if m.Revoked != nil || m.Exposed != nil || m.Dynamic != nil {
				t.Fatalf("%s: the shortcut took a revocation, exposure or dynamic source", b)
			}
		}
	}
	if took < n/10 {
		t.Fatalf("the shortcut took %d of %d: it no longer serves the metadata hush writes", took, n)
	}
	// A plain secret's metadata, as a get reads it.
	for _, b := range []string{`{"type":"other"}`, `{"type":"password","note":"db","tags":["prod"],"summary":"x"}`} {
		if !sameAsJSON(t, []byte(b)) {
			t.Fatalf("%s: not taken by the shortcut", b)
		}
	}
}

// metaEdgeCases are inputs the shortcut must leave to encoding/json (or
// read exactly as it does).
var metaEdgeCases = []string{
	`{}`, `{"type":"x","type":"y"}`, `{"Type":"x"}`, `{"TYPE":"x"}`, `{"tags":[]}`, `{"tags":null}`, `{"tags":["a",]}`,
	`{"tags":["a""b"]}`, `{"tags":["a"],"tags":["b"]}`, `{"rotate_every":01}`, `{"rotate_every":1.5}`, `{"rotate_every":1e3}`,
	`{"rotate_every":-0}`, `{"rotate_every":-}`, `{"rotate_every":99999999999999999999}`, `{"rotate_every":"5"}`,
	`{"expires":"2026-13-01T00:00:00Z"}`, `{"expires":"2026-01-01T00:00:00Z"}`, `{"expires":"2026-01-01T00:00:00+01:00"}`,
	`{"expires":"2026-01-01T00:00:00.123456789Z"}`, `{"expires":"2026-01-01 00:00:00Z"}`, `{"expires":null}`, `{"expires":""}`,
	`{"note":"a` + "\x00" + `"}`, `{"note":"a` + "\xff" + `"}`, `{"note":"a\u0041"}`, `{"note":"a\"b"}`, `{"type":"x"} `,
	` {"type":"x"}`, `{"type":"x",}`, `{ "type":"x"}`, `{"type" :"x"}`, `{"type": "x"}`, `{"type":"x"}}`, `{"type":"x"}{"type":"y"}`,
	`{"type":"x","note":"y"`, `{"type":"x"`, `{"type":x}`, `{"type":1}`, `{"type":null}`,
	`{"revoked":{"at":"2026-01-01T00:00:00Z","reason":"leak"}}`, `{"unknown":1}`, `{"unknown":"x"}`, `{"type":"x","unknown":"y"}`,
	`{"dynamic":{"template":"t","ttl":1}}`, `{"exposed":{"at":"2026-01-01T00:00:00Z","reason":"r"}}`, `[]`, `"x"`, `{`, `}`, ``,
	`{"":"x"}`, `{"type":"\u00e9"}`, `{"type":"é"}`, `{"tags":["é","` + "\x7f" + `"]}`,
}

func TestDecodeMetaEdgeCases(t *testing.T) {
	for _, b := range metaEdgeCases {
		sameAsJSON(t, []byte(b))
	}
}

func FuzzDecodeMeta(f *testing.F) {
	for _, b := range metaEdgeCases {
		f.Add([]byte(b))
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 50 {
		b, _ := json.Marshal(randomMeta(r))
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) { sameAsJSON(t, b) })
}

// sameChangesAsJSON fails when entryChanges gives js another result than
// json.Unmarshal into struct{ Changes int64 }; it reports whether the
// shortcut took js.
func sameChangesAsJSON(t testing.TB, js []byte) bool {
	t.Helper()
	var want struct {
		Changes int64 `json:"changes"`
	}
	werr := json.Unmarshal(js, &want)
	got, gerr := entryChanges(js)
	if (werr == nil) != (gerr == nil) || (werr == nil && got != want.Changes) {
		t.Fatalf("%q: entryChanges %d, %v; encoding/json %d, %v", js, got, gerr, want.Changes, werr)
	}
	n, took := fastEntryChanges(js)
	if took && (werr != nil || n != want.Changes) {
		t.Fatalf("%q: the shortcut took input encoding/json reads otherwise: %d against %d, %v", js, n, want.Changes, werr)
	}
	return took
}

// TestEntryChangesIsJSON: the change counter of audit entries as hush
// writes them reads as encoding/json reads it, a read's entry by the
// shortcut.
func TestEntryChangesIsJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 18))
	pick := func(xs ...string) string { return xs[r.IntN(len(xs))] }
	took := 0
	const n = 20000
	for range n {
		e := AuditEntry{Seq: r.IntN(1 << 30), Time: time.Unix(r.Int64N(4e9), r.Int64N(1e9)).UTC(), Device: pick("laptop", "", "host-ü", `we"ird`),
			Action: pick("get", "set", "run", "export"), Result: pick("ok", "ok", `secret "x" not found`, "failed: <&>", "bad \xff"),
			Detail: pick("", "", "lease until 12:00", "a\nb"), Changes: r.Int64N(1<<40) - 1<<39}
		switch r.IntN(3) {
		case 0:
			e.Names = []string{"app/K"}
		case 1:
			e.Names = []string{"app/K", "db/PASSWORD", pick("x", "é", `q"`)}
		}
		js, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		if sameChangesAsJSON(t, js) {
			took++
		}
	}
	if took < n/10 {
		t.Fatalf("the shortcut took %d of %d entries", took, n)
	}
	read, _ := json.Marshal(AuditEntry{Seq: 12, Time: time.Now().UTC(), Device: "laptop", Action: "get", Names: []string{"app/TOKEN"}, Result: "ok", Changes: 3})
	if !sameChangesAsJSON(t, read) {
		t.Fatalf("%s: a read's entry not taken by the shortcut", read)
	}
}

var entryEdgeCases = []string{
	`{}`, `{"changes":5}`, `{"changes":-5}`, `{"changes":05}`, `{"changes":5.0}`, `{"changes":5e1}`, `{"changes":"5"}`, `{"changes":null}`,
	`{"changes":99999999999999999999}`, `{"Changes":5}`, `{"CHANGES":5}`, `{"changes":1,"changes":2}`, `{"changes":1,"Changes":2}`,
	`{"seq":1,"changes":2}`, `{"seq":1.5,"changes":2}`, `{"seq":"1","changes":2}`, `{"names":[],"changes":2}`, `{"names":null,"changes":2}`,
	`{"names":["a",],"changes":2}`, `{"names":["a"]"changes":2}`, `{"result":"a\"b","changes":2}`, `{"result":"a\u0041","changes":2}`,
	`{"other":1,"changes":2}`, `{"changes":2,}`, `{"changes":2} `, ` {"changes":2}`, `{"changes" :2}`, `{"changes":2}}`, `{"changes":2`,
	`{"time":"x","device":"d","action":"get","names":["a","b"],"detail":"","result":"ok","changes":7,"seq":3}`, `[]`, ``, `{"":1}`,
	`{"seq":1,"seq":2}`, `{"changes":-}`, `{"changes":-0}`, `{"result":"` + "\xff" + `","changes":2}`, `{"chan\u0067es":4}`,
}

func TestEntryChangesEdgeCases(t *testing.T) {
	for _, js := range entryEdgeCases {
		sameChangesAsJSON(t, []byte(js))
	}
}

func FuzzEntryChanges(f *testing.F) {
	for _, js := range entryEdgeCases {
		f.Add([]byte(js))
	}
	f.Fuzz(func(t *testing.T, js []byte) { sameChangesAsJSON(t, js) })
}

func sameBytesAsJSON(t testing.TB, e AuditEntry) bool {
	t.Helper()
	want, werr := json.Marshal(e)
	got, gerr := marshalEntry(e)
	if (werr == nil) != (gerr == nil) || string(got) != string(want) {
		t.Fatalf("%#v:\nmarshalEntry %s, %v\nencoding/json %s, %v", e, got, gerr, want, werr)
	}
	return werr == nil
}

// TestMarshalEntryIsJSON: audit entries are written byte for byte as
// encoding/json writes them, whatever their strings and times hold.
func TestMarshalEntryIsJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(12, 7))
	pick := func(xs ...string) string { return xs[r.IntN(len(xs))] }
	str := func() string {
		return pick("", "ok", "laptop", "get", "app/K", "a b", "~!@#$%^*()_+-=[]{}|;':,./?", `q"q`, `b\s`, "<>", "&", "tab\t", "nl\n",
			"\x00\x01\x1f", "\x7f", "é", "\u2028\u2029", "\xff\xfe", "🔑", strings.Repeat("x", 300))
	}
	for range 20000 {
		e := AuditEntry{Seq: r.IntN(1<<40) - 1<<20, Device: str(), Action: str(), Detail: str(), Result: str(), Changes: r.Int64N(1<<40) - 1<<39}
		if r.IntN(4) == 0 {
			e.Changes = 0
		}
		switch r.IntN(4) {
		case 0:
			e.Names = []string{}
		case 1:
			e.Names = []string{str()}
		case 2:
			e.Names = []string{str(), str(), str()}
		}
		switch r.IntN(4) {
		case 0:
			e.Time = time.Unix(r.Int64N(4e9), r.Int64N(1e9)).UTC()
		case 1:
			e.Time = time.Unix(r.Int64N(4e9), 0).In(time.FixedZone("", 3600*r.IntN(10)))
		case 2:
			e.Time = time.Date(10000+r.IntN(5), 1, 1, 0, 0, 0, 0, time.UTC) // json.Marshal fails: year outside [0,9999]
		}
		sameBytesAsJSON(t, e)
	}
	read := AuditEntry{Seq: 12, Time: time.Now().UTC(), Device: "laptop", Action: "get", Names: []string{"app/TOKEN"}, Result: "ok", Changes: 3}
	sameBytesAsJSON(t, read)
}

func FuzzMarshalEntry(f *testing.F) {
	f.Add(1, int64(1765000000), int64(5), "laptop", "get", "app/K", "", "", "ok", int64(3))
	f.Add(-1, int64(-62135596801), int64(0), `q"`, "<a>", "é", "\xff", "\n", "\u2028", int64(0))
	f.Fuzz(func(t *testing.T, seq int, sec, nsec int64, device, action, n1, n2, detail, result string, changes int64) {
		e := AuditEntry{Seq: seq, Time: time.Unix(sec, nsec).UTC(), Device: device, Action: action, Detail: detail, Result: result, Changes: changes}
		if n1 != "" {
			e.Names = append(e.Names, n1)
		}
		if n2 != "" {
			e.Names = append(e.Names, n2)
		}
		sameBytesAsJSON(t, e)
	})
}
