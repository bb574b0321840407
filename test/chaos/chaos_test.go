package chaos

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The suite runs only when asked (make chaos, make chaos-smoke): it builds
// an image and starts six containers, and needs root for nsenter.
func skipUnlessAsked(t *testing.T) {
	t.Helper()
	if os.Getenv("SHOAL_CHAOS") != "1" {
		t.Skip("chaos suite: run it with make chaos or make chaos-smoke (SHOAL_CHAOS=1)")
	}
	if os.Geteuid() != 0 {
		t.Fatal("the chaos suite needs root: it enters containers' network namespaces with nsenter")
	}
	for _, tool := range []string{"docker", "nsenter", "iptables", "tc"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("the chaos suite needs %s on the host: %v", tool, err)
		}
	}
}

// settings reads CHAOS_DURATION, CHAOS_SEED and CHAOS_NEMESES.
func settings(t *testing.T) (time.Duration, uint64, []string) {
	d := 10 * time.Minute
	if s := os.Getenv("CHAOS_DURATION"); s != "" {
		var err error
		if d, err = time.ParseDuration(s); err != nil || d <= 0 {
			t.Fatalf("CHAOS_DURATION=%q: want a duration such as 10m", s)
		}
	}
	var seed uint64
	if s := os.Getenv("CHAOS_SEED"); s != "" {
		var err error
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatalf("CHAOS_SEED=%q: want a non-negative integer", s)
		}
	} else {
		var b [8]byte
		_, _ = rand.Read(b[:])
		seed = binary.LittleEndian.Uint64(b[:]) % 1_000_000_000
	}
	nemeses := AllNemeses
	if s := os.Getenv("CHAOS_NEMESES"); s != "" && s != "all" {
		nemeses = nil
		for _, n := range strings.Split(s, ",") {
			n = strings.TrimSpace(n)
			known := false
			for _, k := range AllNemeses {
				known = known || k == n
			}
			if !known {
				t.Fatalf("CHAOS_NEMESES: unknown nemesis %q; known: %s", n, strings.Join(AllNemeses, ","))
			}
			nemeses = append(nemeses, n)
		}
	}
	return d, seed, nemeses
}

// cluster attaches to CHAOS_PROJECT, or builds the image and starts the
// suite's own project, removed (containers, network, volumes, image) when
// the test ends, passed or failed.
func cluster(t *testing.T, env ...string) *Cluster {
	t.Helper()
	ctx := t.Context()
	if p := os.Getenv("CHAOS_PROJECT"); p != "" && len(env) == 0 {
		c, err := Attach(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	root := repoRoot(t)
	bin := os.Getenv("SHOAL_BINARY")
	if bin == "" {
		bin = filepath.Join(t.TempDir(), "shoal")
		build := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", bin, "./cmd/shoal")
		build.Dir, build.Env = root, append(os.Environ(), "CGO_ENABLED=0")
		if out, err := build.CombinedOutput(); err != nil {
			t.Fatalf("build shoal: %v\n%s", err, out)
		}
	}
	var b [3]byte
	_, _ = rand.Read(b[:])
	project := fmt.Sprintf("chaos-%d-%x", os.Getpid(), b)
	image := "shoal-chaos:" + project
	t.Cleanup(func() { _, _ = docker(context.Background(), "rmi", "-f", image) })
	if out, err := exec.CommandContext(ctx, "bash", filepath.Join(root, "deploy", "build-image.sh"), bin, image).CombinedOutput(); err != nil {
		t.Fatalf("build the image: %v\n%s", err, out)
	}
	t.Logf("compose project %s, image %s", project, image)
	down, err := StartOwn(ctx, project, image, env)
	t.Cleanup(down)
	if err != nil {
		t.Fatal(err)
	}
	c, err := Attach(ctx, project)
	if err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	if err := c.WaitHealthy(wctx); err != nil {
		t.Fatal(err)
	}
	return c
}

func repoRoot(t *testing.T) string {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// wasmModule builds the hello-wasm example for WASI.
func wasmModule(t *testing.T) string {
	out := filepath.Join(t.TempDir(), "hello.wasm")
	build := exec.CommandContext(t.Context(), "go", "build", "-trimpath", "-ldflags=-s -w", "-o", out, "./deploy/examples/hello-wasm")
	build.Dir, build.Env = repoRoot(t), append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
	if b, err := build.CombinedOutput(); err != nil {
		t.Logf("no WASI module, noop batch jobs only: %v\n%s", err, b)
		return ""
	}
	return out
}

func reportRoot(t *testing.T) string {
	if d := os.Getenv("CHAOS_REPORT_ROOT"); d != "" {
		return d
	}
	return repoRoot(t)
}

// TestChaos is `make chaos`: the whole suite, failing on any violation.
func TestChaos(t *testing.T) {
	skipUnlessAsked(t)
	// Beside TestChaosCatchesStaleReads (make chaos-smoke runs both): two
	// clusters at once keep the smoke's wall time near one run's.
	t.Parallel()
	d, seed, nemeses := settings(t)
	c := cluster(t)
	replay := fmt.Sprintf("make chaos CHAOS_SEED=%d CHAOS_DURATION=%s CHAOS_NEMESES=%s", seed, d, strings.Join(nemeses, ","))
	if c.Project != "" && os.Getenv("CHAOS_PROJECT") != "" {
		replay += " CHAOS_PROJECT=" + c.Project
	}
	t.Logf("seed %d, %s, nemeses %v; replay: %s", seed, d, nemeses, replay)
	res, err := Run(t.Context(), Options{
		Cluster: c, Duration: d, Seed: seed, Nemeses: nemeses, Wasm: wasmModule(t),
		ReportRoot: reportRoot(t), Replay: replay, Logger: slog.New(slog.NewTextHandler(testWriter{t}, nil)),
	})
	if err != nil && res == nil {
		t.Fatal(err)
	}
	t.Logf("report: %s\n%s", res.Dir, res.Summary)
	if err != nil {
		t.Errorf("writing the report: %v", err)
	}
	if !res.Summary.OK() {
		t.Fatalf("the chaos run found violations; see %s/summary.txt", res.Dir)
	}
}

// TestChaosCatchesStaleReads runs the suite briefly against a deliberately
// broken build (SHOAL_TEST_UNSAFE_STALE_READS=1: linearizable reads skip
// the read index) under partitions, and requires the linearizability
// checker to fail: a suite that passes a broken build proves nothing.
func TestChaosCatchesStaleReads(t *testing.T) {
	skipUnlessAsked(t)
	t.Parallel()
	c := cluster(t, "SHOAL_TEST_UNSAFE_STALE_READS=1")
	res, err := Run(t.Context(), Options{
		Cluster: c, Duration: 40 * time.Second, Seed: 1, Nemeses: []string{NemIsolateLeader},
		ReportRoot: t.TempDir(), Replay: "(broken build)", Logger: slog.New(slog.NewTextHandler(testWriter{t}, nil)),
	})
	if err != nil && res == nil {
		t.Fatal(err)
	}
	t.Logf("%s", res.Summary)
	for _, v := range res.Summary.Verdicts {
		if v.Name == "linearizable (porcupine)" {
			if v.OK {
				t.Fatalf("the broken build passed the linearizability check: %s", v.Summary)
			}
			return
		}
	}
	t.Fatal("no linearizability verdict")
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
