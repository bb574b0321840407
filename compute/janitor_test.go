package compute

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestSweepFiles(t *testing.T) {
	n := newIdleNode(t)
	old := time.Now().Add(-2 * time.Hour)
	mk := func(path string, mtime time.Time) string {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(path, mtime, mtime); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(filepath.Dir(path), mtime, mtime); err != nil {
			t.Fatal(err)
		}
		return path
	}
	oldExec := mk(filepath.Join(n.execDir("e-old"), "stdout"), old)
	newExec := mk(filepath.Join(n.execDir("e-new"), "stdout"), time.Now())
	running := mk(filepath.Join(n.execDir("e-running"), "stdout"), old)
	n.execs.put(&localExec{id: "e-running", phase: phaseRunning})
	oldTar := mk(filepath.Join(resultsDir(n.cfg.DataDir), "e-old.tar.gz"), old)
	newTar := mk(filepath.Join(resultsDir(n.cfg.DataDir), "e-new.tar.gz"), time.Now())
	// The results folder itself was just touched by the new tarball.
	if err := os.Chtimes(resultsDir(n.cfg.DataDir), time.Now(), time.Now()); err != nil {
		t.Fatal(err)
	}
	n.sweepFiles(time.Now().Add(-time.Hour))
	for path, wantKept := range map[string]bool{oldExec: false, newExec: true, running: true, oldTar: false, newTar: true} {
		_, err := os.Stat(path)
		if kept := err == nil; kept != wantKept {
			t.Errorf("%s kept = %v, want %v", path, kept, wantKept)
		}
	}
	if _, err := os.Stat(n.execDir("e-old")); !os.IsNotExist(err) {
		t.Errorf("old execution folder kept: %v", err)
	}
}
