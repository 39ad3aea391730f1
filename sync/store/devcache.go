package store

import (
	"bytes"
	"sync"
)

// Every request looks its device up (authed), and on SQLite that lookup
// was a query on a read connection that, in WAL mode, drops its page cache
// whenever the committer wrote since its last read: under pushes, ~25 µs
// of the server's CPU per request, 6 % of a chained mix's. A SQLite store
// belongs to one server process (lockFile), and every write to the
// devices table is this store's own (AppendLog, Approve, RefuseJoin,
// Join, CreateTeam, Seen), so the devices it read can be kept in memory
// and forgotten at each of those writes: a lookup answers from memory
// exactly what it would read from SQL, as of the last write's commit.
// (PostgreSQL is shared by many server processes: a device removed
// through another one must be seen removed at once, so it asks the
// database every time, in batches: batch.go.)
//
// The race is the one a lookup already had with a write: a lookup that
// runs while a removal commits may see the device as it was just before.
// A lookup made after a write returned always sees it: the write forgets
// the cache before it returns, and a lookup that read SQL before the write
// committed does not keep what it read (gen moved on).

// deviceCacheMax bounds the devices kept; past it, all are forgotten (a
// server's active devices come back at their next request).
const deviceCacheMax = 1 << 16

type deviceCache struct {
	mu  sync.Mutex
	gen uint64
	m   map[string]*Device
}

// get returns a copy of the kept device id, or the generation to give put
// after reading it from SQL.
func (c *deviceCache) get(id string) (*Device, uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if d := c.m[id]; d != nil {
		return copyDevice(d), 0
	}
	return nil, c.gen
}

// put keeps a copy of d, read from SQL after get returned gen, unless a
// write to the devices table came since.
func (c *deviceCache) put(d *Device, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen {
		return
	}
	if c.m == nil || len(c.m) >= deviceCacheMax {
		c.m = make(map[string]*Device)
	}
	c.m[d.ID] = copyDevice(d)
}

// changed forgets every device: the devices table was written (called
// once the write's transaction has ended, committed or not).
func (c *deviceCache) changed() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.m = nil
}

// copyDevice is d with byte slices of its own: callers may keep or change
// what they get.
func copyDevice(d *Device) *Device {
	c := *d
	c.SignKey, c.Binding = bytes.Clone(d.SignKey), bytes.Clone(d.Binding)
	return &c
}

// devicesChanged is called (deferred) by every write to the devices
// table: see deviceCache.
func (s *sqlStore) devicesChanged() {
	if s.devs != nil {
		s.devs.changed()
	}
}
