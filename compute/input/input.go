// Package input makes a task's input sources available on the compute node's
// disk before it runs: inline data URLs, URL downloads and local folders
// under the paths an operator allowed. Every fetcher returns an
// engine.Mount saying which host path the task should see at its Target.
package input

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/shoal-io/shoal/api"
	"github.com/shoal-io/shoal/compute/engine"
)

// Input source types, as jobs name them (compared case-insensitively).
const (
	TypeInline         = "inline"
	TypeURLDownload    = "urlDownload"
	TypeLocalDirectory = "localDirectory"
)

// Config tunes a Fetcher; zero values get the defaults documented on each
// field.
type Config struct {
	// AllowedLocalPaths are the host folders localDirectory inputs may come
	// from. None: localDirectory inputs are refused.
	AllowedLocalPaths []string
	// HTTPClient downloads urlDownload inputs (default: a client without an
	// overall timeout; AttemptTimeout bounds each attempt).
	HTTPClient *http.Client
	// Attempts is how many times a download is tried (default 3).
	Attempts int
	// RetryBackoff is the wait before the second attempt, doubled after each
	// failure (default 1s).
	RetryBackoff time.Duration
	// AttemptTimeout bounds one download attempt (default 10 minutes).
	AttemptTimeout time.Duration
	Logger         *slog.Logger
}

// Fetcher fetches the input source types this package supports.
type Fetcher struct {
	cfg     Config
	allowed []string // cleaned, symlink-resolved
	log     *slog.Logger
}

// New builds a Fetcher. Allowed local paths must be absolute.
func New(cfg Config) (*Fetcher, error) {
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{}
	}
	if cfg.Attempts <= 0 {
		cfg.Attempts = 3
	}
	if cfg.RetryBackoff <= 0 {
		cfg.RetryBackoff = time.Second
	}
	if cfg.AttemptTimeout <= 0 {
		cfg.AttemptTimeout = 10 * time.Minute
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	f := &Fetcher{cfg: cfg, log: log}
	for _, p := range cfg.AllowedLocalPaths {
		if !filepath.IsAbs(p) {
			return nil, api.BadRequestf("allowed local path %q is not absolute", p)
		}
		resolved, err := filepath.EvalSymlinks(filepath.Clean(p))
		if err != nil {
			// A folder that does not exist yet can still be allowed; what
			// is under it will be resolved when used.
			resolved = filepath.Clean(p)
		}
		f.allowed = append(f.allowed, resolved)
	}
	return f, nil
}

// Types lists the supported input source types.
func (f *Fetcher) Types() []string {
	return []string{TypeInline, TypeURLDownload, TypeLocalDirectory}
}

// Supports reports whether typ (any case) is a supported input source type.
func (f *Fetcher) Supports(typ string) bool {
	for _, t := range f.Types() {
		if strings.EqualFold(t, strings.TrimSpace(typ)) {
			return true
		}
	}
	return false
}

// Fetch makes src available under dir (created if needed) and returns how to
// mount it at src.Target. File inputs are stored as dir/<base of Target> so
// an engine can mount their folder instead of the file.
func (f *Fetcher) Fetch(ctx context.Context, src *api.InputSource, dir string) (engine.Mount, error) {
	if src == nil || src.Source == nil {
		return engine.Mount{}, api.BadRequestf("input source has no Source")
	}
	target, err := cleanTarget(src.Target)
	if err != nil {
		return engine.Mount{}, err
	}
	typ := strings.TrimSpace(src.Source.Type)
	switch {
	case strings.EqualFold(typ, TypeInline):
		return f.fetchInline(src.Source.Params, dir, target)
	case strings.EqualFold(typ, TypeURLDownload):
		return f.fetchURL(ctx, src.Source.Params, dir, target)
	case strings.EqualFold(typ, TypeLocalDirectory):
		return f.fetchLocal(src.Source.Params, target)
	}
	return engine.Mount{}, api.BadRequestf("input source type %q is not supported on this node (supported: %s)",
		typ, strings.Join(f.Types(), ", "))
}

// cleanTarget checks that a task path is absolute and normalizes it.
func cleanTarget(target string) (string, error) {
	target = strings.TrimSpace(target)
	if target == "" {
		return "", api.BadRequestf("input source has no Target")
	}
	if !path.IsAbs(target) {
		return "", api.BadRequestf("input target %q is not an absolute path", target)
	}
	clean := path.Clean(target)
	if clean == "/" {
		return "", api.BadRequestf("input target %q cannot be the root folder", target)
	}
	return clean, nil
}

// fileDest is where a single-file input is stored: named like its target so
// mounting the folder shows the file under the right name.
func fileDest(dir, target string) string {
	return filepath.Join(dir, path.Base(target))
}

// Describe names an input source in error messages: its alias, else its
// target.
func Describe(src *api.InputSource) string {
	if src == nil {
		return "input"
	}
	if src.Alias != "" {
		return fmt.Sprintf("input %q", src.Alias)
	}
	return fmt.Sprintf("input %q", src.Target)
}
