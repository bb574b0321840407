package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// bareHTTP is the second ceiling: three bareraftd processes (one
// hashicorp/raft node each behind a minimal HTTP endpoint), followers
// forwarding to the leader.
type bareHTTP struct {
	urls  []string
	procs []*exec.Cmd
}

func (c *bareHTTP) pids() []int {
	var out []int
	for _, p := range c.procs {
		out = append(out, p.Process.Pid)
	}
	return out
}

func freeAddrs(b *testing.B, n int) []string {
	var out []string
	var ls []net.Listener
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		ls = append(ls, l)
		out = append(out, l.Addr().String())
	}
	for _, l := range ls {
		l.Close()
	}
	return out
}

func startBareHTTP(b *testing.B) *bareHTTP {
	b.Helper()
	dir := b.TempDir()
	bin := filepath.Join(dir, "bareraftd")
	build := exec.Command("go", "build", "-o", bin, "./bareraftd")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("build bareraftd: %v\n%s", err, out)
	}
	addrs := freeAddrs(b, 6)
	var peers []string
	c := &bareHTTP{}
	for i := range 3 {
		peers = append(peers, fmt.Sprintf("h%d=%s=%s", i, addrs[2*i], addrs[2*i+1]))
		c.urls = append(c.urls, "http://"+addrs[2*i+1])
	}
	b.Cleanup(c.close)
	for i := range 3 {
		args := []string{"-id", fmt.Sprint("h", i), "-dir", filepath.Join(dir, fmt.Sprint("h", i)), "-peers", strings.Join(peers, ",")}
		if i == 0 {
			args = append(args, "-bootstrap")
		}
		cmd := exec.Command(bin, args...)
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		log, err := os.Create(filepath.Join(dir, fmt.Sprint("h", i, ".log")))
		if err != nil {
			b.Fatal(err)
		}
		cmd.Stdout, cmd.Stderr = log, log
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		c.procs = append(c.procs, cmd)
	}
	// Ready once a write through every node is acknowledged.
	deadline := time.Now().Add(30 * time.Second)
	for _, u := range c.urls {
		for {
			if err := putBody(context.Background(), http.DefaultClient, u+"/", []byte("ready")); err == nil {
				break
			} else if time.Now().After(deadline) {
				b.Fatalf("bare HTTP cluster not ready: %v", err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return c
}

func (c *bareHTTP) close() {
	for _, p := range c.procs {
		_ = p.Process.Signal(syscall.SIGTERM)
	}
	for _, p := range c.procs {
		done := make(chan struct{})
		go func() { _ = p.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = p.Process.Kill()
			<-done
		}
	}
	c.procs = nil
}

func putBody(ctx context.Context, hc *http.Client, url string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("PUT %s: %d %s", url, resp.StatusCode, data)
	}
	return nil
}
