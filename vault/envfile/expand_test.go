package envfile

import (
	"slices"
	"strings"
	"testing"
)

// TestGodotenvFixtures holds godotenv's fixtures/quoted.env and
// fixtures/substitutions.env with the values its own tests expect
// (TestLoadQuotedEnv, TestSubstitutions), so that a .env written for the
// de-facto Go loader reads the same here. GLOBAL_OPTION comes from the
// process environment in godotenv; here only through LookupEnv.
func TestGodotenvFixtures(t *testing.T) {
	quoted := "OPTION_A='1'\nOPTION_B='2'\nOPTION_C=''\nOPTION_D='\\n'\nOPTION_E=\"1\"\nOPTION_F=\"2\"\nOPTION_G=\"\"\nOPTION_H=\"\\n\"\n" +
		"OPTION_I = \"echo 'asd'\"\nOPTION_J='line 1\nline 2'\nOPTION_K='line one\nthis is \\'quoted\\'\none more line'\n" +
		"OPTION_L=\"line 1\nline 2\"\nOPTION_M=\"line one\nthis is \\\"quoted\\\"\none more line\"\n"
	runGood(t, Dotenv, []goodCase{{"quoted.env", quoted, kv(
		"OPTION_A", "1", "OPTION_B", "2", "OPTION_C", "", "OPTION_D", `\n`, "OPTION_E", "1", "OPTION_F", "2",
		"OPTION_G", "", "OPTION_H", "\n", "OPTION_I", "echo 'asd'", "OPTION_J", "line 1\nline 2",
		"OPTION_K", "line one\nthis is \\'quoted\\'\none more line", "OPTION_L", "line 1\nline 2",
		"OPTION_M", "line one\nthis is \"quoted\"\none more line")}})

	subst := "OPTION_A=1\nOPTION_B=${OPTION_A}\nOPTION_C=$OPTION_B\nOPTION_D=${OPTION_A}${OPTION_B}\nOPTION_E=${OPTION_NOT_DEFINED}\nOPTION_F=${GLOBAL_OPTION}\n"
	env := func(k string) (string, bool) {
		if k == "GLOBAL_OPTION" {
			return "global", true
		}
		return "", false
	}
	got, err := Options{LookupEnv: env}.Parse(Dotenv, []byte(subst))
	if err != nil {
		t.Fatal(err)
	}
	want := kv("OPTION_A", "1", "OPTION_B", "1", "OPTION_C", "1", "OPTION_D", "11", "OPTION_E", "", "OPTION_F", "global")
	if !sameEntries(got, want) {
		t.Fatalf("substitutions.env: got %q, want %q", got, want)
	}
	// Without LookupEnv the process environment takes no part.
	t.Setenv("GLOBAL_OPTION", "from-the-shell")
	got, err = Parse(Dotenv, []byte(subst))
	if err != nil || string(got[5].Value) != "" {
		t.Fatalf("OPTION_F without LookupEnv = %q, %v; want empty", got[5].Value, err)
	}
}

func TestExpansion(t *testing.T) {
	runGood(t, Dotenv, []goodCase{
		{"braced and bare", "A=x\nB=${A}\nC=$A\nD=${A}${B}$C\n", kv("A", "x", "B", "x", "C", "x", "D", "xxx")},
		{"inside text", "HOST=db\nURL=postgres://$HOST:5432/${HOST}_x\n", kv("HOST", "db", "URL", "postgres://db:5432/db_x")},
		{"name ends at non-name byte", "A=1\nB=$A.$A-$A/${A}\n", kv("A", "1", "B", "1.1-1/1")},
		{"longest name", "A=1\nAB=$ABC\n", kv("A", "1", "AB", "")},
		{"lower case", "db=x\nB=$db\n", kv("db", "x", "B", "x")},
		{"double quoted", "A=x\nB=\"[$A] [${A}] [\\$A] [\\${A}]\"\n", kv("A", "x", "B", "[x] [x] [$A] [${A}]")},
		{"single quoted literal", "A=x\nB='$A ${A}'\n", kv("A", "x", "B", "$A ${A}")},
		{"unquoted escaped dollar", "A=x\nB=\\$A \\${A} \\n\n", kv("A", "x", "B", `$A ${A} \n`)},
		{"unknown is empty", "B=a${NOPE}b$NOPE\n", kv("B", "ab")},
		{"later keys are unknown", "B=$A\nA=x\n", kv("B", "", "A", "x")},
		{"self is unknown", "A=$A\n", kv("A", "")},
		{"lone dollar", "A=$\nB=\"$\"\nC=a$ b\nD=$1\nE=\"$$\"\nF=$(cmd)\n", kv("A", "$", "B", "$", "C", "a$ b", "D", "$1", "E", "$$", "F", "$(cmd)")},
		{"expanded text is not re-read", "A=\"\\$B #c\\n\"\nB=$A\nC=\"$A\"\n", kv("A", "$B #c\n", "B", "$B #c\n", "C", "$B #c\n")},
		{"comment before expansion", "A=x\nB=$A #$A\n", kv("A", "x", "B", "x")},
		{"keys with dots are not names", "a.b=x\nB=$a.b\n", kv("a.b", "x", "B", ".b")},
		{"binary values expand", "A=\"\\x00\\xff\"\nB=\"<$A>\"\n", kv("A", "\x00\xff", "B", "<\x00\xff>")},
		{"multi-line value expands", "A=\"l1\nl2\"\nB=\"$A\"\n", kv("A", "l1\nl2", "B", "l1\nl2")},
	})
	runBad(t, Dotenv, []badCase{
		{"unclosed brace", "A=x\nB=sekrit${A\n", 2, "invalid ${...} in value of B"},
		{"default syntax", "B=${sekrit:-x}\n", 1, "only ${NAME} and $NAME are expanded"},
		{"empty braces", "B=\"sekrit ${}\"\n", 1, "invalid ${...} in value of B"},
		{"brace on later line", "B=\"sekrit\n${A\"\n", 2, "invalid ${...} in value of B"},
	})
}

func TestNoExpand(t *testing.T) {
	in := "A=x\nB=$A ${A} \\$A\nC=\"$A \\$A\"\nD='$A'\nE=${sekrit\n"
	got, err := Options{NoExpand: true}.Parse(Dotenv, []byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := kv("A", "x", "B", `$A ${A} \$A`, "C", "$A $A", "D", "$A", "E", "${sekrit")
	if !sameEntries(got, want) {
		t.Fatalf("got %q\nwant %q", got, want)
	}
}

func TestUndefinedReport(t *testing.T) {
	type ref struct {
		line int
		key  string
	}
	var got []ref
	o := Options{
		Undefined: func(line int, key string) { got = append(got, ref{line, key}) },
		LookupEnv: func(k string) (string, bool) { return "env", k == "HOME" },
	}
	es, err := o.Parse(Dotenv, []byte("A=pa$$word\nB=$HOME\nC=\"x\n${NOPE}\"\nD=$A\n"))
	if err != nil {
		t.Fatal(err)
	}
	if string(es[0].Value) != "pa$" || string(es[1].Value) != "env" || string(es[3].Value) != "pa$" {
		t.Errorf("values %q", es)
	}
	want := []ref{{1, "A"}, {4, "C"}}
	if !slices.Equal(got, want) {
		t.Errorf("Undefined called with %v, want %v", got, want)
	}
}

func TestSingleQuotedBackslashes(t *testing.T) {
	runGood(t, Dotenv, []goodCase{
		{"escaped quote stays escaped", `A='it\'s'`, kv("A", `it\'s`)},
		{"even backslashes close", `A='x\\' # c`, kv("A", `x\\`)},
		{"three backslashes", `A='x\\\'y'`, kv("A", `x\\\'y`)},
		{"escaped quote over lines", "A='a\\'\nb'\nB=1\n", kv("A", "a\\'\nb", "B", "1")},
	})
	runBad(t, Dotenv, []badCase{
		{"escaped quote at end", "\nA='sekrit\\'", 2, "unterminated single-quoted value of A"},
		{"text after", `A='sekrit\'' x'`, 1, "unexpected text after the closing quote of A"},
	})
}

func TestJSONSurrogates(t *testing.T) {
	runGood(t, JSON, []goodCase{
		{"pair", `{"A": "\ud83d\ude00", "B": "\uD83D\uDE00x"}`, kv("A", "😀", "B", "😀x")},
		{"escaped backslash before u", `{"A": "\\ud800"}`, kv("A", `\ud800`)},
		{"replacement char itself", `{"A": "\ufffd"}`, kv("A", "\ufffd")},
	})
	runBad(t, JSON, []badCase{
		{"lone high", "{\"A\": \"x\",\n\"B\": \"sekrit\\ud800\"}", 2, "value of B holds an unpaired UTF-16 surrogate"},
		{"lone low", `{"B": "\udc00sekrit"}`, 1, "unpaired UTF-16 surrogate"},
		{"high then text", `{"B": "\ud800sekrit"}`, 1, "unpaired"},
		{"high high", `{"B": "\ud800\ud800"}`, 1, "unpaired"},
		{"reversed pair", `{"B": "\ude00\ud83d"}`, 1, "unpaired"},
		{"after escapes", `{"B": "\\\"\ud800"}`, 1, "unpaired"},
	})
}

func TestExpansionErrorsNameNoValue(t *testing.T) {
	_, err := Parse(Dotenv, []byte("K=${sekrit"))
	if err == nil || strings.Contains(err.Error(), "krit") {
		t.Fatalf("error %v", err)
	}
}
