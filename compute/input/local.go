package input

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/shoal-io/shoal/api"
	"github.com/shoal-io/shoal/compute/engine"
)

type localParams struct {
	SourcePath string `json:"SourcePath"`
	ReadWrite  bool   `json:"ReadWrite"`
}

// fetchLocal fetches nothing: it checks that the folder (or file) is under an
// allowed path, after symlinks are resolved so a link cannot lead out, and
// mounts it where it is.
func (f *Fetcher) fetchLocal(params map[string]any, target string) (engine.Mount, error) {
	var p localParams
	if err := engine.DecodeParams(params, &p); err != nil {
		return engine.Mount{}, api.BadRequestf("localDirectory input: %v", err)
	}
	resolved, err := f.AllowedLocalPath(p.SourcePath)
	if err != nil {
		return engine.Mount{}, err
	}
	info, err := os.Stat(resolved)
	if err != nil {
		return engine.Mount{}, err
	}
	return engine.Mount{Source: resolved, Target: target, ReadOnly: !p.ReadWrite, IsDir: info.IsDir()}, nil
}

// AllowedLocalPath resolves a host path and returns it when it lies under one
// of the allowed local paths; otherwise it refuses with ErrBadRequest.
func (f *Fetcher) AllowedLocalPath(sourcePath string) (string, error) {
	sourcePath = strings.TrimSpace(sourcePath)
	if sourcePath == "" {
		return "", api.BadRequestf("localDirectory input: missing SourcePath")
	}
	if !filepath.IsAbs(sourcePath) {
		return "", api.BadRequestf("localDirectory input: SourcePath %q is not absolute", sourcePath)
	}
	if len(f.allowed) == 0 {
		return "", api.BadRequestf("localDirectory input %q refused: this node allows no local paths", sourcePath)
	}
	resolved, err := filepath.EvalSymlinks(filepath.Clean(sourcePath))
	if errors.Is(err, fs.ErrNotExist) {
		return "", api.BadRequestf("localDirectory input: %q does not exist on this node", sourcePath)
	}
	if err != nil {
		return "", api.BadRequestf("localDirectory input: %v", err)
	}
	for _, allowed := range f.allowed {
		if within(allowed, resolved) {
			return resolved, nil
		}
	}
	return "", api.BadRequestf("localDirectory input %q refused: not under an allowed local path", sourcePath)
}

func within(root, p string) bool {
	rel, err := filepath.Rel(root, p)
	if err != nil {
		return false
	}
	return rel == "." || (rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)))
}
