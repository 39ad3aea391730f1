package dynamic

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestParseTemplate(t *testing.T) {
	const role = "hush_0123456789abcdef"
	for _, tc := range []struct {
		in, want, err string
	}{
		{in: "GRANT app_readonly TO {{name}}", want: `GRANT app_readonly TO "hush_0123456789abcdef"`},
		{in: "GRANT r TO {{ name }}; COMMENT ON ROLE {{name}} IS 'x'", want: `GRANT r TO "hush_0123456789abcdef"; COMMENT ON ROLE "hush_0123456789abcdef" IS 'x'`},
		{in: "GRANT CONNECT ON DATABASE {{database}} TO {{name}}", want: `GRANT CONNECT ON DATABASE "sh""op" TO "hush_0123456789abcdef"`},
		{in: "{{name}}", want: `"hush_0123456789abcdef"`},
		{in: "SELECT '}}' ; GRANT r TO {{name}}", want: `SELECT '}}' ; GRANT r TO "hush_0123456789abcdef"`},
		{in: "GRANT r TO {{name}}\n-- é", want: "GRANT r TO \"hush_0123456789abcdef\"\n-- é"},
		{in: "", err: "empty"},
		{in: "  \n\t", err: "empty"},
		{in: "GRANT r TO app", err: "never mentions {{name}}"},
		{in: "GRANT r TO {{database}}", err: "never mentions {{name}}"},
		{in: "GRANT r TO {{user}}", err: "unknown placeholder {{user}} at byte 11"},
		{in: "GRANT r TO {{name}} {{password}}", err: "unknown placeholder {{password}}"},
		{in: "GRANT r TO {{Name}}", err: "unknown placeholder {{Name}}"},
		{in: "GRANT r TO {{}}", err: "unknown placeholder {{}}"},
		{in: "GRANT r TO {{name}} {{", err: "never closed"},
		{in: "GRANT r TO {{name", err: "never closed"},
		{in: `GRANT r TO "{{name}}"`, err: "in double quotes"},
		{in: "GRANT r TO {{name}}\x00", err: "NUL"},
		{in: "GRANT r TO {{name}}\xff", err: "UTF-8"},
		{in: "GRANT r TO {{name}}" + strings.Repeat(" ", 64<<10), err: "longer than"},
	} {
		tmpl, err := ParseTemplate(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseTemplate(%q) = %v, want an error with %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseTemplate(%q): %v", tc.in, err)
			continue
		}
		if got := tmpl.Expand(role, `sh"op`); got != tc.want {
			t.Errorf("Expand(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if tmpl.String() != tc.in {
			t.Errorf("String() = %q", tmpl.String())
		}
	}
}

func TestQuoteLiteral(t *testing.T) {
	for in, want := range map[string]string{
		"abc":     "'abc'",
		"it's":    "'it''s'",
		`a\b`:     `E'a\\b'`,
		`\'; --`:  `E'\\''; --'`,
		"SCRAM$1": "'SCRAM$1'",
	} {
		if got := quoteLiteral(in); got != want {
			t.Errorf("quoteLiteral(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestRoleNames(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		n, err := NewRoleName()
		if err != nil {
			t.Fatal(err)
		}
		if !ValidRoleName(n) || seen[n] {
			t.Fatalf("role name %q invalid or repeated", n)
		}
		seen[n] = true
	}
	for _, bad := range []string{"postgres", "hush_", "hush_0123456789ABCDEF", `hush_0123456789abcde"`, "hush_0123456789abcdef0", "x hush_0123456789abcdef"} {
		if ValidRoleName(bad) {
			t.Errorf("%q accepted", bad)
		}
	}
}

// FuzzTemplate: whatever the template, parsing never panics; an accepted
// template expands so that every {{name}} becomes exactly the quoted role
// and nothing of the template's own text is lost or added.
func FuzzTemplate(f *testing.F) {
	for _, s := range []string{
		"GRANT app_readonly TO {{name}}",
		"GRANT r TO {{ name }}; COMMENT ON ROLE {{name}} IS 'x'",
		"GRANT CONNECT ON DATABASE {{database}} TO {{name}}",
		"{{name}}{{name}}{{database}}",
		"{{{name}}}",
		"{{name}} }} {{",
		`"{{name}}"`,
		"{{\tname\n}}",
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tmpl, err := ParseTemplate(s)
		if err != nil {
			if strings.Contains(err.Error(), "\x00") {
				t.Fatalf("error holds a NUL: %q", err)
			}
			return
		}
		if !utf8.ValidString(s) || !strings.Contains(s, "{{") {
			t.Fatalf("accepted %q", s)
		}
		const role = "hush_0123456789abcdef"
		out := tmpl.Expand(role, "db")
		if !strings.Contains(out, `"`+role+`"`) {
			t.Fatalf("expansion of %q lacks the quoted role: %q", s, out)
		}
		// Putting the placeholders back gives the template without the
		// spaces inside braces.
		back := strings.NewReplacer(`"`+role+`"`, "{{name}}", `"db"`, "{{database}}").Replace(out)
		norm := normalise(s)
		if back != norm && !strings.Contains(s, `"db"`) && !strings.Contains(s, role) {
			t.Fatalf("round trip of %q gave %q, want %q", s, back, norm)
		}
	})
}

// normalise writes every {{ name }} as {{name}}.
func normalise(s string) string {
	var b strings.Builder
	for {
		i := strings.Index(s, "{{")
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		j := strings.Index(s[i+2:], "}}")
		b.WriteString(s[:i])
		b.WriteString("{{" + strings.TrimSpace(s[i+2:i+2+j]) + "}}")
		s = s[i+2+j+2:]
	}
}
