package wasm

import (
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"

	"github.com/tetratelabs/wazero"

	"github.com/shoal-io/shoal/compute/engine"
)

// fsConfigFor mounts the execution's inputs and result folders. WASI can
// only mount folders, so a single-file input is shown by mounting a folder
// holding it at the folder of its target; several files under the same
// target folder share one staging folder of hard links.
func fsConfigFor(ec *engine.ExecutionContext) (wazero.FSConfig, error) {
	cfg := wazero.NewFSConfig()
	filesByDir := map[string][]engine.Mount{}
	for _, m := range ec.Inputs {
		if m.IsDir {
			cfg = mountDir(cfg, m.Source, m.Target, m.ReadOnly)
			continue
		}
		dir := path.Dir(m.Target)
		filesByDir[dir] = append(filesByDir[dir], m)
	}
	dirs := make([]string, 0, len(filesByDir))
	for d := range filesByDir {
		dirs = append(dirs, d)
	}
	sort.Strings(dirs)
	for i, guestDir := range dirs {
		files := filesByDir[guestDir]
		if len(files) == 1 && filepath.Base(files[0].Source) == path.Base(files[0].Target) {
			cfg = mountDir(cfg, filepath.Dir(files[0].Source), guestDir, files[0].ReadOnly)
			continue
		}
		staging := filepath.Join(ec.WorkDir, "wasm-mounts", fmt.Sprint(i))
		if err := os.MkdirAll(staging, 0o755); err != nil {
			return nil, err
		}
		for _, f := range files {
			if err := linkOrCopy(f.Source, filepath.Join(staging, path.Base(f.Target))); err != nil {
				return nil, fmt.Errorf("wasm engine: staging input %q: %w", f.Target, err)
			}
		}
		cfg = cfg.WithReadOnlyDirMount(staging, guestDir)
	}
	for _, m := range ec.Outputs {
		cfg = cfg.WithDirMount(m.Source, m.Target)
	}
	return cfg, nil
}

func mountDir(cfg wazero.FSConfig, host, guest string, readOnly bool) wazero.FSConfig {
	if readOnly {
		return cfg.WithReadOnlyDirMount(host, guest)
	}
	return cfg.WithDirMount(host, guest)
}

func linkOrCopy(src, dst string) error {
	if err := os.Link(src, dst); err == nil {
		return nil
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
