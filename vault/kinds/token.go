package kinds

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"math"
	"strings"
	"time"
)

// maxUnix is 9999-12-31T23:59:59Z: a later exp is not a date to show.
const maxUnix = 253402300799

// inspectToken reads a JWT's header and claims; any other token, and any
// JWT that does not decode cleanly, is opaque. The signature is not checked.
func inspectToken(value []byte) *Info {
	info := &Info{Kind: "token"}
	if len(value) > maxParseSize {
		return info
	}
	parts := bytes.Split(bytes.TrimSpace(value), []byte("."))
	if len(parts) != 3 || len(parts[0]) == 0 || len(parts[1]) == 0 {
		return info
	}
	var header struct {
		Alg string `json:"alg"`
	}
	if !decodeJWTPart(parts[0], &header) || header.Alg == "" {
		return info
	}
	var claims map[string]any
	if !decodeJWTPart(parts[1], &claims) || claims == nil {
		return info
	}
	if _, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(string(parts[2]), "=")); err != nil {
		return info
	}

	info.Fields = map[string]any{"alg": header.Alg}
	info.Summary = "JWT " + oneLine(header.Alg, 20)
	if f, ok := claims["exp"].(float64); ok {
		if !math.IsNaN(f) && f >= 0 && f <= maxUnix {
			t := time.Unix(int64(f), 0).UTC()
			info.Fields["expires"] = t.Format(time.RFC3339)
			info.Summary += ", expires " + t.Format(time.DateOnly)
		}
	}
	if iss, ok := claims["iss"].(string); ok {
		info.Fields["issuer"] = iss
	}
	if sub, ok := claims["sub"].(string); ok {
		info.Fields["subject"] = sub
	}
	return info
}

// decodeJWTPart decodes one base64url part of a JWT as a JSON object into v.
func decodeJWTPart(part []byte, v any) bool {
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(string(part), "="))
	if err != nil {
		return false
	}
	return json.Unmarshal(raw, v) == nil
}
