package bench

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/shoal-io/shoal/test/testcluster"
)

// captureProfiles starts CPU and allocation profiles of the leader and a
// follower covering the next measured run, and returns a function that waits
// for them. Read them with `go tool pprof -top <file>`.
func captureProfiles(b *testing.B, dir string, leader, follower *testcluster.Process) func() {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	// The load's warm-up is a second; profile most of the measured span.
	secs := max(int(benchDuration().Seconds())-1, 1)
	var wg sync.WaitGroup
	for _, t := range []struct {
		name string
		p    *testcluster.Process
	}{{"leader", leader}, {"follower", follower}} {
		for _, kind := range []string{"profile", "allocs"} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				url := fmt.Sprintf("%s/debug/pprof/%s?seconds=%d", t.p.URL(), kind, secs)
				if err := save(url, filepath.Join(dir, t.name+"-"+kind+".pprof")); err != nil {
					b.Errorf("profile %s: %v", url, err)
				}
			}()
		}
	}
	return wg.Wait
}

func save(url, path string) error {
	resp, err := http.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s", resp.Status)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
