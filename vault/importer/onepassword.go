package importer

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"strings"

	"github.com/hush-secrets/hush/vault"
)

// The .1pux shape, as 1Password documents it ("1PUX format") and as
// Bitwarden's importer reads it: a zip holding export.attributes,
// export.data (this JSON) and files/ (attachments).
type onePux struct {
	Accounts []struct {
		Attrs struct {
			Name string `json:"name"`
		} `json:"attrs"`
		Vaults []struct {
			Attrs struct {
				Name string `json:"name"`
			} `json:"attrs"`
			Items []onePuxItem `json:"items"`
		} `json:"vaults"`
	} `json:"accounts"`
}

type onePuxItem struct {
	UUID         string `json:"uuid"`
	Trashed      bool   `json:"trashed"`
	State        string `json:"state"` // "active" or "archived"
	CategoryUUID string `json:"categoryUuid"`
	Details      struct {
		LoginFields []struct {
			Value       any    `json:"value"` // usually a string
			Name        string `json:"name"`
			FieldType   string `json:"fieldType"`
			Designation string `json:"designation"`
		} `json:"loginFields"`
		NotesPlain string `json:"notesPlain"`
		Password   string `json:"password"`
		Sections   []struct {
			Title  string `json:"title"`
			Fields []struct {
				Title string         `json:"title"`
				ID    string         `json:"id"`
				Value map[string]any `json:"value"`
			} `json:"fields"`
		} `json:"sections"`
		PasswordHistory    []any `json:"passwordHistory"`
		DocumentAttributes *struct {
			FileName string `json:"fileName"`
		} `json:"documentAttributes"`
	} `json:"details"`
	Overview struct {
		Title string `json:"title"`
		URL   string `json:"url"`
		URLs  []struct {
			URL string `json:"url"`
		} `json:"urls"`
		Tags []string `json:"tags"`
	} `json:"overview"`
}

// 1Password's item categories (categoryUuid).
var onePuxCategories = map[string]struct {
	typ    vault.Type
	reason string // non-empty: skipped
}{
	"001": {typ: vault.TypePassword},  // Login
	"002": {reason: reasonCard},       // Credit Card
	"003": {typ: vault.TypeNote},      // Secure Note
	"004": {reason: reasonIdentity},   // Identity
	"005": {typ: vault.TypePassword},  // Password
	"006": {reason: reasonAttachment}, // Document
	"100": {typ: vault.TypeAPIKey},    // Software License
	"101": {reason: reasonCard},       // Bank Account
	"102": {typ: vault.TypePassword},  // Database
	"103": {reason: reasonIdentity},   // Driver License
	"104": {reason: reasonIdentity},   // Outdoor License
	"105": {reason: reasonIdentity},   // Membership
	"106": {reason: reasonIdentity},   // Passport
	"107": {reason: reasonIdentity},   // Rewards Program
	"108": {reason: reasonIdentity},   // Social Security Number
	"109": {typ: vault.TypePassword},  // Wireless Router
	"110": {typ: vault.TypePassword},  // Server
	"111": {typ: vault.TypePassword},  // Email Account
	"112": {typ: vault.TypeAPIKey},    // API Credential
	"113": {reason: reasonIdentity},   // Medical Record
	"114": {typ: vault.TypeSSHKey},    // SSH Key
	"115": {typ: vault.TypeNote},      // Crypto Wallet
}

// onePuxMainField is the id of the concealed section field that holds the
// main secret of the categories that keep it in a section.
var onePuxMainField = map[string]string{"112": "credential", "102": "password", "110": "password", "109": "wireless_password", "111": "pop_password"}

func read1PUX(data []byte) (*Plan, error) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, fmt.Errorf("not a .1pux file (a zip archive): %w", err)
	}
	var exp []byte
	attachments := 0
	for _, f := range zr.File {
		switch {
		case f.Name == "export.data":
			if exp != nil {
				return nil, fmt.Errorf("the .1pux holds export.data twice")
			}
			if exp, err = readZipFile(f); err != nil {
				return nil, err
			}
		case strings.HasPrefix(f.Name, "files/") && !strings.HasSuffix(f.Name, "/"):
			attachments++
		}
	}
	if exp == nil {
		return nil, fmt.Errorf("the .1pux holds no export.data: is it a 1Password export?")
	}
	defer clear(exp)
	return read1PUXData(exp, attachments)
}

// read1PUXData reads export.data; attachments is the number of files in
// the archive's files/ folder.
func read1PUXData(exp []byte, attachments int) (*Plan, error) {
	var doc onePux
	if err := decodeJSON(exp, &doc); err != nil {
		return nil, fmt.Errorf("export.data: %w", err)
	}
	if len(doc.Accounts) == 0 {
		return nil, fmt.Errorf("export.data holds no accounts: is it a 1Password export?")
	}
	b := newBuilder()
	for _, acct := range doc.Accounts {
		for _, vlt := range acct.Vaults {
			for i := range vlt.Items {
				b.add1PUX(vlt.Attrs.Name, &vlt.Items[i])
			}
		}
	}
	// Attachments of items other than documents sit in files/ too; they
	// are counted once each, by file.
	docs := 0
	for _, s := range b.plan.Skipped {
		if s.Reason == reasonAttachment {
			docs++
		}
	}
	for range attachments - docs {
		b.skip("files/ in the .1pux", reasonAttachment)
	}
	return &b.plan, nil
}

func readZipFile(f *zip.File) ([]byte, error) {
	r, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("failed to read %s in the archive: %w", f.Name, err)
	}
	defer r.Close()
	b, err := io.ReadAll(io.LimitReader(r, maxDataSize+1))
	if err != nil {
		return nil, fmt.Errorf("failed to read %s in the archive: %w", f.Name, err)
	}
	if len(b) > maxDataSize {
		clear(b)
		return nil, fmt.Errorf("%s in the archive is larger than %d MiB", f.Name, maxDataSize>>20)
	}
	return b, nil
}

func (b *builder) add1PUX(vaultName string, it *onePuxItem) {
	e := entry{folder: []string{vaultName}, title: it.Overview.Title, tags: it.Overview.Tags, notes: it.Details.NotesPlain}
	name := path(e.folder, e.title)
	if it.Trashed || it.State == "deleted" || it.State == "trashed" {
		b.skip(name, reasonTrash)
		return
	}
	cat, ok := onePuxCategories[it.CategoryUUID]
	switch {
	case !ok:
		b.skip(name, reasonUnknown)
		return
	case cat.reason != "":
		b.skip(name, cat.reason)
		return
	}
	e.typ = cat.typ
	if it.State == "archived" {
		e.tags = append(e.tags, "archived")
	}
	if u := it.Overview.URL; u != "" {
		e.urls = append(e.urls, u)
	}
	for _, u := range it.Overview.URLs {
		if u.URL != "" && u.URL != it.Overview.URL {
			e.urls = append(e.urls, u.URL)
		}
	}
	for _, f := range it.Details.LoginFields {
		v, _ := f.Value.(string)
		switch {
		case v == "":
		case f.Designation == "username":
			e.username = v
		case f.Designation == "password":
			e.value = []byte(v)
		default:
			e.fields = append(e.fields, field{name: f.Name, value: v, secret: f.FieldType == "P"})
		}
	}
	if e.value == nil && it.Details.Password != "" {
		e.value = []byte(it.Details.Password)
	}
	for _, sec := range it.Details.Sections {
		for _, f := range sec.Fields {
			b.onePuxField(&e, it.CategoryUUID, f.Title, f.ID, f.Value, name)
		}
	}
	if it.CategoryUUID == "003" {
		// A secure note's text is its secret.
		e.value, e.notes = []byte(strings.TrimRight(it.Details.NotesPlain, " \t\r\n")), ""
	}
	if len(it.Details.PasswordHistory) > 0 {
		b.skip(name, reasonHistory)
	}
	b.add(e)
}

// onePuxField files one section field: the item's main secret for the
// categories whose secret lives in a section (API credential, database,
// server, SSH key, software license), a TOTP seed, a concealed field, or a
// line of the note.
func (b *builder) onePuxField(e *entry, cat, title, id string, value map[string]any, name string) {
	str := func(k string) string { s, _ := value[k].(string); return s }
	label := title
	if label == "" {
		label = id
	}
	switch {
	case value["file"] != nil:
		b.skip(name, reasonAttachment)
	case value["sshKey"] != nil:
		k, _ := value["sshKey"].(map[string]any)
		md, _ := k["metadata"].(map[string]any)
		pk, _ := md["privateKey"].(string)
		if pk == "" {
			pk, _ = k["privateKey"].(string)
		}
		if pk != "" && e.value == nil {
			e.value, e.typ = []byte(pk), vault.TypeSSHKey
		} else if pk != "" {
			e.fields = append(e.fields, field{name: label, value: pk, secret: true})
		}
	case str("totp") != "":
		if e.totp == "" {
			e.totp = str("totp")
		} else {
			e.fields = append(e.fields, field{name: label, value: str("totp"), secret: true})
		}
	case str("concealed") != "":
		v := str("concealed")
		if e.value == nil && (onePuxMainField[cat] == id || cat == "005" && id == "password") {
			e.value = []byte(v)
		} else {
			e.fields = append(e.fields, field{name: label, value: v, secret: true})
		}
	case cat == "100" && id == "reg_code" && str("string") != "" && e.value == nil:
		e.value = []byte(str("string")) // a software license key
	case cat == "102" && id == "username" || cat == "110" && id == "username" || cat == "112" && id == "username":
		if e.username == "" {
			e.username = str("string")
		}
	default:
		for _, k := range []string{"string", "url", "phone", "menu", "reference"} {
			if s := str(k); s != "" {
				e.fields = append(e.fields, field{name: label, value: s})
				return
			}
		}
		if em, ok := value["email"].(map[string]any); ok {
			if s, _ := em["email_address"].(string); s != "" {
				e.fields = append(e.fields, field{name: label, value: s})
			}
		}
	}
}

// read1PasswordCSV reads 1Password 8's CSV export, whose header is
// Title,Url,Username,Password,OTPAuth,Favorite,Archived,Tags,Notes; columns
// are found by name, so older exports with the same names read too.
func read1PasswordCSV(data []byte) (*Plan, error) {
	rows, col, err := readCSV(data, []string{"title", "password"}, map[string][]string{
		"title": {"title", "name"}, "url": {"url", "website", "urls"}, "username": {"username"},
		"password": {"password"}, "otp": {"otpauth", "one-time password", "totp"},
		"archived": {"archived"}, "tags": {"tags"}, "notes": {"notes", "notesplain"},
	})
	if err != nil {
		return nil, err
	}
	b := newBuilder()
	for _, r := range rows {
		e := entry{title: col(r, "title"), value: []byte(col(r, "password")), username: col(r, "username"),
			notes: col(r, "notes"), totp: col(r, "otp"), typ: vault.TypePassword}
		if u := col(r, "url"); u != "" {
			e.urls = []string{u}
		}
		if t := col(r, "tags"); t != "" {
			e.tags = strings.Split(t, ",")
		}
		if strings.EqualFold(col(r, "archived"), "true") {
			e.tags = append(e.tags, "archived")
		}
		b.add(e)
	}
	return &b.plan, nil
}
