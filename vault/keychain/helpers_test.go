package keychain

import (
	"encoding/base64"
	"strconv"
	"strings"
)

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

func sscanDescribe(desc string, typ *string, uid, gid *int, perm *uint32) (int, error) {
	parts := strings.SplitN(desc, ";", 5)
	if len(parts) < 5 {
		return 0, nil
	}
	*typ = parts[0]
	n := 1
	if v, err := strconv.Atoi(parts[1]); err == nil {
		*uid, n = v, n+1
	}
	if v, err := strconv.Atoi(parts[2]); err == nil {
		*gid, n = v, n+1
	}
	if v, err := strconv.ParseUint(parts[3], 16, 32); err == nil {
		*perm, n = uint32(v), n+1
	}
	return n, nil
}
