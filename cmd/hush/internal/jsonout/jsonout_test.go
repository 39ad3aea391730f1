package jsonout

import (
	"encoding/json"
	"testing"
	"time"
)

func TestConventions(t *testing.T) {
	if got := Time(time.Time{}); got != "" {
		t.Errorf("Time(zero) = %q", got)
	}
	if got := Time(time.Date(2026, 12, 7, 1, 2, 3, 4, time.FixedZone("x", 3600))); got != "2026-12-07T00:02:03Z" {
		t.Errorf("Time = %q", got)
	}
	for _, c := range []struct {
		v    any
		want string
	}{
		{List[string](nil), `[]`},
		{NewValue([]byte("text")), `{"value":"text"}`},
		{NewValue([]byte("")), `{"value":""}`},
		{NewValue([]byte{0xff, 0}), `{"value_base64":"/wA="}`},
	} {
		b, err := json.Marshal(c.v)
		if err != nil || string(b) != c.want {
			t.Errorf("%#v: %s, %v; want %s", c.v, b, err, c.want)
		}
	}
}
