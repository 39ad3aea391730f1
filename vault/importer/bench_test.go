package importer

import (
	"fmt"
	"testing"
)

// bitwardenExport10k is a plain Bitwarden export of n logins in 100 folders.
func bitwardenExportN(b testing.TB, n int) []byte {
	folders := arr{}
	for i := range 100 {
		folders = append(folders, obj{"id": fmt.Sprint("f", i), "name": fmt.Sprint("team ", i)})
	}
	items := arr{}
	for i := range n {
		items = append(items, obj{"id": fmt.Sprint(i), "folderId": fmt.Sprint("f", i%100), "type": 1, "name": fmt.Sprint("site ", i),
			"notes": "some notes", "login": obj{"username": "me@example.com", "password": fmt.Sprintf("pw-%032d", i),
				"uris": arr{obj{"uri": fmt.Sprint("https://site", i, ".example.com")}}}})
	}
	return mustJSON(b, obj{"encrypted": false, "folders": folders, "items": items})
}

func BenchmarkParseBitwarden10k(b *testing.B) {
	data := bitwardenExportN(b, 10000)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Parse(Bitwarden, data, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkApply10k(b *testing.B) {
	p, err := Parse(Bitwarden, bitwardenExportN(b, 10000), Options{})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		b.StopTimer()
		v := newVault(b)
		b.StartTimer()
		if _, err := Apply(v, "moved", p, false); err != nil {
			b.Fatal(err)
		}
	}
}
