package compute

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/shoal-io/shoal/compute/publisher"
)

// janitor removes, every so often, the files of executions that ended
// longer than Retention ago: their output folders and published tarballs.
func (n *Node) janitor(ctx context.Context) {
	every := min(max(n.cfg.Retention/4, time.Second), time.Hour)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			n.sweepFiles(time.Now().Add(-n.cfg.Retention))
		}
	}
}

// sweepFiles removes execution folders and tarballs last changed before
// cutoff, except those of executions still running.
func (n *Node) sweepFiles(cutoff time.Time) {
	busy := map[string]bool{}
	for _, id := range n.execs.running() {
		busy[id] = true
	}
	sweep := func(dir string, idOf func(name string) string) {
		entries, err := os.ReadDir(dir)
		if err != nil {
			n.log.Warn("could not list files to clean up", "dir", dir, "err", err)
			return
		}
		for _, ent := range entries {
			id := idOf(ent.Name())
			if id == "" || busy[id] {
				continue
			}
			info, err := ent.Info()
			if err != nil || !info.ModTime().Before(cutoff) {
				continue
			}
			if err := os.RemoveAll(filepath.Join(dir, ent.Name())); err != nil {
				n.log.Warn("could not remove old execution files", "path", filepath.Join(dir, ent.Name()), "err", err)
			}
		}
	}
	sweep(executionsDir(n.cfg.DataDir), func(name string) string { return name })
	sweep(resultsDir(n.cfg.DataDir), func(name string) string {
		id, ok := strings.CutSuffix(name, ".tar.gz")
		if !ok || name != publisher.TarballName(id) {
			return ""
		}
		return id
	})
}
