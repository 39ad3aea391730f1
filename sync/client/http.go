package client

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/hush-secrets/hush/crypto"
	"github.com/hush-secrets/hush/sync/wire"
)

// ErrOffline wraps a failure to reach the server at all: local work goes
// on, and the next sync catches up.
var ErrOffline = errors.New("cannot reach the team server")

// ServerError is a refusal from the server, with its message.
type ServerError struct {
	Status int
	Msg    string
}

func (e *ServerError) Error() string {
	if e.Status == http.StatusInsufficientStorage {
		// The server's storage is full: the change is still here and
		// goes with the next sync once space is freed.
		return fmt.Sprintf("the team server's disk is full: it stores nothing until its operator frees space; your changes stay on this device for the next sync (HTTP %d)", e.Status)
	}
	hint := ""
	if e.Status == http.StatusUnauthorized && e.Msg == "unauthenticated" {
		hint = ": it does not know this device (removed from the team, or the server lost its data)"
	}
	return fmt.Sprintf("the team server refused: %s (HTTP %d)%s", e.Msg, e.Status, hint)
}

// UnknownDevice reports whether err is the server refusing a device it
// does not know: removed from the team, its join turned away, or the
// server's data lost.
func UnknownDevice(err error) bool {
	var se *ServerError
	return errors.As(err, &se) && se.Status == http.StatusUnauthorized && se.Msg == "unauthenticated"
}

// conn is a signed conversation with one server as one device.
type conn struct {
	base   *url.URL
	http   *http.Client
	device string
	key    ed25519.PrivateKey
	now    func() time.Time
}

// CheckServerURL refuses a URL hush would not talk to: only https, or http
// to a loopback address.
func CheckServerURL(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, fmt.Errorf("server address %q is not an http(s):// URL", s)
	}
	if u.Scheme == "http" && !isLoopback(u.Hostname()) {
		return nil, fmt.Errorf("server address %s: plain http is allowed only to a loopback address; use https", s)
	}
	u.Path, u.RawQuery, u.Fragment = "", "", ""
	return u, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func newConn(server string, caPEM []byte, device string, key ed25519.PrivateKey) (*conn, error) {
	u, err := CheckServerURL(server)
	if err != nil {
		return nil, err
	}
	tr := &http.Transport{
		Proxy:               http.ProxyFromEnvironment,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		TLSHandshakeTimeout: 5 * time.Second,
		MaxIdleConnsPerHost: 4,
		TLSClientConfig:     &tls.Config{MinVersion: tls.VersionTLS12},
	}
	if len(caPEM) > 0 {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(caPEM) {
			return nil, errors.New("the CA file holds no PEM certificate")
		}
		tr.TLSClientConfig.RootCAs = pool
	}
	hc := &http.Client{Transport: tr, Timeout: 60 * time.Second, CheckRedirect: noRedirects}
	return &conn{base: u, http: hc, device: device, key: key, now: time.Now}, nil
}

// noRedirects makes a redirect the answer: hush talks only to the address
// the team was set up with. A request's signature does not cover the host,
// so a followed redirect would carry a signed request (and, to http, the
// team's ids and ciphertexts in clear) wherever the server pointed, past
// CheckServerURL's rule (outside attack attack25 #8).
func noRedirects(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// printable is text the server chose (an error's message, a redirect's
// address), made safe to print: a control character (C0, DEL, C1: an
// escape sequence a terminal would act on) becomes "?", as the names the
// server relays are refused with one (wire's validLabel).
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return '?'
		}
		return r
	}, strings.ToValidUTF8(s, "?"))
}

// redirected is the error for a redirect answered to a request (nil when
// resp is none).
func (c *conn) redirected(resp *http.Response) error {
	if resp.StatusCode/100 != 3 {
		return nil
	}
	to := printable(resp.Header.Get("Location"))
	if to == "" {
		to = "nowhere"
	}
	return fmt.Errorf("the team server at %s answered with a redirect to %s (HTTP %d): hush does not follow redirects, so that its requests go only to the address the team was set up with; if the server moved, ask your admin", c.base, to, resp.StatusCode)
}

// do sends a signed request with in (JSON, or none) and decodes the answer
// into out (if not nil).
func (c *conn) do(ctx context.Context, method, path string, in, out any) error {
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return err
		}
	}
	req, err := c.request(ctx, method, path, body)
	if err != nil {
		return err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		var unknownCA x509.UnknownAuthorityError
		var badCert *tls.CertificateVerificationError
		if errors.As(err, &unknownCA) || errors.As(err, &badCert) {
			return fmt.Errorf("the team server at %s has a certificate this device does not trust (%v): for a self-signed server, give its CA with --ca when creating or joining the team", c.base, errors.Unwrap(err))
		}
		return fmt.Errorf("%w at %s: %v", ErrOffline, c.base, errors.Unwrap(err))
	}
	defer resp.Body.Close()
	if err := c.redirected(resp); err != nil {
		return err
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("%w at %s: %v", ErrOffline, c.base, err)
	}
	if resp.StatusCode/100 != 2 {
		var e wire.Error
		if json.Unmarshal(data, &e) != nil || e.Error == "" {
			e.Error = http.StatusText(resp.StatusCode)
		}
		return &ServerError{Status: resp.StatusCode, Msg: printable(e.Error)}
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("the team server sent an unreadable answer to %s %s: %w", method, path, err)
	}
	return nil
}

// request is a signed request with body (nil for none).
func (c *conn) request(ctx context.Context, method, path string, body []byte) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.base.String()+path, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	unix := c.now().Unix()
	nonce := wire.NewID()
	sig := crypto.SignEd25519(c.key.Seed(), wire.RequestSigned(method, req.URL.RequestURI(), body, unix, nonce, c.device))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(wire.HeaderDevice, c.device)
	req.Header.Set(wire.HeaderTime, strconv.FormatInt(unix, 10))
	req.Header.Set(wire.HeaderNonce, nonce)
	req.Header.Set(wire.HeaderSignature, base64.StdEncoding.EncodeToString(sig))
	return req, nil
}

func (st *State) conn() (*conn, error) {
	return newConn(st.Server, st.CA, st.Device.ID, st.signer())
}
