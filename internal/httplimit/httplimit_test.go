package httplimit

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// serve runs srv on a loopback port for the test's lifetime.
func serve(t *testing.T, l Limits, h http.Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := l.Apply(&http.Server{Handler: h})
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return ln.Addr().String()
}

func TestDefaultLeavesWritesUnbounded(t *testing.T) {
	srv := Default().Apply(&http.Server{WriteTimeout: time.Second})
	if srv.WriteTimeout != 0 {
		t.Fatalf("WriteTimeout = %v: long polls, log streams and downloads would be cut", srv.WriteTimeout)
	}
	if srv.ReadHeaderTimeout <= 0 || srv.ReadTimeout <= 0 || srv.IdleTimeout <= 0 || srv.MaxHeaderBytes <= 0 {
		t.Fatalf("a limit is unset: %+v", srv)
	}
}

func TestOversizedHeadersAre431(t *testing.T) {
	addr := serve(t, Limits{ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 5 * time.Second, MaxHeaderBytes: 1 << 10},
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/", nil)
	req.Header.Set("X-Big", strings.Repeat("a", 16<<10))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("status %d, want 431", resp.StatusCode)
	}
}

// A client that never finishes its headers loses its connection: it does not
// hold a server goroutine and socket for ever.
func TestSlowHeadersAreCutOff(t *testing.T) {
	addr := serve(t, Limits{ReadHeaderTimeout: 100 * time.Millisecond, ReadTimeout: 100 * time.Millisecond, MaxHeaderBytes: 1 << 10},
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "GET / HTTP/1.1\r\nHost: x\r\n"); err != nil {
		t.Fatal(err)
	}
	// The bound is only there so a broken server fails the test instead of
	// hanging it.
	_ = conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	_, err = io.ReadAll(conn)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatal("the server kept a connection whose headers never ended")
	}
}

// A handler that answers long after ReadTimeout (a blocking query) still
// gets its answer through: the read deadline stops mattering once the
// request has been read.
func TestLongHandlersOutliveReadTimeout(t *testing.T) {
	const readTimeout = 50 * time.Millisecond
	addr := serve(t, Limits{ReadHeaderTimeout: readTimeout, ReadTimeout: readTimeout, IdleTimeout: time.Minute, MaxHeaderBytes: 1 << 10},
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.ReadAll(r.Body)
			select {
			case <-time.After(10 * readTimeout):
				_, _ = io.WriteString(w, "done")
			case <-r.Context().Done():
				// A cancelled request context would mean the deadline
				// tore the connection down.
			}
		}))
	for _, body := range []string{"", `{"some":"body"}`} {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/", strings.NewReader(body))
		if err := req.Write(conn); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(bufio.NewReader(conn), req)
		if err != nil {
			t.Fatalf("body %q: %v", body, err)
		}
		got, _ := io.ReadAll(resp.Body)
		conn.Close()
		if string(got) != "done" {
			t.Fatalf("body %q: answer %q, want done", body, got)
		}
	}
}
