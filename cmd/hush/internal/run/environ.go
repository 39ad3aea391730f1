package run

import (
	"sort"
	"strings"
)

// environ is an environment, keeping one value per key.
type environ struct {
	vals map[string]string
}

func newEnviron(kvs []string) *environ {
	e := &environ{vals: make(map[string]string, len(kvs))}
	for _, kv := range kvs {
		if k, v, ok := strings.Cut(kv, "="); ok && k != "" {
			e.vals[k] = v
		}
	}
	return e
}

func (e *environ) set(k, v string) { e.vals[k] = v }

func (e *environ) sortedKeys() []string {
	keys := make([]string, 0, len(e.vals))
	for k := range e.vals {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// list returns KEY=VALUE pairs sorted by key, as execve wants them.
func (e *environ) list() []string {
	keys := e.sortedKeys()
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = k + "=" + e.vals[k]
	}
	return out
}
