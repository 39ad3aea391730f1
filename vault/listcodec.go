package vault

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"time"
)

// The listing cache's plaintext: a compact binary form of []Entry, because
// decoding 100,000 metadata JSON objects costs more than the rest of a
// cached `ls`. Metadata with anything beyond plain fields (a revocation, an
// exposure, a dynamic source, a time not in UTC) is kept as the JSON the
// vault holds and decoded as [Vault.openMeta] does, so that a cached entry
// is exactly what List returns. TestListCodecKnowsEveryMetaField fails when
// Meta gains a field this file does not write.
//
//	listing  = "L1" uvarint(maxSeen) uvarint(count) entry*
//	entry    = string(id, in hex) string(name) uvarint(version) varint(created) varint(updated) meta
//	meta     = 0 string(type) string(note) uvarint(len(tags)) string(tag)* varint(rotateEvery)
//	             time(expires) string(rotator) time(notAfter) string(summary) time(valueSince)
//	         | 1 bytes(json)
//	time     = 0 (the zero time) | 1 varint(unix nanoseconds, UTC)
//	string, bytes = uvarint(length) octets

var errListCodec = errors.New("listing cache: malformed")

func plainMeta(m *Meta) bool {
	// UTC, and within what UnixNano can hold.
	utc := func(t time.Time) bool {
		return t.IsZero() || t.Location() == time.UTC && t.Year() > 1678 && t.Year() < 2262
	}
	return m.Revoked == nil && m.Exposed == nil && m.Dynamic == nil &&
		utc(m.Expires) && utc(m.NotAfter) && utc(m.ValueSince)
}

func encodeListing(es []Entry, maxSeen int64) []byte {
	b := make([]byte, 0, 64+len(es)*96)
	b = append(b, "L1"...)
	b = binary.AppendUvarint(b, uint64(maxSeen))
	b = binary.AppendUvarint(b, uint64(len(es)))
	str := func(s string) {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	tm := func(t time.Time) {
		if t.IsZero() {
			b = append(b, 0)
			return
		}
		b = append(b, 1)
		b = binary.AppendVarint(b, t.UnixNano())
	}
	for i := range es {
		e := &es[i]
		str(e.ID)
		str(e.Name)
		b = binary.AppendUvarint(b, uint64(e.Version))
		b = binary.AppendVarint(b, e.Created.UnixNano())
		b = binary.AppendVarint(b, e.Updated.UnixNano())
		m := &e.Meta
		if !plainMeta(m) {
			js, _ := json.Marshal(m)
			b = append(b, 1)
			b = binary.AppendUvarint(b, uint64(len(js)))
			b = append(b, js...)
			continue
		}
		b = append(b, 0)
		str(string(m.Type))
		str(m.Note)
		b = binary.AppendUvarint(b, uint64(len(m.Tags)))
		for _, t := range m.Tags {
			str(t)
		}
		b = binary.AppendVarint(b, int64(m.RotateEvery))
		tm(m.Expires)
		str(m.Rotator)
		tm(m.NotAfter)
		str(m.Summary)
		tm(m.ValueSince)
	}
	return b
}

// listDecoder reads the plaintext; its strings are slices of one copy of
// it (one allocation for every name, not one each).
type listDecoder struct {
	s   string
	off int
	err error
}

func (d *listDecoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	x, n := uvarintString(d.s[d.off:])
	if n <= 0 {
		d.err = errListCodec
		return 0
	}
	d.off += n
	return x
}

func (d *listDecoder) varint() int64 {
	ux := d.uvarint()
	x := int64(ux >> 1)
	if ux&1 != 0 {
		x = ^x
	}
	return x
}

func (d *listDecoder) byte() byte {
	if d.err != nil || d.off >= len(d.s) {
		d.err = errListCodec
		return 0
	}
	c := d.s[d.off]
	d.off++
	return c
}

func (d *listDecoder) str() string {
	n := d.uvarint()
	if d.err != nil || n > uint64(len(d.s)-d.off) {
		d.err = errListCodec
		return ""
	}
	s := d.s[d.off : d.off+int(n)]
	d.off += int(n)
	return s
}

func (d *listDecoder) time() time.Time {
	switch d.byte() {
	case 0:
		return time.Time{}
	case 1:
		return time.Unix(0, d.varint()).UTC()
	}
	d.err = errListCodec
	return time.Time{}
}

// uvarintString is binary.Uvarint over a string, without copying it.
func uvarintString(s string) (uint64, int) {
	var x uint64
	var shift uint
	for i := 0; i < len(s) && i < binary.MaxVarintLen64; i++ {
		c := s[i]
		if c < 0x80 {
			if i == binary.MaxVarintLen64-1 && c > 1 {
				return 0, -1
			}
			return x | uint64(c)<<shift, i + 1
		}
		x |= uint64(c&0x7f) << shift
		shift += 7
	}
	return 0, 0
}

func decodeListing(plain []byte) ([]Entry, int64, error) {
	if len(plain) < 2 || string(plain[:2]) != "L1" {
		return nil, 0, errListCodec
	}
	d := &listDecoder{s: string(plain[2:])}
	maxSeen := int64(d.uvarint())
	n := d.uvarint()
	// Every entry takes at least 8 bytes: a count beyond that is damage.
	if d.err != nil || n > uint64(len(d.s))/8 {
		return nil, 0, errListCodec
	}
	es := make([]Entry, n)
	for i := range es {
		e := &es[i]
		e.ID = d.str()
		e.Name = d.str()
		e.Version = int(d.uvarint())
		e.Created = time.Unix(0, d.varint())
		e.Updated = time.Unix(0, d.varint())
		switch d.byte() {
		case 0:
			m := &e.Meta
			m.Type = Type(d.str())
			m.Note = d.str()
			if k := d.uvarint(); k > 0 {
				if k > uint64(len(d.s)-d.off) {
					return nil, 0, errListCodec
				}
				m.Tags = make([]string, k)
				for j := range m.Tags {
					m.Tags[j] = d.str()
				}
			}
			m.RotateEvery = time.Duration(d.varint())
			m.Expires = d.time()
			m.Rotator = d.str()
			m.NotAfter = d.time()
			m.Summary = d.str()
			m.ValueSince = d.time()
		case 1:
			js := d.str()
			if d.err == nil && json.Unmarshal([]byte(js), &e.Meta) != nil {
				return nil, 0, errListCodec
			}
		default:
			return nil, 0, errListCodec
		}
		if d.err != nil {
			return nil, 0, d.err
		}
	}
	if d.off != len(d.s) {
		return nil, 0, errListCodec
	}
	return es, maxSeen, nil
}
