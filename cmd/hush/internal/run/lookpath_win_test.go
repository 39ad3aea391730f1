package run

import "testing"

// Windows' command search, on any system.
func TestFindWindows(t *testing.T) {
	files := map[string]bool{
		`C:\Program Files\nodejs\npm.cmd`:  true,
		`C:\Program Files\nodejs\node.exe`: true,
		`C:\tools\make.exe`:                true,
		`C:\tools\README`:                  true,
		`D:\bin\script.ps1`:                true,
	}
	isFile := func(p string) bool { return files[p] }
	path := `C:\tools;"C:\Program Files\nodejs\";;D:\bin`
	for _, c := range []struct{ name, pathext, want string }{
		{"npm", ".COM;.EXE;.BAT;.CMD", `C:\Program Files\nodejs\npm.cmd`},
		{"node", "", `C:\Program Files\nodejs\node.exe`},
		{"make", ".COM;.EXE", `C:\tools\make.exe`},
		{"make.exe", ".COM;.EXE", `C:\tools\make.exe`},
		{"README", ".EXE", ""},                         // not a program
		{"script.ps1", ".EXE;.CMD", ""},                // not in PATHEXT
		{`C:\tools\make`, ".EXE", `C:\tools\make.exe`}, // a path, extension added
		{`C:\Program Files\nodejs\node.exe`, ".EXE", `C:\Program Files\nodejs\node.exe`},
		{"npm", ".EXE", ""}, // .cmd not allowed
	} {
		got, err := findWindows(c.name, path, c.pathext, `\`, isFile)
		if got != c.want || (c.want == "") != (err != nil) {
			t.Errorf("findWindows(%q, PATHEXT=%q) = %q, %v; want %q", c.name, c.pathext, got, err, c.want)
		}
	}
}
