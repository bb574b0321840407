package docker_test

import (
	"context"
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/client"

	"github.com/shoal-io/shoal/api"
	"github.com/shoal-io/shoal/compute/engine"
	"github.com/shoal-io/shoal/compute/engine/docker"
	"github.com/shoal-io/shoal/compute/internal/testutil"
	"github.com/shoal-io/shoal/compute/testimage"
)

type fixture struct {
	eng    *docker.Engine
	cli    *client.Client
	image  string
	nodeID string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	cli := testimage.Client(ctx, t)
	img := testimage.Build(ctx, t)
	// A node ID of its own, so a node starting in another test does not
	// take these containers for its leftovers.
	nodeID := "n-test-" + strings.ToLower(rand.Text()[:8])
	// The tests' inputs and outputs live in their temporary folders.
	eng, err := docker.New(docker.Config{NodeID: nodeID, Instance: "instance-" + nodeID, MountRoots: []string{os.TempDir()}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	return &fixture{eng: eng, cli: cli, image: img, nodeID: nodeID}
}

type run struct {
	ec             *engine.ExecutionContext
	stdout, stderr *testutil.Buffer
}

// task builds an execution of a shell script in the test image.
func (f *fixture) task(t *testing.T, script string, mutate func(*api.Task)) *run {
	t.Helper()
	task := &api.Task{
		Name: "main",
		Engine: &api.SpecConfig{Type: "docker", Params: map[string]any{
			"Image":      f.image,
			"Entrypoint": []any{"/bin/sh", "-c"},
			"Parameters": []any{script},
		}},
	}
	if mutate != nil {
		mutate(task)
	}
	r := &run{stdout: &testutil.Buffer{}, stderr: &testutil.Buffer{}}
	r.ec = &engine.ExecutionContext{
		ExecutionID: "e-" + strings.ReplaceAll(strings.ToLower(t.Name()), "/", "-"),
		NodeID:      f.nodeID,
		Task:        task,
		WorkDir:     t.TempDir(),
		Stdout:      r.stdout,
		Stderr:      r.stderr,
	}
	return r
}

func (f *fixture) containers(t *testing.T, executionID string) int {
	t.Helper()
	list, err := f.cli.ContainerList(context.Background(), container.ListOptions{All: true,
		Filters: filters.NewArgs(filters.Arg("label", docker.LabelExecution+"="+executionID))})
	if err != nil {
		t.Fatal(err)
	}
	return len(list)
}

func TestRun(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name       string
		script     string
		mutate     func(*api.Task)
		limits     api.Resources
		wantExit   int
		wantStdout string
		wantStderr string
	}{
		{name: "stdout", script: "echo hello", wantStdout: "hello\n"},
		{name: "stderr and exit code", script: "echo oops >&2; exit 3", wantExit: 3, wantStderr: "oops\n"},
		{
			name:   "environment and working directory",
			script: `echo "$A $B $(pwd)"`,
			mutate: func(task *api.Task) {
				task.Engine.Params["EnvironmentVariables"] = []any{"A=from-params"}
				task.Engine.Params["WorkingDirectory"] = "/tmp"
				task.Env = map[string]string{"B": "from-task"}
			},
			wantStdout: "from-params from-task /tmp\n",
		},
		{
			name:       "memory limit applied",
			script:     "cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes",
			limits:     api.Resources{Memory: 64 << 20},
			wantStdout: "67108864\n",
		},
		{
			name: "cpu limit applied",
			// cgroup v2 prints "50000 100000", v1 the quota alone.
			script:     "(cat /sys/fs/cgroup/cpu.max 2>/dev/null || cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us) | cut -d' ' -f1",
			limits:     api.Resources{CPU: 0.5},
			wantStdout: "50000\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := f.task(t, tt.script, tt.mutate)
			r.ec.Limits = tt.limits
			res, err := f.eng.Run(context.Background(), r.ec)
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			if res.ExitCode != tt.wantExit {
				t.Errorf("exit code = %d, want %d", res.ExitCode, tt.wantExit)
			}
			if got := r.stdout.String(); got != tt.wantStdout {
				t.Errorf("stdout = %q, want %q", got, tt.wantStdout)
			}
			if got := r.stderr.String(); got != tt.wantStderr {
				t.Errorf("stderr = %q, want %q", got, tt.wantStderr)
			}
			if n := f.containers(t, r.ec.ExecutionID); n != 0 {
				t.Errorf("%d containers left behind", n)
			}
		})
	}
}

func TestMountsAndResults(t *testing.T) {
	f := newFixture(t)
	host := t.TempDir()
	inFile := filepath.Join(host, "data.txt")
	inDir := filepath.Join(host, "dir")
	outDir := filepath.Join(host, "out")
	for _, d := range []string{inDir, outDir} {
		if err := os.MkdirAll(d, 0o777); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(outDir, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(inFile, []byte("file input\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(inDir, "x.txt"), []byte("dir input\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := f.task(t, `cat /inputs/data.txt /dirin/x.txt > /outputs/result.txt &&
		if echo no > /inputs/data.txt 2>/dev/null; then echo input-writable; fi;
		if touch /dirin/new 2>/dev/null; then echo dir-writable; fi; echo done`, nil)
	r.ec.Inputs = []engine.Mount{
		{Source: inFile, Target: "/inputs/data.txt", ReadOnly: true},
		{Source: inDir, Target: "/dirin", ReadOnly: true, IsDir: true},
	}
	r.ec.Outputs = []engine.Mount{{Source: outDir, Target: "/outputs", IsDir: true}}
	res, err := f.eng.Run(context.Background(), r.ec)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if res.ExitCode != 0 || r.stdout.String() != "done\n" {
		t.Fatalf("exit %d, stdout %q, stderr %q", res.ExitCode, r.stdout.String(), r.stderr.String())
	}
	got, err := os.ReadFile(filepath.Join(outDir, "result.txt"))
	if err != nil || string(got) != "file input\ndir input\n" {
		t.Fatalf("result file = %q, %v", got, err)
	}
}

func TestMissingImage(t *testing.T) {
	f := newFixture(t)
	r := f.task(t, "true", func(task *api.Task) {
		task.Engine.Params["Image"] = "shoal-test-missing-image:nope"
	})
	_, err := f.eng.Run(context.Background(), r.ec)
	want := `image "shoal-test-missing-image:nope" is not present on node ` + f.nodeID + ` and could not be pulled: `
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("Run error = %v, want it to contain %q", err, want)
	}
}

func TestMissingImageParam(t *testing.T) {
	f := newFixture(t)
	r := f.task(t, "true", func(task *api.Task) { delete(task.Engine.Params, "Image") })
	if _, err := f.eng.Run(context.Background(), r.ec); !errors.Is(err, api.ErrBadRequest) {
		t.Fatalf("Run error = %v, want ErrBadRequest", err)
	}
}

func TestCancelAndTimeoutKillTheContainer(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name    string
		timeout time.Duration // 0: cancel once it runs
		wantErr error
	}{
		{name: "cancel", wantErr: context.Canceled},
		{name: "timeout", timeout: 3 * time.Second, wantErr: context.DeadlineExceeded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := f.task(t, "echo started; sleep 300; echo finished", nil)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tt.timeout > 0 {
				ctx, cancel = context.WithTimeout(ctx, tt.timeout)
				defer cancel()
			}
			var wg sync.WaitGroup
			var err error
			wg.Go(func() { _, err = f.eng.Run(ctx, r.ec) })
			if tt.timeout == 0 {
				testutil.Eventually(t, "the container to start", func() bool { return r.stdout.Contains("started") })
				cancel()
			}
			wg.Wait()
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Run error = %v, want %v", err, tt.wantErr)
			}
			if r.stdout.Contains("finished") {
				t.Fatal("the task ran to its end")
			}
			if n := f.containers(t, r.ec.ExecutionID); n != 0 {
				t.Fatalf("%d containers left behind", n)
			}
		})
	}
}

func TestNetwork(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		network  api.Network
		wantEth0 bool
	}{
		{network: api.NetworkNone, wantEth0: false},
		{network: api.NetworkFull, wantEth0: true},
		{network: api.NetworkHTTP, wantEth0: true},
	}
	for _, tt := range tests {
		t.Run(tt.network.String(), func(t *testing.T) {
			r := f.task(t, "cat /proc/net/dev", func(task *api.Task) {
				task.Network = &api.NetworkConfig{Type: tt.network}
			})
			res, err := f.eng.Run(context.Background(), r.ec)
			if err != nil || res.ExitCode != 0 {
				t.Fatalf("Run: %v, %+v, stderr %q", err, res, r.stderr.String())
			}
			if !r.stdout.Contains("lo:") {
				t.Fatalf("no loopback in %q", r.stdout.String())
			}
			if got := r.stdout.Contains("eth0"); got != tt.wantEth0 {
				t.Fatalf("eth0 present = %v, want %v:\n%s", got, tt.wantEth0, r.stdout.String())
			}
		})
	}
}

// Leftovers are found by the data folder that made them: another node with
// the same ID (another cluster on the same Docker engine) keeps its own.
func TestRemoveLeftovers(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	create := func(instance, execID string) {
		created, err := f.cli.ContainerCreate(ctx, &container.Config{Image: f.image, Cmd: []string{"sleep", "300"},
			Labels: map[string]string{docker.LabelNode: f.nodeID, docker.LabelInstance: instance, docker.LabelExecution: execID}}, nil, nil, nil, "")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.cli.ContainerRemove(ctx, created.ID, container.RemoveOptions{Force: true}) })
	}
	create("instance-"+f.nodeID, "e-leftover")
	create("another-cluster", "e-not-mine")
	if err := f.eng.RemoveLeftovers(ctx); err != nil {
		t.Fatal(err)
	}
	if n := f.containers(t, "e-leftover"); n != 0 {
		t.Fatalf("%d leftover containers remain", n)
	}
	if n := f.containers(t, "e-not-mine"); n != 1 {
		t.Fatalf("another node's container was touched: %d remain", n)
	}
}
