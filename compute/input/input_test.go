package input_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shoal-io/shoal/api"
	"github.com/shoal-io/shoal/compute/input"
)

func source(typ string, params map[string]any, target string) *api.InputSource {
	return &api.InputSource{Source: &api.SpecConfig{Type: typ, Params: params}, Target: target}
}

func TestInline(t *testing.T) {
	tests := []struct {
		name    string
		url     string
		want    string
		wantErr bool
	}{
		{name: "base64", url: "data:text/plain;base64,aGVsbG8gd29ybGQK", want: "hello world\n"},
		{name: "base64 without padding", url: "data:;base64,aGk", want: "hi"},
		{name: "base64 percent-escaped", url: "data:;base64,aGk%3D", want: "hi"},
		{name: "plain percent-encoded", url: "data:,hello%20world%0A", want: "hello world\n"},
		{name: "plain keeps plus", url: "data:text/plain,a+b", want: "a+b"},
		{name: "uppercase scheme", url: "DATA:,x", want: "x"},
		{name: "empty data", url: "data:,", want: ""},
		{name: "not a data URL", url: "http://example.com/x", wantErr: true},
		{name: "no comma", url: "data:text/plain;base64", wantErr: true},
		{name: "bad base64", url: "data:;base64,!!!", wantErr: true},
		{name: "bad escape", url: "data:,%zz", wantErr: true},
	}
	f, err := input.New(input.Config{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			m, err := f.Fetch(context.Background(), source("inline", map[string]any{"URL": tt.url}, "/inputs/file.txt"), dir)
			if tt.wantErr {
				if !errors.Is(err, api.ErrBadRequest) {
					t.Fatalf("error = %v, want ErrBadRequest", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if m.Target != "/inputs/file.txt" || !m.ReadOnly || m.IsDir || m.Source != filepath.Join(dir, "file.txt") {
				t.Fatalf("mount = %+v", m)
			}
			got, err := os.ReadFile(m.Source)
			if err != nil || string(got) != tt.want {
				t.Fatalf("content = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestURLDownload(t *testing.T) {
	tests := []struct {
		name         string
		failures     int // answers 503 this many times first
		status       int // then this status (200: the content)
		wantErr      string
		wantAttempts int32
	}{
		{name: "ok", status: http.StatusOK, wantAttempts: 1},
		{name: "retried then ok", failures: 2, status: http.StatusOK, wantAttempts: 3},
		{name: "not found is not retried", status: http.StatusNotFound, wantErr: "404 Not Found", wantAttempts: 1},
		{name: "gives up after 3 attempts", failures: 5, status: http.StatusOK, wantErr: "503 Service Unavailable", wantAttempts: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var attempts atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				n := attempts.Add(1)
				if int(n) <= tt.failures {
					w.WriteHeader(http.StatusServiceUnavailable)
					return
				}
				if tt.status != http.StatusOK {
					w.WriteHeader(tt.status)
					return
				}
				_, _ = w.Write([]byte("downloaded\n"))
			}))
			defer srv.Close()
			f, err := input.New(input.Config{RetryBackoff: time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			url := srv.URL + "/some/file.bin"
			m, err := f.Fetch(context.Background(), source("urlDownload", map[string]any{"URL": url}, "/inputs/data"), t.TempDir())
			if got := attempts.Load(); got != tt.wantAttempts {
				t.Errorf("attempts = %d, want %d", got, tt.wantAttempts)
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), url) {
					t.Fatalf("error = %v, want one naming %s and %q", err, url, tt.wantErr)
				}
				var se *input.StatusError
				if !errors.As(err, &se) {
					t.Fatalf("error %v is not a *StatusError", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(m.Source)
			if err != nil || string(got) != "downloaded\n" || m.Target != "/inputs/data" || !m.ReadOnly {
				t.Fatalf("mount %+v content %q, %v", m, got, err)
			}
		})
	}
}

func TestURLDownloadRefusesOtherSchemes(t *testing.T) {
	f, _ := input.New(input.Config{})
	for _, u := range []string{"file:///etc/passwd", "ftp://x/y", "not a url", ""} {
		_, err := f.Fetch(context.Background(), source("urlDownload", map[string]any{"URL": u}, "/in"), t.TempDir())
		if !errors.Is(err, api.ErrBadRequest) {
			t.Errorf("URL %q: error = %v, want ErrBadRequest", u, err)
		}
	}
}

func TestLocalDirectory(t *testing.T) {
	root := t.TempDir()
	allowed := filepath.Join(root, "allowed")
	outside := filepath.Join(root, "outside")
	for _, d := range []string{filepath.Join(allowed, "data"), outside} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(allowed, "file.txt"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(allowed, "escape")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(allowed, "data"), filepath.Join(outside, "inward")); err != nil {
		t.Fatal(err)
	}
	// An allowed path that is itself reached through a symlink.
	if err := os.Symlink(allowed, filepath.Join(root, "allowed-link")); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		allowed   []string
		path      string
		readWrite any
		wantErr   bool
		wantDir   bool
	}{
		{name: "folder under allowed", allowed: []string{allowed}, path: filepath.Join(allowed, "data"), wantDir: true},
		{name: "allowed root itself", allowed: []string{allowed}, path: allowed, wantDir: true},
		{name: "file under allowed", allowed: []string{allowed}, path: filepath.Join(allowed, "file.txt")},
		{name: "read write", allowed: []string{allowed}, path: filepath.Join(allowed, "data"), readWrite: true, wantDir: true},
		{name: "allowed through a symlinked root", allowed: []string{filepath.Join(root, "allowed-link")}, path: filepath.Join(allowed, "data"), wantDir: true},
		{name: "symlink from outside into allowed", allowed: []string{allowed}, path: filepath.Join(outside, "inward"), wantDir: true},
		{name: "outside", allowed: []string{allowed}, path: outside, wantErr: true},
		{name: "dot-dot escape", allowed: []string{allowed}, path: filepath.Join(allowed, "..", "outside"), wantErr: true},
		{name: "raw dot-dot escape", allowed: []string{allowed}, path: allowed + "/data/../../outside", wantErr: true},
		{name: "symlink escape", allowed: []string{allowed}, path: filepath.Join(allowed, "escape"), wantErr: true},
		{name: "prefix is not parent", allowed: []string{allowed}, path: allowed + "-other", wantErr: true},
		{name: "nothing allowed", path: filepath.Join(allowed, "data"), wantErr: true},
		{name: "relative path", allowed: []string{allowed}, path: "data", wantErr: true},
		{name: "missing path", allowed: []string{allowed}, path: filepath.Join(allowed, "missing"), wantErr: true},
		{name: "empty path", allowed: []string{allowed}, path: "", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := input.New(input.Config{AllowedLocalPaths: tt.allowed})
			if err != nil {
				t.Fatal(err)
			}
			params := map[string]any{"SourcePath": tt.path}
			if tt.readWrite != nil {
				params["ReadWrite"] = tt.readWrite
			}
			m, err := f.Fetch(context.Background(), source("localDirectory", params, "/data"), t.TempDir())
			if tt.wantErr {
				if !errors.Is(err, api.ErrBadRequest) {
					t.Fatalf("error = %v, want ErrBadRequest", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if m.IsDir != tt.wantDir || m.ReadOnly == (tt.readWrite == true) || m.Target != "/data" {
				t.Fatalf("mount = %+v", m)
			}
		})
	}
}

func TestFetchRefusesBadSources(t *testing.T) {
	f, _ := input.New(input.Config{})
	tests := []struct {
		name string
		src  *api.InputSource
	}{
		{name: "nil", src: nil},
		{name: "no source", src: &api.InputSource{Target: "/x"}},
		{name: "unknown type", src: source("ipfs", map[string]any{"CID": "Qm"}, "/x")},
		{name: "relative target", src: source("inline", map[string]any{"URL": "data:,x"}, "x")},
		{name: "root target", src: source("inline", map[string]any{"URL": "data:,x"}, "/")},
		{name: "no target", src: source("inline", map[string]any{"URL": "data:,x"}, "")},
		{name: "params of the wrong type", src: source("inline", map[string]any{"URL": 3}, "/x")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := f.Fetch(context.Background(), tt.src, t.TempDir()); !errors.Is(err, api.ErrBadRequest) {
				t.Fatalf("error = %v, want ErrBadRequest", err)
			}
		})
	}
}

func TestSupports(t *testing.T) {
	f, _ := input.New(input.Config{})
	for typ, want := range map[string]bool{"inline": true, "urldownload": true, "urlDownload": true,
		"LocalDirectory": true, "ipfs": false, "s3": false, "": false} {
		if got := f.Supports(typ); got != want {
			t.Errorf("Supports(%q) = %v, want %v", typ, got, want)
		}
	}
}
