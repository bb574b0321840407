package ui

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"
)

// Prefix is the path the app is served under.
const Prefix = "/ui"

//go:embed static
var static embed.FS

// contentTypes are the only kinds of file the app ships; anything else is
// not served.
var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".svg":  "image/svg+xml",
	".txt":  "text/plain; charset=utf-8",
}

// csp keeps the app to its own origin: no script, style, font or image
// from anywhere else, and API calls (and the logs websocket) to this
// replica only.
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

type file struct {
	data        []byte
	etag        string
	contentType string
}

// Handler serves the app: files under /ui/assets/ as they are, and the app
// itself (index.html) for every other path under /ui/, so that each view's
// URL loads directly and the app's router picks the view.
func Handler() http.Handler {
	files := map[string]*file{}
	err := fs.WalkDir(static, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		ct, ok := contentTypes[path.Ext(p)]
		if !ok {
			return nil
		}
		data, err := static.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(data)
		files[strings.TrimPrefix(p, "static")] = &file{data: data, etag: `"` + hex.EncodeToString(sum[:8]) + `"`, contentType: ct}
		return nil
	})
	if err != nil {
		panic("ui: embedded files unreadable: " + err.Error()) // only a broken build gets here
	}
	index := files["/index.html"]
	if index == nil {
		panic("ui: index.html is not embedded")
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		p := strings.TrimPrefix(r.URL.Path, Prefix)
		if p == "" {
			http.Redirect(w, r, Prefix+"/", http.StatusMovedPermanently)
			return
		}
		f := index
		if strings.HasPrefix(p, "/assets/") {
			clean := path.Clean(p)
			if f = files[clean]; f == nil || !strings.HasPrefix(clean, "/assets/") {
				http.NotFound(w, r)
				return
			}
		}
		h := w.Header()
		h.Set("Content-Type", f.contentType)
		h.Set("ETag", f.etag)
		// Revalidate every time: file names carry no version, and a replica
		// upgraded in place must not leave a browser on an old app.
		h.Set("Cache-Control", "no-cache")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Content-Security-Policy", csp)
		h.Set("Referrer-Policy", "no-referrer")
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(f.data))
	})
}
