package server

import (
	"net"
	"sync"
)

// DefaultMaxConns is the connection cap `hush server` uses by default. A
// device that watches (sync --watch, run --watch) holds one connection for
// as long as it runs: 2,048 leaves room for 1,000 watching devices and
// their requests; an idle connection costs tens of KB.
const DefaultMaxConns = 2048

// LimitListener accepts at most n connections open at once: past that,
// Accept waits until one closes, and new connections wait in the kernel's
// backlog. With the http.Server's header and body timeouts, it bounds what
// slow or idle connections can hold.
func LimitListener(ln net.Listener, n int) net.Listener {
	return &limitListener{Listener: ln, sem: make(chan struct{}, n)}
}

type limitListener struct {
	net.Listener
	sem chan struct{}
}

func (l *limitListener) Accept() (net.Conn, error) {
	l.sem <- struct{}{}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.sem
		return nil, err
	}
	return &limitConn{Conn: c, release: func() { <-l.sem }}, nil
}

type limitConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
