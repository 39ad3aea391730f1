package importer

import (
	"strings"

	"github.com/hush-secrets/hush/vault"
)

// readKeePassXCCSV reads KeePassXC's CSV export (Database > Export > CSV,
// or `keepassxc-cli export --format csv`), whose header is
// "Group","Title","Username","Password","URL","Notes","TOTP","Icon",
// "Last Modified","Created" (older versions stop after Notes). Group is the
// path from the root group, "/"-separated, root included: the root's name
// is dropped, the rest become folders.
func readKeePassXCCSV(data []byte) (*Plan, error) {
	rows, col, err := readCSV(data, []string{"group", "title", "password"}, map[string][]string{
		"group": {"group"}, "title": {"title"}, "username": {"username", "user name"}, "password": {"password"},
		"url": {"url"}, "notes": {"notes"}, "totp": {"totp"}, "tags": {"tags"},
	})
	if err != nil {
		return nil, err
	}
	b := newBuilder()
	for _, r := range rows {
		groups := strings.Split(col(r, "group"), "/")
		if len(groups) > 0 {
			groups = groups[1:] // the root group
		}
		e := entry{folder: groups, title: col(r, "title"), value: []byte(col(r, "password")), username: col(r, "username"),
			notes: col(r, "notes"), totp: col(r, "totp"), typ: vault.TypePassword}
		if u := col(r, "url"); u != "" {
			e.urls = []string{u}
		}
		if t := col(r, "tags"); t != "" {
			e.tags = strings.FieldsFunc(t, func(r rune) bool { return r == ',' || r == ';' })
		}
		if len(groups) > 0 && groups[0] == "Recycle Bin" {
			b.skip(path(e.folder, e.title), reasonTrash)
			continue
		}
		b.add(e)
	}
	return &b.plan, nil
}
