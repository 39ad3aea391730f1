package importer

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/hush-secrets/hush/vault"
	"github.com/hush-secrets/hush/vault/kinds"
)

// Format names a source of an import.
type Format string

const (
	OnePUX         Format = "1pux"
	OnePasswordCSV Format = "1password-csv"
	Bitwarden      Format = "bitwarden"
	KeePassXCCSV   Format = "keepassxc-csv"
	KDBX           Format = "kdbx"
	Pass           Format = "pass"
	SOPS           Format = "sops"
	VaultKV        Format = "vault-kv"
)

// Formats lists every format, in the order help texts show them.
var Formats = []Format{OnePUX, OnePasswordCSV, Bitwarden, KeePassXCCSV, KDBX, Pass, SOPS, VaultKV}

// aliases are other spellings a user may type.
var aliases = map[string]Format{
	"1password": OnePUX, "onepassword": OnePUX, "1password-1pux": OnePUX,
	"1password-csv": OnePasswordCSV, "1pw-csv": OnePasswordCSV,
	"bitwarden": Bitwarden, "bitwarden-json": Bitwarden,
	"keepassxc": KeePassXCCSV, "keepassxc-csv": KeePassXCCSV, "keepass-csv": KeePassXCCSV,
	"kdbx": KDBX, "keepass": KDBX, "keepassxc-kdbx": KDBX,
	"pass": Pass, "gopass": Pass, "password-store": Pass,
	"sops":     SOPS,
	"vault-kv": VaultKV, "vault": VaultKV, "openbao": VaultKV, "bao": VaultKV,
}

// ParseFormat turns a --from value into a Format.
func ParseFormat(s string) (Format, error) {
	if f, ok := aliases[strings.ToLower(strings.TrimSpace(s))]; ok {
		return f, nil
	}
	if f := Format(s); slices.Contains(Formats, f) {
		return f, nil
	}
	names := make([]string, len(Formats))
	for i, f := range Formats {
		names[i] = string(f)
	}
	return "", fmt.Errorf("unknown source format %q: use one of %s", s, strings.Join(names, ", "))
}

// MaxInput bounds an export file read into memory (a .1pux is a zip whose
// export.data is bounded separately).
const MaxInput = 256 << 20

// maxDataSize bounds a JSON or CSV document inside an export.
const maxDataSize = 64 << 20

// ErrWrongPassword is returned when a password-protected export does not
// open with the password given.
var ErrWrongPassword = errors.New("wrong password for this export")

// ErrNoPassword is returned when an export needs a password and
// [Options].Password is nil.
var ErrNoPassword = errors.New("this export is password-protected and no password was given")

// Options carries what some sources need besides the file.
type Options struct {
	// Password gives the password of a password-protected export
	// (Bitwarden's "password protected" JSON, a KeePass database). It is
	// called only then, and the caller may wipe what it returns after Read.
	Password func() ([]byte, error)
	// GPG is the gpg program that decrypts a pass store; default "gpg".
	GPG string
	// SOPS is the sops program; default "sops".
	SOPS string
	// KeePassXC is the keepassxc-cli program; default "keepassxc-cli".
	KeePassXC string
	// Env is the environment of gpg and sops; nil means hush's own.
	Env []string
}

// Item is one secret to create. Name is relative to the folder imported
// into and already valid.
type Item struct {
	Name  string
	Value []byte
	Type  vault.Type
	Note  string
	Tags  []string
}

// Skipped is something of the export that was not brought, and why. What
// names it (a mapped name, or the item's position in the export): never a
// value.
type Skipped struct {
	What   string
	Reason string
}

// Renamed records a name that had to change beyond the character mapping:
// a second item that mapped to a name already taken.
type Renamed struct {
	From string // the name the item would have had
	To   string
}

// Plan is what an import would create, and what it leaves out.
type Plan struct {
	Items   []Item
	Skipped []Skipped
	Renamed []Renamed
}

// Wipe clears the plan's values.
func (p *Plan) Wipe() {
	for i := range p.Items {
		clear(p.Items[i].Value)
	}
}

// SkipCounts groups the skipped things by reason, most frequent first.
func (p *Plan) SkipCounts() []ReasonCount {
	n := map[string]int{}
	for _, s := range p.Skipped {
		n[s.Reason]++
	}
	out := make([]ReasonCount, 0, len(n))
	for r, c := range n {
		out = append(out, ReasonCount{r, c})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Reason < out[j].Reason
	})
	return out
}

// ReasonCount is how many things were skipped for one reason.
type ReasonCount struct {
	Reason string
	Count  int
}

// Reasons for skipping, shared by the sources so that counts group.
const (
	reasonTrash      = "in the trash or recycle bin"
	reasonCard       = "payment card (not a secret hush keeps)"
	reasonIdentity   = "identity or personal document (not a secret hush keeps)"
	reasonAttachment = "file attachment or document (not imported)"
	reasonUnknown    = "item of a kind hush does not import"
	reasonEmpty      = "no secret value (only a username, URL or notes)"
	reasonTooLarge   = "value larger than the 8 MiB limit"
	reasonHistory    = "password history (old values are not imported)"
	reasonNoteLarge  = "notes larger than 64 KiB (left out; the secret was imported)"
	reasonTagsCut    = "tags beyond 64 (left out; the secret was imported)"
	reasonNotFile    = "not an encrypted entry"
	reasonSymlink    = "symbolic link (not followed)"
	reasonAge        = "gopass age-encrypted entry (only gpg stores are supported)"
	reasonPasskey    = "passkey (not imported)"
)

// entry is one item of an export in the sources' common shape, before
// names are mapped.
type entry struct {
	folder   []string // source folders, outermost first
	title    string
	value    []byte // the main secret; nil: none
	typ      vault.Type
	username string
	urls     []string
	notes    string
	fields   []field // other fields with a value
	totp     string
	tags     []string
}

// field is a named extra value of an item. Secret ones become secrets of
// their own; the others become lines of the note.
type field struct {
	name   string
	value  string
	secret bool
}

// builder maps entries to items, keeping names unique.
type builder struct {
	plan Plan
	used map[string]bool
}

func newBuilder() *builder { return &builder{used: map[string]bool{}} }

// Segment turns any text into one valid name segment: each run of
// characters outside A-Z a-z 0-9 _ . - becomes one "_" (dropped at either
// end), the result is cut to 128 bytes, and an empty result is "untitled";
// "." and ".." become "_" and "__".
func Segment(s string) string {
	var b strings.Builder
	pending := false
	for _, r := range s {
		if r < utf8.RuneSelf && isNameByte(byte(r)) {
			if pending && b.Len() > 0 {
				b.WriteByte('_')
			}
			pending = false
			b.WriteRune(r)
			continue
		}
		pending = true
	}
	out := b.String()
	if len(out) > 128 {
		out = out[:128]
	}
	switch out {
	case "":
		return "untitled"
	case ".":
		return "_"
	case "..":
		return "__"
	}
	return out
}

func isNameByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '.' || c == '-'
}

// path maps folders and a title to a name.
func path(folder []string, title string) string {
	segs := make([]string, 0, len(folder)+1)
	for _, f := range folder {
		if strings.TrimSpace(f) != "" {
			segs = append(segs, Segment(f))
		}
	}
	return strings.Join(append(segs, Segment(title)), "/")
}

// claim returns name, or name-2, name-3, ... if it is taken, and takes it.
func (b *builder) claim(name string) string {
	got := name
	for n := 2; b.used[got]; n++ {
		got = fmt.Sprintf("%s-%d", name, n)
	}
	b.used[got] = true
	if got != name {
		b.plan.Renamed = append(b.plan.Renamed, Renamed{From: name, To: got})
	}
	return got
}

func (b *builder) skip(what, reason string) {
	b.plan.Skipped = append(b.plan.Skipped, Skipped{What: what, Reason: reason})
}

// secret adds one item, checking what the vault would refuse.
func (b *builder) secret(name string, value []byte, typ vault.Type, note string, tags []string) {
	if len(value) > vault.MaxValueSize {
		b.skip(name, reasonTooLarge)
		return
	}
	if len(note) > vault.MaxNoteSize {
		b.skip(name, reasonNoteLarge)
		note = ""
	}
	name = b.claim(name)
	b.plan.Items = append(b.plan.Items, Item{Name: name, Value: value, Type: detect(value, typ), Note: note, Tags: tags})
}

// add maps one entry: its main value to FOLDER/TITLE, its TOTP seed to
// FOLDER/TITLE.totp and each secret field to FOLDER/TITLE.FIELD; username,
// URLs, other fields and notes go into the note of each.
func (b *builder) add(e entry) {
	name := path(e.folder, e.title)
	if len(e.value) == 0 && e.totp == "" && !slices.ContainsFunc(e.fields, func(f field) bool { return f.secret && f.value != "" }) {
		b.skip(name, reasonEmpty)
		return
	}
	note := e.note()
	tags, cut := cleanTags(e.tags)
	if cut {
		b.skip(name, reasonTagsCut)
	}
	if len(e.value) > 0 {
		b.secret(name, e.value, e.typ, note, tags)
	}
	if e.totp != "" {
		b.secret(name+".totp", []byte(e.totp), vault.TypeToken, note, tags)
	}
	for _, f := range e.fields {
		if f.secret && f.value != "" {
			b.secret(name+"."+Segment(f.name), []byte(f.value), vault.TypePassword, note, tags)
		}
	}
}

// note builds the note of an entry's secrets: "username: ...", "url: ..."
// and "NAME: value" lines for the fields that are not secret, a blank line,
// then the item's own notes.
func (e *entry) note() string {
	var b strings.Builder
	line := func(k, v string) {
		if v = strings.TrimSpace(v); v != "" {
			b.WriteString(k + ": " + strings.ReplaceAll(v, "\n", " ") + "\n")
		}
	}
	line("username", e.username)
	for _, u := range e.urls {
		line("url", u)
	}
	for _, f := range e.fields {
		if !f.secret {
			line(strings.TrimSpace(f.name), f.value)
		}
	}
	notes := strings.TrimRight(e.notes, " \t\r\n")
	if notes != "" {
		if b.Len() > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(notes)
	}
	return strings.ToValidUTF8(b.String(), "\uFFFD")
}

// cleanTags makes tags valid: spaces, commas and control characters
// become "-", each is cut to 64 bytes, duplicates are dropped, and no more
// than 64 are kept (cut reports that some were dropped).
func cleanTags(in []string) (out []string, cut bool) {
	seen := map[string]bool{}
	for _, t := range in {
		t = strings.Map(func(r rune) rune {
			if unicode.IsSpace(r) || unicode.IsControl(r) || r == ',' || r == utf8.RuneError {
				return '-'
			}
			return r
		}, strings.TrimSpace(t))
		for len(t) > vault.MaxTagLen {
			_, size := utf8.DecodeLastRuneInString(t)
			t = t[:len(t)-size]
		}
		if t == "" || seen[t] {
			continue
		}
		if len(out) == vault.MaxTags {
			return out, true
		}
		seen[t] = true
		out = append(out, t)
	}
	return out, false
}

// detect gives a value the kind it evidently is: a PEM or DER certificate,
// or an SSH key, by the same checks `hush set --type` makes; else fallback.
func detect(value []byte, fallback vault.Type) vault.Type {
	if fallback == "" {
		fallback = vault.TypePassword
	}
	if len(value) > 64<<10 || !bytes.Contains(value, []byte("-----BEGIN ")) && !bytes.HasPrefix(value, []byte("ssh-")) && !bytes.HasPrefix(value, []byte("ecdsa-")) {
		return fallback
	}
	for _, t := range []vault.Type{vault.TypeCertificate, vault.TypeSSHKey} {
		if _, err := kinds.Inspect(string(t), value); err == nil {
			return t
		}
	}
	return fallback
}

// describe is the vault's Describe hook: the value-derived summary of a
// certificate or SSH key.
func describe(typ vault.Type, value []byte) (string, time.Time, error) {
	info, err := kinds.Inspect(string(typ), value)
	if err != nil {
		return "", time.Time{}, err
	}
	return info.Summary, info.NotAfter, nil
}

// ExistsError lists the names an import would create that live secrets
// already have.
type ExistsError struct {
	Names []string
}

func (e *ExistsError) Error() string {
	shown := e.Names
	if len(shown) > 10 {
		shown = shown[:10]
	}
	msg := fmt.Sprintf("%d of the names to import already exist (%s", len(e.Names), strings.Join(shown, ", "))
	if len(e.Names) > len(shown) {
		msg += ", ..."
	}
	return msg + "): nothing was imported"
}

func (e *ExistsError) Unwrap() error { return vault.ErrExists }

// Names returns the full names the plan's items get under folder.
func (p *Plan) Names(folder string) []string {
	out := make([]string, len(p.Items))
	for i, it := range p.Items {
		out[i] = join(folder, it.Name)
	}
	return out
}

func join(folder, name string) string {
	if folder == "" {
		return name
	}
	return folder + "/" + name
}

// Apply writes the plan's items under folder in one transaction: all or
// nothing. Unless overwrite, a name a live secret already has is refused
// (an *ExistsError naming every such name); with overwrite, such a secret
// gets a new version.
func Apply(v *vault.Vault, folder string, p *Plan, overwrite bool) ([]vault.SetResult, error) {
	folder, err := vault.CleanFolder(folder)
	if err != nil {
		return nil, err
	}
	if len(p.Items) == 0 {
		return nil, errors.New("the export holds nothing to import")
	}
	names := p.Names(folder)
	for _, n := range names {
		if err := vault.ValidName(n); err != nil {
			return nil, err
		}
	}
	if !overwrite {
		idx, err := v.Index()
		if err != nil {
			return nil, err
		}
		live := make(map[string]bool, len(idx))
		for _, e := range idx {
			live[e.Name] = true
		}
		var taken []string
		for _, n := range names {
			if live[n] {
				taken = append(taken, n)
			}
		}
		if len(taken) > 0 {
			return nil, &ExistsError{Names: taken}
		}
	}
	reqs := make([]vault.SetRequest, len(p.Items))
	for i, it := range p.Items {
		typ, note, tags := it.Type, it.Note, slices.Clone(it.Tags)
		if tags == nil {
			tags = []string{}
		}
		reqs[i] = vault.SetRequest{Name: names[i], Value: it.Value, Create: !overwrite, Update: vault.Update{
			Type: &typ, Note: &note, Tags: &tags, Describe: describe,
		}}
	}
	return v.SetMany(reqs, time.Time{})
}
