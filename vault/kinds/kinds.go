// Package kinds understands what a secret's value is, for the types hush
// knows: it checks that a certificate is a certificate, an SSH key an SSH
// key, an encryption key a key of a usable size, and reads what can be shown
// about them without showing the value itself: a certificate's names and end
// date, an SSH key's fingerprint, a JWT's algorithm and expiry.
//
// The types are the strings of vault.Type ("password", "api-key", "token",
// "certificate", "ssh-key", "encryption-key", "note", "other",
// "dynamic-postgres"); the package takes them as plain strings so that vault
// can import it.
//
// Nothing from a value goes into an error, and nothing secret goes into an
// Info: errors name what is wrong ("PEM block 2 does not parse as a
// certificate"), never the bytes, and an Info holds only public material
// (a certificate's fields, an SSH public key) and facts about the value
// (its size, whether it is encrypted). A JWT's claims are read, not
// verified: see Inspect.
package kinds

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// maxParseSize (1 MiB) bounds the values Inspect parses as certificates or
// SSH keys; longer ones are refused. Longer tokens are treated as opaque.
const maxParseSize = 1 << 20

// Info is what hush shows about a value instead of the value itself.
type Info struct {
	Kind     string         // "certificate", "ssh-key", ...
	Summary  string         // one line for ls and the TUI, e.g. "CN=shop.example.com, ends 2027-01-31" or "ED25519 SHA256:abc..."
	NotAfter time.Time      // certificates: the leaf's end; zero otherwise
	Fields   map[string]any // for get --json; nil when there is nothing to say
}

// Inspect checks value against the secret type typ and says what it is.
//
//   - "certificate": PEM (a chain of CERTIFICATE blocks, the first being the
//     leaf; other blocks such as a private key are ignored, and noted in
//     Fields["has_private_key"]) or one DER certificate. Fields: "subject",
//     "issuer" (strings), "sans" ([]string: DNS names, IP addresses, emails,
//     URIs), "not_before", "not_after" (RFC 3339, UTC), "serial" (hex),
//     "chain_length" (int), "fingerprint_sha256" (hex SHA-256 of the leaf's
//     DER), "has_private_key" (bool). NotAfter is the leaf's end.
//   - "ssh-key": a private key (OpenSSH, PKCS#1, PKCS#8 or SEC 1 PEM; an
//     encrypted one is accepted without its passphrase and gives its public
//     key when the format carries it) or an authorized_keys line. Fields:
//     "algorithm" (e.g. "ssh-ed25519"), "fingerprint" (SHA256:...),
//     "public_key" (the authorized_keys line, no comment), "private",
//     "encrypted" (bools). Private key material is never in the Info.
//   - "token": a JWT gives Fields "alg" and, when its payload has them,
//     "expires" (exp, RFC 3339 UTC), "issuer" (iss) and "subject" (sub).
//     The claims are read, NOT verified: the signature is not checked, so
//     they say what the token claims, not that it is genuine. Any other
//     token is opaque: an Info with no Summary and no error.
//   - "encryption-key": 16, 24, 32 or 64 bytes, raw or in hex or base64.
//     Fields "bits" (int) and "encoding" ("raw", "hex" or "base64").
//   - "password", "api-key", "note", "other": not checked; an Info with
//     only its Kind.
//   - "dynamic-postgres": a PostgreSQL admin URL ([ParsePostgresURL]).
//     Summary: the URL without its password and parameters. Fields "user",
//     "host", "database".
//
// An unknown type, or a value that is not what its type says, is an error;
// so is a certificate or SSH key value over 1 MiB.
// Inspect never panics, whatever the value.
func Inspect(typ string, value []byte) (*Info, error) {
	switch typ {
	case "certificate":
		return inspectCertificate(value)
	case "ssh-key":
		return inspectSSHKey(value)
	case "token":
		return inspectToken(value), nil
	case "encryption-key":
		return inspectEncryptionKey(value)
	case "password", "api-key", "note", "other":
		return &Info{Kind: typ}, nil
	case "dynamic-postgres":
		return inspectPostgres(value)
	}
	return nil, fmt.Errorf("unknown secret type %q", oneLine(typ, 40))
}

// kindError is a value that is not what its type says. Its reason is one of
// the fixed texts of this package, never text from the value or from a
// parser (parsers' errors may quote what they failed to parse).
func kindError(prefix, reason string) error {
	return errors.New(prefix + ": " + reason)
}

// oneLine makes public text from a value fit on one line of a terminal:
// control characters and invalid UTF-8 become U+FFFD, and it is cut to max
// runes.
func oneLine(s string, max int) string {
	var b strings.Builder
	n := 0
	for _, r := range s {
		if n == max {
			b.WriteString("…")
			break
		}
		if !unicode.IsPrint(r) {
			r = utf8.RuneError
		}
		b.WriteRune(r)
		n++
	}
	return b.String()
}
