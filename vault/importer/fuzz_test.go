package importer

import (
	"testing"

	"github.com/hush-secrets/hush/vault"
)

// fuzzPlan checks that a parser never panics and that whatever it accepts
// is a plan Apply could write: valid, unique names.
func fuzzPlan(t *testing.T, p *Plan, err error) {
	if err != nil {
		if p != nil {
			t.Fatalf("a plan and an error: %v", err)
		}
		return
	}
	checkPlan(t, p)
	for _, it := range p.Items {
		if len(it.Value) > vault.MaxValueSize || len(it.Note) > vault.MaxNoteSize {
			t.Fatalf("%s is over the vault's limits", it.Name)
		}
		if _, err := vault.ParseType(string(it.Type)); err != nil {
			t.Fatalf("%s has type %q", it.Name, it.Type)
		}
	}
}

func Fuzz1PUXData(f *testing.F) {
	f.Add(onePuxExport(f, testSSHKey(f)))
	f.Add([]byte(`{"accounts": [{"vaults": [{"attrs": {"name": "V"}, "items": [{"categoryUuid": "005", "details": {"password": "x"}, "overview": {"title": "t"}}]}]}]}`))
	f.Add([]byte(`{"accounts": [{"vaults": [{"items": [{"categoryUuid": "114", "details": {"sections": [{"fields": [{"value": {"sshKey": {"metadata": {}}}}]}]}}]}]}]}`))
	f.Add([]byte(`{"accounts": [{"vaults": [{"items": [{"categoryUuid": "001", "details": {"loginFields": [{"value": {"x": 1}, "designation": "password"}]}}]}]}]}`))
	f.Add([]byte(`{"accounts": "\ud800"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := read1PUXData(data, 1)
		fuzzPlan(t, p, err)
	})
}

func Fuzz1PUXZip(f *testing.F) {
	f.Add(zipOf(f, map[string][]byte{"export.data": onePuxExport(f, "k"), "files/a": []byte("x")}))
	f.Add(zipOf(f, map[string][]byte{"export.attributes": []byte("{}")}))
	f.Add([]byte("PK\x03\x04"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse(OnePUX, data, Options{})
		fuzzPlan(t, p, err)
	})
}

func FuzzOnePasswordCSV(f *testing.F) {
	f.Add([]byte("Title,Url,Username,Password,OTPAuth,Favorite,Archived,Tags,Notes\nGitHub,https://github.com,w,pw,otpauth://x,true,false,\"a,b\",\"n\nn\"\n"))
	f.Add([]byte("title,password\n,\n\"a\"\"b\",x\n"))
	f.Add([]byte("Title,Password\nx,se\"krit\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse(OnePasswordCSV, data, Options{})
		fuzzPlan(t, p, err)
	})
}

func FuzzKeePassXCCSV(f *testing.F) {
	f.Add([]byte(`"Group","Title","Username","Password","URL","Notes","TOTP","Icon","Last Modified","Created"` + "\n" + `"Root/a/b","t","u","p","","n","otpauth://x","0","",""` + "\n"))
	f.Add([]byte("Group,Title,Password\n/,..,x\nRoot/Recycle Bin,t,p\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse(KeePassXCCSV, data, Options{})
		fuzzPlan(t, p, err)
	})
}

func FuzzBitwarden(f *testing.F) {
	f.Add(bitwardenPlain(f, "k"))
	f.Add(protect(f, []byte(`{"encrypted": false, "items": [{"type": 1, "name": "x", "login": {"password": "p"}}]}`), "pw", 0))
	f.Add([]byte(`{"encrypted": true, "passwordProtected": true, "salt": "s", "kdfType": 0, "kdfIterations": 1, "encKeyValidation_DO_NOT_EDIT": "2.AAAAAAAAAAAAAAAAAAAAAA==|AAAAAAAAAAAAAAAAAAAAAA==|AAAA", "data": "2.a|b|c"}`))
	f.Add([]byte(`{"encrypted": false, "folders": [{"id": "f", "name": "/"}], "items": [{"type": 5, "folderId": "f", "sshKey": {}, "fields": [{"type": 1}]}]}`))
	pw := Options{Password: func() ([]byte, error) { return []byte("pw"), nil }}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse(Bitwarden, data, pw)
		fuzzPlan(t, p, err)
	})
}

func FuzzVaultKV(f *testing.F) {
	f.Add([]byte(`{"data": {"data": {"A": "x", "B": 1, "C": {"d": [true]}}, "metadata": {"version": 1}}}`))
	f.Add([]byte(`{"a/b/": {"data": {"data": {"K": "v"}, "metadata": {}}}, "c": {"data": {"data": null, "metadata": {}}}}`))
	f.Add([]byte(`{"data": {"data": {"K": "\udc00"}, "metadata": {}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse(VaultKV, data, Options{})
		fuzzPlan(t, p, err)
	})
}

// FuzzPassEntry fuzzes the reading of one decrypted pass entry.
func FuzzPassEntry(f *testing.F) {
	f.Add("a/b", []byte("pw\nuser: x\notpauth://totp/x?secret=S\n"))
	f.Add("x", []byte{0, 0xff})
	f.Add("..", []byte("\n\n"))
	f.Fuzz(func(t *testing.T, name string, data []byte) {
		b := newBuilder()
		b.addPass([]string{"dir"}, name, data)
		fuzzPlan(t, &b.plan, nil)
	})
}

func FuzzSegment(f *testing.F) {
	for _, s := range []string{"GitHub", "My Bank (old)", "", ".", "..", "日本", "a/b", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		seg := Segment(s)
		if err := vault.ValidName(seg); err != nil {
			t.Fatalf("Segment(%q) = %q: %v", s, seg, err)
		}
		if Segment(seg) != seg {
			t.Fatalf("Segment is not idempotent on %q", s)
		}
	})
}
