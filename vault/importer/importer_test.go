package importer

import (
	"archive/zip"
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"encoding/pem"
	"slices"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/hush-secrets/hush/vault"
)

// secret marks values in test exports: no error, skip or name may hold it.
const secret = "sekrit"

func mustParse(t *testing.T, f Format, data []byte, o Options) *Plan {
	t.Helper()
	p, err := Parse(f, data, o)
	if err != nil {
		t.Fatalf("Parse(%s): %v", f, err)
	}
	checkPlan(t, p)
	return p
}

// checkPlan asserts what every plan must hold: valid, unique names, and
// no value text in names or skip records.
func checkPlan(t testing.TB, p *Plan) {
	t.Helper()
	seen := map[string]bool{}
	for _, it := range p.Items {
		if err := vault.ValidName(it.Name); err != nil {
			t.Fatalf("invalid name in plan: %v", err)
		}
		if seen[it.Name] {
			t.Fatalf("name %s is in the plan twice", it.Name)
		}
		seen[it.Name] = true
		if strings.Contains(it.Name, "krit") {
			t.Fatalf("name %q holds value text", it.Name)
		}
	}
	for _, s := range p.Skipped {
		if strings.Contains(s.What+s.Reason, "krit") {
			t.Fatalf("skip record %q holds value text", s)
		}
	}
}

func item(t *testing.T, p *Plan, name string) Item {
	t.Helper()
	for _, it := range p.Items {
		if it.Name == name {
			return it
		}
	}
	var names []string
	for _, it := range p.Items {
		names = append(names, it.Name)
	}
	t.Fatalf("no item %s in plan; have %v", name, names)
	return Item{}
}

func wantItem(t *testing.T, p *Plan, name, value string, typ vault.Type) Item {
	t.Helper()
	it := item(t, p, name)
	if string(it.Value) != value || it.Type != typ {
		t.Errorf("%s = %q (%s), want %q (%s)", name, it.Value, it.Type, value, typ)
	}
	return it
}

func wantSkips(t *testing.T, p *Plan, want map[string]int) {
	t.Helper()
	got := map[string]int{}
	for _, rc := range p.SkipCounts() {
		got[rc.Reason] = rc.Count
	}
	for r, n := range want {
		if got[r] != n {
			t.Errorf("skipped for %q: %d, want %d (all: %v)", r, got[r], n, got)
		}
	}
	for r := range got {
		if _, ok := want[r]; !ok {
			t.Errorf("unexpected skips for %q: %d", r, got[r])
		}
	}
}

func wantErr(t *testing.T, f Format, data []byte, o Options, want string) {
	t.Helper()
	p, err := Parse(f, data, o)
	if err == nil {
		t.Fatalf("Parse(%s) succeeded with %d items, want error %q", f, len(p.Items), want)
	}
	if !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not contain %q", err, want)
	}
	if strings.Contains(err.Error(), "krit") {
		t.Errorf("error %q leaks value text", err)
	}
}

func testSSHKey(t testing.TB) string {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	blk, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(blk))
}

func mustJSON(t testing.TB, v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type obj = map[string]any
type arr = []any

// onePuxExport builds export.data in the shape 1Password writes (its
// "1PUX format" page; Bitwarden's importer tests use the same fields).
func onePuxExport(t testing.TB, sshKey string) []byte {
	login := obj{
		"uuid": "u1", "favIndex": 1, "createdAt": 1619465800, "updatedAt": 1619465800, "state": "active", "categoryUuid": "001",
		"details": obj{
			"loginFields": arr{
				obj{"value": "wendy@example.com", "id": "", "name": "email", "fieldType": "E", "designation": "username"},
				obj{"value": "sekrit-pw", "id": "", "name": "password", "fieldType": "P", "designation": "password"},
				obj{"value": "sekrit-pin", "id": "", "name": "pin", "fieldType": "P"},
				obj{"value": "", "id": "", "name": "empty", "fieldType": "T"},
			},
			"notesPlain": "The recovery codes are in the safe.",
			"sections": arr{obj{"title": "Extra", "name": "s1", "fields": arr{
				obj{"title": "one-time password", "id": "TOTP_1", "value": obj{"totp": "otpauth://totp/x?secret=SEKRITSEED"}, "guarded": false, "multiline": false, "dontGenerate": false, "inputTraits": obj{}},
				obj{"title": "account number", "id": "acct", "value": obj{"string": "12345"}, "guarded": false, "multiline": false, "dontGenerate": false, "inputTraits": obj{}},
				obj{"title": "api secret", "id": "as", "value": obj{"concealed": "sekrit-api"}, "guarded": true, "multiline": false, "dontGenerate": false, "inputTraits": obj{}},
			}}},
			"passwordHistory": arr{obj{"value": "sekrit-old", "time": 1619465000}},
		},
		"overview": obj{"subtitle": "wendy", "title": "GitHub (work)", "url": "https://github.com/login",
			"urls": arr{obj{"label": "", "url": "https://github.com/login"}, obj{"label": "api", "url": "https://api.github.com"}},
			"tags": arr{"dev tools", "work"}, "ps": 100},
	}
	items := arr{
		login,
		obj{"uuid": "u2", "state": "active", "categoryUuid": "005", "details": obj{"password": "sekrit-plain", "notesPlain": ""},
			"overview": obj{"title": "GitHub (work)"}},
		obj{"uuid": "u3", "state": "active", "categoryUuid": "112", "details": obj{"sections": arr{obj{"title": "", "fields": arr{
			obj{"title": "username", "id": "username", "value": obj{"string": "svc"}},
			obj{"title": "credential", "id": "credential", "value": obj{"concealed": "sekrit-token"}},
			obj{"title": "type", "id": "type", "value": obj{"menu": "bearer"}},
		}}}}, "overview": obj{"title": "STRIPE_KEY"}},
		obj{"uuid": "u4", "state": "active", "categoryUuid": "114", "details": obj{"sections": arr{obj{"title": "", "fields": arr{
			obj{"title": "private key", "id": "private_key", "value": obj{"sshKey": obj{"privateKey": "-----BEGIN PRIVATE KEY-----\npkcs8\n-----END PRIVATE KEY-----\n",
				"metadata": obj{"privateKey": sshKey, "publicKey": "ssh-ed25519 AAAA", "fingerprint": "SHA256:x", "keyType": "ed25519"}}}},
		}}}}, "overview": obj{"title": "deploy key"}},
		obj{"uuid": "u5", "state": "active", "categoryUuid": "003", "details": obj{"notesPlain": "sekrit note\nline 2\n"}, "overview": obj{"title": "Wi-Fi notes"}},
		obj{"uuid": "u6", "state": "active", "categoryUuid": "002", "details": obj{}, "overview": obj{"title": "Visa"}},
		obj{"uuid": "u7", "state": "active", "categoryUuid": "006", "details": obj{"documentAttributes": obj{"fileName": "id.pdf", "documentId": "d1", "decryptedSize": 10}}, "overview": obj{"title": "scan"}},
		obj{"uuid": "u8", "trashed": true, "state": "active", "categoryUuid": "001", "details": obj{"password": "sekrit"}, "overview": obj{"title": "old"}},
		obj{"uuid": "u9", "state": "archived", "categoryUuid": "005", "details": obj{"password": "sekrit-arch"}, "overview": obj{"title": "retired"}},
		obj{"uuid": "u10", "state": "active", "categoryUuid": "001", "details": obj{"loginFields": arr{obj{"value": "only-user", "designation": "username", "fieldType": "T", "name": "u"}}}, "overview": obj{"title": "no password"}},
		obj{"uuid": "u11", "state": "active", "categoryUuid": "999", "details": obj{}, "overview": obj{"title": "future"}},
		obj{"uuid": "u12", "state": "active", "categoryUuid": "001", "details": obj{"password": "", "loginFields": arr{obj{"value": "sekrit-x", "designation": "password", "fieldType": "P", "name": "p"}}}, "overview": obj{"title": "日本"}},
	}
	return mustJSON(t, obj{"accounts": arr{obj{
		"attrs":  obj{"accountName": "Wendy", "name": "Wendy", "avatar": "", "email": "wendy@example.com", "uuid": "A1", "domain": "https://my.1password.com/"},
		"vaults": arr{obj{"attrs": obj{"uuid": "v1", "desc": "", "avatar": "", "name": "Private", "type": "P"}, "items": items}},
	}}})
}

func zipOf(t testing.TB, files map[string][]byte) []byte {
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		f, err := w.Create(n)
		if err != nil {
			t.Fatal(err)
		}
		f.Write(files[n])
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func Test1PUX(t *testing.T) {
	key := testSSHKey(t)
	data := zipOf(t, map[string][]byte{
		"export.attributes":  []byte(`{"version":3,"description":"1Password Unencrypted Export","createdAt":1619465800}`),
		"export.data":        onePuxExport(t, key),
		"files/d1__id.pdf":   []byte("%PDF"),
		"files/x__photo.jpg": []byte("jpg"),
	})
	p := mustParse(t, OnePUX, data, Options{})
	gh := wantItem(t, p, "Private/GitHub_work", "sekrit-pw", vault.TypePassword)
	wantNote := "username: wendy@example.com\nurl: https://github.com/login\nurl: https://api.github.com\naccount number: 12345\n\nThe recovery codes are in the safe."
	if gh.Note != wantNote {
		t.Errorf("note %q\nwant %q", gh.Note, wantNote)
	}
	if !slices.Equal(gh.Tags, []string{"dev-tools", "work"}) {
		t.Errorf("tags %q", gh.Tags)
	}
	wantItem(t, p, "Private/GitHub_work.totp", "otpauth://totp/x?secret=SEKRITSEED", vault.TypeToken)
	wantItem(t, p, "Private/GitHub_work.pin", "sekrit-pin", vault.TypePassword)
	wantItem(t, p, "Private/GitHub_work.api_secret", "sekrit-api", vault.TypePassword)
	wantItem(t, p, "Private/GitHub_work-2", "sekrit-plain", vault.TypePassword)
	api := wantItem(t, p, "Private/STRIPE_KEY", "sekrit-token", vault.TypeAPIKey)
	if api.Note != "username: svc\ntype: bearer\n" {
		t.Errorf("api note %q", api.Note)
	}
	wantItem(t, p, "Private/deploy_key", key, vault.TypeSSHKey)
	wantItem(t, p, "Private/Wi-Fi_notes", "sekrit note\nline 2", vault.TypeNote)
	arch := wantItem(t, p, "Private/retired", "sekrit-arch", vault.TypePassword)
	if !slices.Equal(arch.Tags, []string{"archived"}) {
		t.Errorf("archived item tags %q", arch.Tags)
	}
	wantItem(t, p, "Private/untitled", "sekrit-x", vault.TypePassword)
	if len(p.Items) != 10 {
		t.Errorf("%d items, want 10", len(p.Items))
	}
	if !slices.Equal(p.Renamed, []Renamed{{"Private/GitHub_work", "Private/GitHub_work-2"}}) {
		t.Errorf("renamed %v", p.Renamed)
	}
	wantSkips(t, p, map[string]int{reasonCard: 1, reasonAttachment: 2, reasonTrash: 1, reasonEmpty: 1, reasonUnknown: 1, reasonHistory: 1})
}

func Test1PUXErrors(t *testing.T) {
	good := onePuxExport(t, testSSHKey(t))
	for _, c := range []struct {
		name string
		data []byte
		want string
	}{
		{"not a zip", []byte("sekrit,not,a,zip"), "not a .1pux file"},
		{"no export.data", zipOf(t, map[string][]byte{"export.attributes": []byte("{}")}), "holds no export.data"},
		{"bad json", zipOf(t, map[string][]byte{"export.data": []byte("{\"accounts\": [\n{\"sekrit\"}]}")}), "export.data: line 2: invalid JSON syntax"},
		{"truncated", zipOf(t, map[string][]byte{"export.data": good[:len(good)/2]}), "unexpected end of JSON"},
		{"wrong type", zipOf(t, map[string][]byte{"export.data": []byte(`{"accounts": {"sekrit": 1}}`)}), "field accounts holds a JSON object"},
		{"lone surrogate", zipOf(t, map[string][]byte{"export.data": []byte("{\"accounts\": [],\n\"x\": \"sekrit\\ud800\"}")}), "line 2: an unpaired UTF-16 surrogate"},
		{"invalid utf8", zipOf(t, map[string][]byte{"export.data": []byte("{\"x\": \"sek\xffrit\"}")}), "not valid UTF-8"},
		{"no accounts", zipOf(t, map[string][]byte{"export.data": []byte(`{"accounts": []}`)}), "holds no accounts"},
		{"trailing", zipOf(t, map[string][]byte{"export.data": append(bytes.Clone(good), " {}"...)}), "unexpected data after"},
	} {
		t.Run(c.name, func(t *testing.T) { wantErr(t, OnePUX, c.data, Options{}, c.want) })
	}
}

func Test1PasswordCSV(t *testing.T) {
	// 1Password 8's CSV export header and quoting.
	data := "\ufeffTitle,Url,Username,Password,OTPAuth,Favorite,Archived,Tags,Notes\r\n" +
		"GitHub,https://github.com,wendy,sekrit-1,otpauth://totp/GitHub?secret=SEKRIT,true,false,\"dev,work\",\"line one\r\nline \"\"two\"\"\"\r\n" +
		"AWS root,https://aws.amazon.com,root@example.com,\"sekrit,2\",,false,true,,\r\n" +
		"no pass,https://x,only-user,,,false,false,,\r\n" +
		"GitHub,,,sekrit-3,,false,false,,\r\n"
	p := mustParse(t, OnePasswordCSV, []byte(data), Options{})
	gh := wantItem(t, p, "GitHub", "sekrit-1", vault.TypePassword)
	if gh.Note != "username: wendy\nurl: https://github.com\n\nline one\nline \"two\"" || !slices.Equal(gh.Tags, []string{"dev", "work"}) {
		t.Errorf("GitHub note %q tags %q", gh.Note, gh.Tags)
	}
	wantItem(t, p, "GitHub.totp", "otpauth://totp/GitHub?secret=SEKRIT", vault.TypeToken)
	aws := wantItem(t, p, "AWS_root", "sekrit,2", vault.TypePassword)
	if !slices.Equal(aws.Tags, []string{"archived"}) {
		t.Errorf("AWS tags %q", aws.Tags)
	}
	wantItem(t, p, "GitHub-2", "sekrit-3", vault.TypePassword)
	wantSkips(t, p, map[string]int{reasonEmpty: 1})

	wantErr(t, OnePasswordCSV, []byte("Label,Secret\nsekrit,sekrit\n"), Options{}, `no "title" column`)
	wantErr(t, OnePasswordCSV, []byte(""), Options{}, "empty")
	wantErr(t, OnePasswordCSV, []byte("Title,Password\nx,\"sekrit\n"), Options{}, "line 2: invalid CSV")
	wantErr(t, OnePasswordCSV, []byte("Title,Password\nx,se\"krit\n"), Options{}, "line 2: invalid CSV: bare \" in non-quoted-field")
	wantErr(t, OnePasswordCSV, []byte("Title,Password\n\nx,sek\xe9rit\n"), Options{}, "line 3: not valid UTF-8")
}

func TestKeePassXCCSV(t *testing.T) {
	// KeePassXC 2.7's CsvExporter: every cell quoted, Group from the root.
	data := `"Group","Title","Username","Password","URL","Notes","TOTP","Icon","Last Modified","Created"` + "\n" +
		`"Root","Email","me@example.com","sekrit-1","https://mail","","","0","2024-01-01T00:00:00Z","2024-01-01T00:00:00Z"` + "\n" +
		`"Root/Work/Servers","db prod","postgres","sekrit-2","","port 5432` + "\n" + `replica too","otpauth://totp/db?secret=SEKRIT","0","",""` + "\n" +
		`"Root/Recycle Bin","gone","","sekrit-3","","","","0","",""` + "\n" +
		`"Root","Email","","sekrit-4","","","","0","",""` + "\n"
	p := mustParse(t, KeePassXCCSV, []byte(data), Options{})
	wantItem(t, p, "Email", "sekrit-1", vault.TypePassword)
	db := wantItem(t, p, "Work/Servers/db_prod", "sekrit-2", vault.TypePassword)
	if db.Note != "username: postgres\n\nport 5432\nreplica too" {
		t.Errorf("note %q", db.Note)
	}
	wantItem(t, p, "Work/Servers/db_prod.totp", "otpauth://totp/db?secret=SEKRIT", vault.TypeToken)
	wantItem(t, p, "Email-2", "sekrit-4", vault.TypePassword)
	wantSkips(t, p, map[string]int{reasonTrash: 1})

	// The old six-column export reads too.
	old := `"Group","Title","Username","Password","URL","Notes"` + "\n" + `"Root/a","t","u","sekrit","",""` + "\n"
	wantItem(t, mustParse(t, KeePassXCCSV, []byte(old), Options{}), "a/t", "sekrit", vault.TypePassword)
	wantErr(t, KeePassXCCSV, []byte("Title,Url,Username,Password\nsekrit,,,sekrit\n"), Options{}, `no "group" column`)
}

func TestVaultKV(t *testing.T) {
	// `vault kv get -format=json secret/app` (KV version 2).
	get := `{
  "request_id": "6b3c...",
  "lease_id": "",
  "lease_duration": 0,
  "renewable": false,
  "data": {
    "data": {"DB_PASSWORD": "sekrit-1", "PORT": 5432, "FLAGS": {"a": [1, "x"]}, "EMPTY": "", "bad key!": "sekrit-2"},
    "metadata": {"created_time": "2024-05-01T10:00:00Z", "custom_metadata": null, "deletion_time": "", "destroyed": false, "version": 3}
  },
  "warnings": null
}`
	p := mustParse(t, VaultKV, []byte(get), Options{})
	wantItem(t, p, "DB_PASSWORD", "sekrit-1", vault.TypePassword)
	wantItem(t, p, "PORT", "5432", vault.TypePassword)
	wantItem(t, p, "FLAGS", `{"a": [1, "x"]}`, vault.TypeOther)
	wantItem(t, p, "EMPTY", "", vault.TypePassword)
	wantItem(t, p, "bad_key", "sekrit-2", vault.TypePassword)

	tree := `{"secret/app/db": ` + get + `, "secret/app/api/": {"data": {"data": {"TOKEN": "sekrit-3"}, "metadata": {"version": 1}}}}`
	p = mustParse(t, VaultKV, []byte(tree), Options{})
	wantItem(t, p, "secret/app/db/DB_PASSWORD", "sekrit-1", vault.TypePassword)
	wantItem(t, p, "secret/app/api/TOKEN", "sekrit-3", vault.TypePassword)

	wantErr(t, VaultKV, []byte(`{"data": {"data": null, "metadata": {"destroyed": true}}}`), Options{}, "deleted or destroyed")
	wantErr(t, VaultKV, []byte(`{"app": {"sekrit": "x"}}`), Options{}, "path app has no .data.data")
	wantErr(t, VaultKV, []byte(`{"app": "sekrit"}`), Options{}, "not the JSON of `vault kv get")
	wantErr(t, VaultKV, []byte(`["sekrit"]`), Options{}, "holds a JSON array")
	wantErr(t, VaultKV, []byte(`{}`), Options{}, "nothing to import")
	wantErr(t, VaultKV, []byte(`{"data": {"data": {"K": "\udfffsekrit"}, "metadata": {}}}`), Options{}, "unpaired UTF-16 surrogate")
}

func TestSegment(t *testing.T) {
	for in, want := range map[string]string{
		"GitHub": "GitHub", "My Bank (old)": "My_Bank_old", "  spaced  ": "spaced", "café": "caf", "日本": "untitled",
		"": "untitled", ".": "_", "..": "__", "a/b": "a_b", "a.b-c_d": "a.b-c_d", "x@example.com": "x_example.com",
		"...": "...", strings.Repeat("k", 300): strings.Repeat("k", 128), "a\x00b\nc": "a_b_c",
	} {
		if got := Segment(in); got != want {
			t.Errorf("Segment(%q) = %q, want %q", in, got, want)
		}
		if err := vault.ValidName(Segment(in)); err != nil {
			t.Errorf("Segment(%q) is not a valid name: %v", in, err)
		}
	}
}

func TestParseFormat(t *testing.T) {
	for in, want := range map[string]Format{"1pux": OnePUX, "1Password": OnePUX, "1password-csv": OnePasswordCSV, "bitwarden": Bitwarden,
		"keepassxc": KeePassXCCSV, "gopass": Pass, "pass": Pass, "sops": SOPS, "openbao": VaultKV, "vault-kv": VaultKV} {
		if got, err := ParseFormat(in); err != nil || got != want {
			t.Errorf("ParseFormat(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := ParseFormat("lastpass"); err == nil || !strings.Contains(err.Error(), "1pux, 1password-csv, bitwarden") {
		t.Errorf("ParseFormat(lastpass) = %v", err)
	}
}

func TestTagsAndLimits(t *testing.T) {
	many := make([]string, 70)
	for i := range many {
		many[i] = "t" + strings.Repeat("x", i)
	}
	tags, cut := cleanTags(append([]string{"a b,c", "a b,c", " ", "é" + strings.Repeat("é", 40)}, many...))
	if !cut || len(tags) != vault.MaxTags || tags[0] != "a-b-c" || len(tags[1]) > vault.MaxTagLen || !strings.HasPrefix(tags[1], "éé") {
		t.Errorf("cleanTags = %q, %v", tags[:3], cut)
	}
	b := newBuilder()
	b.add(entry{title: "big", value: make([]byte, vault.MaxValueSize+1)})
	b.add(entry{title: "long note", value: []byte("x"), notes: strings.Repeat("n", vault.MaxNoteSize+1)})
	if len(b.plan.Items) != 1 || b.plan.Items[0].Note != "" {
		t.Errorf("items %d", len(b.plan.Items))
	}
	wantSkips(t, &b.plan, map[string]int{reasonTooLarge: 1, reasonNoteLarge: 1})
}
