package testcluster

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// Binary builds the shoal binary once per test process and returns its
// path. SHOAL_BINARY, when set, is used instead.
func Binary() (string, error) {
	buildOnce.Do(func() {
		if p := os.Getenv("SHOAL_BINARY"); p != "" {
			binPath = p
			return
		}
		root, err := moduleRoot()
		if err != nil {
			buildErr = err
			return
		}
		// One folder per test package, reused run after run (go build is
		// incremental), so test runs leave no binaries behind them.
		dir := filepath.Join(os.TempDir(), "shoal-test-bin", strings.TrimSuffix(filepath.Base(os.Args[0]), ".test"))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "shoal")
		cmd := exec.Command("go", "build", "-o", binPath, "./cmd/shoal")
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("build shoal: %v\n%s", err, out)
		}
	})
	return binPath, buildErr
}

func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", fmt.Errorf("not inside the shoal module")
	}
	return filepath.Dir(mod), nil
}
