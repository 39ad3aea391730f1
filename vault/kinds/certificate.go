package kinds

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"strings"
	"time"
)

const notCertificate = "not a certificate"

var pemBegin = []byte("-----BEGIN ")

// pemBlocks decodes every PEM block in data. ok is false when data has a
// BEGIN line that does not start a well-formed block (no END line, bad
// base64, ...): pem.Decode skips such blocks silently, and a chain with a
// broken certificate in it must not pass for a shorter chain.
func pemBlocks(data []byte) (blocks []*pem.Block, ok bool) {
	for rest := data; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		blocks = append(blocks, b)
	}
	return blocks, len(blocks) == countBeginLines(data)
}

// countBeginLines counts the lines of data that start with "-----BEGIN ".
func countBeginLines(data []byte) int {
	n := 0
	if bytes.HasPrefix(data, pemBegin) {
		n++
	}
	return n + bytes.Count(data, append([]byte{'\n'}, pemBegin...))
}

// hasPEM says whether data looks like PEM, whether or not it decodes.
func hasPEM(data []byte) bool {
	return bytes.Contains(data, pemBegin)
}

// unindent strips the spaces and tabs that start data's lines, as in PEM
// pasted from YAML or an e-mail: pem.Decode wants BEGIN and END lines at the
// start of a line.
func unindent(data []byte) []byte {
	lines := bytes.SplitAfter(data, []byte("\n"))
	for i, l := range lines {
		lines[i] = bytes.TrimLeft(l, " \t")
	}
	return bytes.Join(lines, nil)
}

func inspectCertificate(value []byte) (*Info, error) {
	if len(value) > maxParseSize {
		return nil, fmt.Errorf("too large to be a certificate (over %d MiB)", maxParseSize>>20)
	}
	if len(bytes.TrimSpace(value)) == 0 {
		return nil, kindError(notCertificate, "empty value")
	}

	var certs []*x509.Certificate
	hasKey := false
	if hasPEM(value) {
		blocks, ok := pemBlocks(unindent(value))
		if !ok {
			return nil, kindError(notCertificate, "malformed PEM (a block is truncated, has bad base64 or lacks its END line)")
		}
		for i, b := range blocks {
			switch {
			case b.Type == "CERTIFICATE":
				c, err := x509.ParseCertificate(b.Bytes)
				if err != nil {
					return nil, kindError(notCertificate, fmt.Sprintf("PEM block %d does not parse as a certificate", i+1))
				}
				certs = append(certs, c)
			case strings.HasSuffix(b.Type, "PRIVATE KEY"):
				hasKey = true
			}
		}
		if len(certs) == 0 {
			if hasKey {
				return nil, kindError(notCertificate, "PEM has a private key but no CERTIFICATE block")
			}
			return nil, kindError(notCertificate, "PEM has no CERTIFICATE block")
		}
	} else {
		c, err := x509.ParseCertificate(value)
		if err != nil {
			if value[0] == 0x30 { // an ASN.1 SEQUENCE: meant as DER
				return nil, kindError(notCertificate, "DER data does not parse as a certificate")
			}
			return nil, kindError(notCertificate, "no PEM CERTIFICATE block and not DER")
		}
		certs = append(certs, c)
	}

	leaf := certs[0]
	sans := make([]string, 0, len(leaf.DNSNames)+len(leaf.IPAddresses)+len(leaf.EmailAddresses)+len(leaf.URIs))
	sans = append(sans, leaf.DNSNames...)
	for _, ip := range leaf.IPAddresses {
		sans = append(sans, ip.String())
	}
	sans = append(sans, leaf.EmailAddresses...)
	for _, u := range leaf.URIs {
		sans = append(sans, u.String())
	}
	fp := sha256.Sum256(leaf.Raw)
	notAfter := leaf.NotAfter.UTC()

	name := leaf.Subject.CommonName
	if name == "" && len(sans) > 0 {
		name = sans[0]
	}
	var summary string
	switch {
	case name != "":
		summary = "CN=" + oneLine(name, 64)
	case leaf.Subject.String() != "":
		summary = oneLine(leaf.Subject.String(), 64)
	default:
		summary = "no subject"
	}
	summary += ", ends " + notAfter.Format(time.DateOnly)

	return &Info{
		Kind:     "certificate",
		Summary:  summary,
		NotAfter: notAfter,
		Fields: map[string]any{
			"subject":            leaf.Subject.String(),
			"issuer":             leaf.Issuer.String(),
			"sans":               sans,
			"not_before":         leaf.NotBefore.UTC().Format(time.RFC3339),
			"not_after":          notAfter.Format(time.RFC3339),
			"serial":             leaf.SerialNumber.Text(16),
			"chain_length":       len(certs),
			"fingerprint_sha256": hex.EncodeToString(fp[:]),
			"has_private_key":    hasKey,
		},
	}, nil
}
