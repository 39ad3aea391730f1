package kinds

import (
	"bytes"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/ssh"
)

const notSSHKey = "not an SSH key"

// privateKeyPEMTypes are the PEM block types ssh.ParseRawPrivateKey reads.
var privateKeyPEMTypes = map[string]bool{
	"OPENSSH PRIVATE KEY": true,
	"RSA PRIVATE KEY":     true, // PKCS#1
	"EC PRIVATE KEY":      true, // SEC 1
	"PRIVATE KEY":         true, // PKCS#8
}

func inspectSSHKey(value []byte) (*Info, error) {
	if len(value) > maxParseSize {
		return nil, fmt.Errorf("too large to be an SSH key (over %d MiB)", maxParseSize>>20)
	}
	if len(bytes.TrimSpace(value)) == 0 {
		return nil, kindError(notSSHKey, "empty value")
	}
	if hasPEM(value) {
		return inspectSSHPrivateKey(value)
	}
	pub, _, _, _, err := ssh.ParseAuthorizedKey(value)
	if err != nil {
		return nil, kindError(notSSHKey, "neither a PEM private key nor a public key line")
	}
	return sshInfo(pub, false, false), nil
}

// inspectSSHPrivateKey reads the first PEM block of value that holds a
// private key; other blocks (a certificate next to it, ...) are ignored.
func inspectSSHPrivateKey(value []byte) (*Info, error) {
	blocks, _ := pemBlocks(unindent(value))
	if len(blocks) == 0 {
		return nil, kindError(notSSHKey, "malformed PEM (truncated, bad base64 or no END line)")
	}
	var block *pem.Block
	for _, b := range blocks {
		if strings.HasSuffix(b.Type, "PRIVATE KEY") {
			block = b
			break
		}
	}
	if block == nil {
		return nil, kindError(notSSHKey, "PEM has no private key block")
	}
	if block.Type == "ENCRYPTED PRIVATE KEY" {
		// Encrypted PKCS#8, which the ssh package does not read: it carries
		// no public key, so all there is to check is its outer structure.
		var epki struct {
			Algorithm     pkix.AlgorithmIdentifier
			EncryptedData []byte
		}
		if rest, err := asn1.Unmarshal(block.Bytes, &epki); err != nil || len(rest) > 0 || len(epki.EncryptedData) == 0 {
			return nil, kindError(notSSHKey, "encrypted PKCS#8 block does not parse")
		}
		return encryptedNoPublicKey(), nil
	}
	if !privateKeyPEMTypes[block.Type] {
		return nil, kindError(notSSHKey, "PEM private key of a type SSH does not use")
	}

	// The ssh package reads the first block of what it is given: give it
	// this one alone.
	signer, err := ssh.ParsePrivateKey(pem.EncodeToMemory(block))
	if err != nil {
		var missing *ssh.PassphraseMissingError
		if errors.As(err, &missing) {
			if missing.PublicKey == nil {
				return encryptedNoPublicKey(), nil
			}
			return sshInfo(missing.PublicKey, true, true), nil
		}
		return nil, kindError(notSSHKey, "private key does not parse, or is of a type SSH does not support")
	}
	return sshInfo(signer.PublicKey(), true, false), nil
}

// encryptedNoPublicKey is the Info of an encrypted private key whose format
// does not carry the public key (legacy PEM encryption, encrypted PKCS#8).
func encryptedNoPublicKey() *Info {
	return &Info{
		Kind:    "ssh-key",
		Summary: "encrypted private key (public key not stored with it)",
		Fields:  map[string]any{"private": true, "encrypted": true},
	}
}

func sshInfo(pub ssh.PublicKey, private, encrypted bool) *Info {
	fp := ssh.FingerprintSHA256(pub)
	return &Info{
		Kind:    "ssh-key",
		Summary: sshAlgoName(pub.Type()) + " " + fp,
		Fields: map[string]any{
			"algorithm":   pub.Type(),
			"fingerprint": fp,
			"public_key":  strings.TrimSpace(string(ssh.MarshalAuthorizedKey(pub))),
			"private":     private,
			"encrypted":   encrypted,
		},
	}
}

// sshAlgoName is the name ssh-keygen -l shows for a key type.
func sshAlgoName(typ string) string {
	cert := strings.HasSuffix(typ, "-cert-v01@openssh.com")
	base := strings.TrimSuffix(typ, "-cert-v01@openssh.com")
	var name string
	switch {
	case base == ssh.KeyAlgoED25519:
		name = "ED25519"
	case base == ssh.KeyAlgoSKED25519:
		name = "ED25519-SK"
	case base == ssh.KeyAlgoRSA:
		name = "RSA"
	case base == ssh.KeyAlgoDSA:
		name = "DSA"
	case base == ssh.KeyAlgoSKECDSA256:
		name = "ECDSA-SK"
	case strings.HasPrefix(base, "ecdsa-sha2-"):
		name = "ECDSA"
	default:
		name = strings.ToUpper(oneLine(base, 40))
	}
	if cert {
		name += "-CERT"
	}
	return name
}
