// Package envfile parses and writes the flat KEY/value files that
// `hush import` reads and `hush export` writes. Four formats exist: dotenv,
// JSON and YAML can be read and written; shell can only be written.
//
// Values are secrets and are handled as arbitrary bytes. No error returned
// by this package ever contains a value or any part of one: errors name only
// key names, line numbers and the rule that was broken. Parse never keeps a
// reference to its input, so the caller may wipe it afterwards.
//
// # Common rules
//
// Input larger than [MaxInput] (16 MiB) is refused. A UTF-8 byte order mark
// at the start of the input is skipped.
//
// A key is 1 to 255 bytes of A-Z a-z 0-9 _ . - and is neither "." nor ".."
// (keys become the last segment of a secret's path). A key that appears
// twice in one input is an error, never "last one wins", because a silently
// dropped value is lost data. Entries are returned, and written, in order.
//
// Syntax problems are reported as *[ParseError] carrying a 1-based line
// number where one is known.
//
// Write checks every entry (key rule, duplicates, and the limits of the
// format below) before it writes anything, so a failed Write writes nothing.
//
// # Dotenv
//
// Reading:
//
//   - CRLF line endings are turned into LF for the whole input first, also
//     inside quoted values.
//   - Blank lines and lines whose first non-blank character is # are ignored.
//   - Each other line is KEY=value. An optional "export" prefix followed by
//     at least one space or tab is skipped. Spaces and tabs around the key
//     and around = are ignored. A line without = is an error.
//   - Unquoted value: the rest of the line with surrounding spaces and tabs
//     removed. A # that follows a space or tab starts a comment, so
//     KEY=a#b is "a#b" but KEY=a #b is "a". Every other byte, backslashes
//     included, is taken literally, except that variables are expanded
//     (below) and \$ stands for a literal $. A value starting with ' or "
//     is quoted.
//   - Single-quoted value: the bytes up to the closing ', taken literally:
//     no escapes, no expansion. It may span lines. As in godotenv, a '
//     after an odd number of backslashes does not close the value, and the
//     backslashes stay: 'it\'s' is it\'s, 'x\\' is x\\.
//   - Double-quoted value: may span lines; raw newlines inside are kept.
//     The escapes \n \r \t \" \\ \$ \' \` stand for newline, carriage
//     return, tab, ", \, $, ' and `. \xHH (exactly two hex digits) stands
//     for the byte 0xHH; \x not followed by two hex digits is an error. Any other
//     backslash is kept literally together with the character after it
//     (\a stays \a), as common dotenv loaders do. Variables are expanded.
//   - Variable expansion, in unquoted and double-quoted values: $NAME and
//     ${NAME}, where NAME is [A-Za-z_][A-Za-z0-9_]* (the longest such run
//     after a bare $), are replaced by the value of the key NAME defined
//     earlier in the same input, as read (binary bytes included). The
//     replacement is not read again for escapes or further references. A
//     variable that is not an earlier key comes from [Options].LookupEnv
//     when one is given, and is otherwise the empty string (godotenv and
//     docker compose would read the process environment here; hush does not
//     unless asked, so that an import never copies the importing shell's
//     environment into a vault silently). A $ not followed by { or a name
//     start is kept ($, $1, a$ b). A ${ that does not form ${NAME} is an
//     error (${A, ${}, ${A:-default}): defaults and other shell operators
//     are not supported. [Options].NoExpand turns all of this off: $ and \$
//     are then literal in unquoted values, and \$ is $ in double-quoted ones.
//   - After a closing quote only spaces, tabs and an optional # comment may
//     follow on that line; anything else is an error. An unterminated quote
//     is an error reporting the line on which the quote opened.
//
// An example:
//
//	# comment
//	export DB_HOST = db.internal   # comment
//	DB_PASS='p@ss"word'
//	TLS_KEY="-----BEGIN KEY-----
//	MIIEvQ...
//	-----END KEY-----"
//	DB_URL="postgres://app:${DB_PASS}@$DB_HOST/app"
//	PRICE='$5'                   # single quotes: no expansion
//	LITERAL="\$HOME\n"            # "$HOME" and a newline
//
// Writing produces one KEY="value" line per entry, always double-quoted.
// \ " $ ` are written as \\ \" \$ \` (so nothing written is ever
// expanded, and a POSIX shell sourcing the file runs nothing: these are
// the four bytes special inside a shell's double quotes); newline,
// carriage return and tab as \n \r \t; every other byte below 0x20, the
// byte 0x7f and every byte that is not part of valid UTF-8 as \xHH with
// lowercase hex. Valid multi-byte UTF-8 is written as is. Any values,
// including binary ones, read back exactly. A shell keeps \n \r \t and
// \xHH as written (a backslash and letters), not the bytes they stand
// for, and takes a line whose key is not a shell name for a command: the
// Shell format is the one meant for shells.
//
// # JSON
//
// Reading: the input must be valid UTF-8 holding exactly one object, with
// nothing but white space after it. Each member's value must be a string,
// a number or a boolean; numbers and booleans are kept as their literal text
// (1.50 gives "1.50", true gives "true"). null, arrays and objects are
// errors naming the key. A \u escape of an unpaired UTF-16 surrogate
// ("\ud800") is an error: it stands for no text, and decoding it as U+FFFD
// would store another value than the file holds.
//
// Writing produces an object indented by two spaces, one member per line, in
// the given order, with a trailing newline. JSON cannot hold arbitrary bytes,
// so a value that is not valid UTF-8 is an error; use dotenv for those.
//
// # YAML
//
// Reading: the input is a single YAML document whose root is a mapping from
// scalar keys to scalar values. Each scalar's text is kept as written, so
// port: 5432 gives "5432" and on: yes gives "yes"; tags are ignored, except
// !!binary: its base64 text (white space allowed) is decoded and the bytes
// are the value; base64 that does not decode is an error, and so is a key
// tagged !!binary. A
// value that is empty, ~ or null (unquoted) gives an empty value. Nested
// mappings or sequences are errors naming the key. Anchors and aliases are
// refused, which rules out alias expansion bombs. A second document is an
// error. An empty input, or one holding only comments, gives no entries.
//
// Writing produces one KEY: "value" line per entry, in the given order (a
// key starting with - or . is double-quoted too).
// Every value is double-quoted so that values such as 0123, yes or null keep
// their text and do not change type in other YAML readers; control
// characters and Unicode line separators are escaped. A value that is not
// valid UTF-8 is written as KEY: !!binary BASE64, so any value reads back
// exactly.
//
// # Shell
//
// Write only: one line per entry, suitable for eval or source in a POSIX
// shell. Values are single-quoted and all bytes are written as is, except
// that a single quote closes the quotes, is escaped and reopens them:
//
//	export KEY='it'\''s'
//
// Each key must also be a valid environment variable name,
// [A-Za-z_][A-Za-z0-9_]*, and a value may not contain a NUL byte, which no
// shell variable can hold; both are errors naming the key.
package envfile
