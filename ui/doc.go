// Package ui owns the embedded web app every replica serves at /ui/: plain
// HTML, CSS and JavaScript modules, checked in and built into the binary
// with go:embed, with no build step and nothing loaded from outside the
// replica. The app reads and writes only through the public API (and the
// few /api/v1/ui helpers the server adds); this package only serves files.
package ui
