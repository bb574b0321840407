package ui

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestHandler(t *testing.T) {
	h := Handler()
	index, err := static.ReadFile("static/index.html")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		method, path string
		status       int
		contentType  string
		body         string // a piece the body must hold
	}{
		{"GET", "/ui/", 200, "text/html; charset=utf-8", string(index)},
		{"GET", "/ui/jobs", 200, "text/html; charset=utf-8", string(index)},
		{"GET", "/ui/jobs/j-0a1b2c3d-4e5f-6789-abcd-ef0123456789", 200, "text/html; charset=utf-8", string(index)},
		{"GET", "/ui/nodes", 200, "text/html; charset=utf-8", string(index)},
		{"GET", "/ui/nodes/n-1234", 200, "text/html; charset=utf-8", string(index)},
		{"GET", "/ui/submit", 200, "text/html; charset=utf-8", string(index)},
		{"GET", "/ui/no/such/view", 200, "text/html; charset=utf-8", string(index)},
		{"HEAD", "/ui/jobs", 200, "text/html; charset=utf-8", ""},
		{"GET", "/ui/assets/app.js", 200, "text/javascript; charset=utf-8", "history"},
		{"GET", "/ui/assets/views/job.js", 200, "text/javascript; charset=utf-8", "logsSocket"},
		{"GET", "/ui/assets/app.css", 200, "text/css; charset=utf-8", ":root"},
		{"GET", "/ui/assets/icon.svg", 200, "image/svg+xml", "<svg"},
		{"GET", "/ui/assets/missing.js", 404, "", ""},
		{"GET", "/ui/assets/../index.html", 404, "", ""},
		{"GET", "/ui/assets/", 404, "", ""},
		{"GET", "/ui", 301, "", ""},
		{"POST", "/ui/jobs", 405, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(tt.method, tt.path, nil))
			resp := rec.Result()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.status)
			}
			if tt.contentType != "" && resp.Header.Get("Content-Type") != tt.contentType {
				t.Errorf("Content-Type %q, want %q", resp.Header.Get("Content-Type"), tt.contentType)
			}
			if !strings.Contains(string(body), tt.body) {
				t.Errorf("body does not hold %q", tt.body)
			}
			if tt.status == 200 && !strings.Contains(resp.Header.Get("Content-Security-Policy"), "default-src 'none'") {
				t.Errorf("no content security policy")
			}
		})
	}
}

// TestNothingFromOutside keeps the app self-contained: no file refers to
// another origin (CDNs, web fonts).
func TestNothingFromOutside(t *testing.T) {
	h := Handler()
	for _, p := range []string{"/ui/", "/ui/assets/app.css", "/ui/assets/app.js", "/ui/assets/api.js", "/ui/assets/dom.js",
		"/ui/assets/chart.js", "/ui/assets/yaml.js", "/ui/assets/views/overview.js", "/ui/assets/views/jobs.js",
		"/ui/assets/views/job.js", "/ui/assets/views/nodes.js", "/ui/assets/views/node.js", "/ui/assets/views/submit.js"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", p, nil))
		if rec.Code != http.StatusOK {
			t.Fatalf("%s: status %d", p, rec.Code)
		}
		body := rec.Body.String()
		for _, bad := range []string{"https://", "http://", "//fonts.", "@import", "url(http"} {
			// The SVG namespace is an identifier, not a fetch.
			if strings.Contains(strings.ReplaceAll(body, "http://www.w3.org/2000/svg", ""), bad) {
				t.Errorf("%s refers to %q: the app must load nothing from outside the replica", p, bad)
			}
		}
	}
}

func TestETagRevalidation(t *testing.T) {
	h := Handler()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/ui/assets/app.css", nil))
	etag := rec.Header().Get("ETag")
	if etag == "" {
		t.Fatal("no ETag")
	}
	req := httptest.NewRequest("GET", "/ui/assets/app.css", nil)
	req.Header.Set("If-None-Match", etag)
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusNotModified {
		t.Fatalf("revalidation answered %d, want 304", rec.Code)
	}
}
