package importer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/hush-secrets/hush/vault"
)

// readVaultKV reads HashiCorp Vault's or OpenBao's KV version 2 JSON:
// either the output of `vault kv get -format=json PATH` (each key of
// .data.data becomes a secret KEY), or a tree, an object mapping each
// secret's path to that output (each key becomes PATH/KEY). String values
// are stored as they are; other JSON values (numbers, booleans, objects,
// arrays) as their JSON text, exactly as in the file.
func readVaultKV(data []byte) (*Plan, error) {
	var doc map[string]json.RawMessage
	if err := decodeJSON(data, &doc); err != nil {
		return nil, err
	}
	if doc == nil {
		return nil, errors.New("top level must be a JSON object")
	}
	b := newBuilder()
	if kv, ok, err := kvData(doc); err != nil {
		return nil, err
	} else if ok {
		if err := b.addKV(nil, kv); err != nil {
			return nil, err
		}
		return &b.plan, nil
	}
	paths := make([]string, 0, len(doc))
	for p := range doc {
		paths = append(paths, p)
	}
	sort.Strings(paths) // a deterministic order for names that collide
	for _, p := range paths {
		var resp map[string]json.RawMessage
		if err := json.Unmarshal(doc[p], &resp); err != nil || resp == nil {
			return nil, fmt.Errorf("the value for path %s is not the JSON of `vault kv get -format=json`", p)
		}
		kv, ok, err := kvData(resp)
		if err != nil {
			return nil, fmt.Errorf("path %s: %w", p, err)
		}
		if !ok {
			return nil, fmt.Errorf("the value for path %s has no .data.data: is it `vault kv get -format=json` of a KV version 2 secret?", p)
		}
		if err := b.addKV(strings.Split(strings.Trim(p, "/"), "/"), kv); err != nil {
			return nil, fmt.Errorf("path %s: %w", p, err)
		}
	}
	if len(paths) == 0 {
		return nil, errors.New("the JSON object is empty: nothing to import")
	}
	return &b.plan, nil
}

// kvData finds .data.data of a `vault kv get` response. ok is false when
// the document is not one (it may then be a tree).
func kvData(doc map[string]json.RawMessage) (map[string]json.RawMessage, bool, error) {
	raw, ok := doc["data"]
	if !ok {
		return nil, false, nil
	}
	var data map[string]json.RawMessage
	if json.Unmarshal(raw, &data) != nil || data == nil {
		return nil, false, nil
	}
	inner, ok := data["data"]
	if _, meta := data["metadata"]; !ok || !meta {
		return nil, false, nil
	}
	if bytes.Equal(bytes.TrimSpace(inner), []byte("null")) {
		return nil, false, errors.New("the secret's version is deleted or destroyed (.data.data is null)")
	}
	var kv map[string]json.RawMessage
	if err := json.Unmarshal(inner, &kv); err != nil {
		return nil, false, errors.New(".data.data is not a JSON object")
	}
	return kv, true, nil
}

func (b *builder) addKV(folder []string, kv map[string]json.RawMessage) error {
	keys := make([]string, 0, len(kv))
	for k := range kv {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		raw := bytes.TrimSpace(kv[k])
		var value []byte
		if len(raw) > 0 && raw[0] == '"' {
			var s string
			if err := json.Unmarshal(raw, &s); err != nil {
				return fmt.Errorf("value of %s is not a JSON string", k)
			}
			value = []byte(s)
		} else {
			value = bytes.Clone(raw)
		}
		typ := vault.TypePassword
		if len(raw) > 0 && (raw[0] == '{' || raw[0] == '[') {
			typ = vault.TypeOther
		}
		b.secret(path(folder, k), value, typ, "", nil)
	}
	return nil
}
