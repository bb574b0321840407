package wasm_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shoal-io/shoal/api"
	"github.com/shoal-io/shoal/compute/engine"
	"github.com/shoal-io/shoal/compute/engine/wasm"
	"github.com/shoal-io/shoal/compute/input"
	"github.com/shoal-io/shoal/compute/internal/testutil"
	"github.com/shoal-io/shoal/compute/internal/wasmtest"
)

type fixture struct {
	eng     *wasm.Engine
	module  string
	tmp     string
	dataDir string
}

// shared is built once: compiling a Go module takes seconds under -race, and
// the engine's compilation cache makes every later run quick.
var shared struct {
	sync.Mutex
	f *fixture
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	shared.Lock()
	defer shared.Unlock()
	if shared.f == nil {
		shared.f = buildFixture(t)
	}
	return shared.f
}

func buildFixture(t *testing.T) *fixture {
	t.Helper()
	tmp, err := os.MkdirTemp("", "wasm-engine-test-")
	if err != nil {
		t.Fatal(err)
	}
	module := wasmtest.BuildIn(t, tmp, wasmtest.Program)
	fetcher, err := input.New(input.Config{AllowedLocalPaths: []string{filepath.Dir(module)}})
	if err != nil {
		t.Fatal(err)
	}
	eng, err := wasm.New(wasm.Config{Fetcher: fetcher})
	if err != nil {
		t.Fatal(err)
	}
	dataDir := filepath.Join(tmp, "in")
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dataDir, "data.txt"), []byte("some data\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return &fixture{eng: eng, module: module, tmp: tmp, dataDir: dataDir}
}

func (f *fixture) context(t *testing.T, params map[string]any) (*engine.ExecutionContext, *testutil.Buffer, *testutil.Buffer) {
	t.Helper()
	base := map[string]any{
		"EntryModule": map[string]any{
			"Source": map[string]any{"Type": "localDirectory", "Params": map[string]any{"SourcePath": f.module}},
			"Target": "/app/main.wasm",
		},
		"EnvironmentVariables": map[string]any{"GREETING": "hi"},
	}
	for k, v := range params {
		base[k] = v
	}
	work := filepath.Join(t.TempDir(), "work")
	out := filepath.Join(t.TempDir(), "out")
	for _, d := range []string{work, out} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	var stdout, stderr testutil.Buffer
	ec := &engine.ExecutionContext{
		ExecutionID: "e-1",
		NodeID:      "n1",
		Task:        &api.Task{Name: "main", Engine: &api.SpecConfig{Type: "wasm", Params: base}},
		WorkDir:     work,
		Inputs:      []engine.Mount{{Source: filepath.Join(f.dataDir, "data.txt"), Target: "/inputs/data.txt", ReadOnly: true}},
		Outputs:     []engine.Mount{{Source: out, Target: "/outputs", IsDir: true}},
		Stdout:      &stdout,
		Stderr:      &stderr,
	}
	return ec, &stdout, &stderr
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.f != nil {
		shared.f.eng.Close(context.Background())
		os.RemoveAll(shared.f.tmp)
	}
	os.Exit(code)
}

func TestRun(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name       string
		params     map[string]any
		wantExit   int
		wantStdout []string
		wantStderr string
		wantErr    error
	}{
		{
			name:       "success",
			params:     map[string]any{"Parameters": []any{"hello", "world"}},
			wantExit:   0,
			wantStdout: []string{"args: main.wasm hello world\n", "env: hi\n", "input: some data\n"},
			wantStderr: "to stderr\n",
		},
		{
			name:       "non-zero exit",
			params:     map[string]any{"Parameters": []any{"fail"}},
			wantExit:   7,
			wantStdout: []string{"args: main.wasm fail\n"},
			wantStderr: "to stderr\n",
		},
		{
			name:    "entry point not exported",
			params:  map[string]any{"EntryPoint": "nope"},
			wantErr: api.ErrBadRequest,
		},
		{
			name:    "missing entry module",
			params:  map[string]any{"EntryModule": nil},
			wantErr: api.ErrBadRequest,
		},
		{
			name: "entry module outside allowed paths",
			params: map[string]any{"EntryModule": map[string]any{
				"Source": map[string]any{"Type": "localDirectory", "Params": map[string]any{"SourcePath": "/etc/hostname"}},
			}},
			wantErr: api.ErrBadRequest,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ec, stdout, stderr := f.context(t, tt.params)
			res, err := f.eng.Run(context.Background(), ec)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Run error = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Run: %v (stderr %q)", err, stderr.String())
			}
			if res.ExitCode != tt.wantExit {
				t.Errorf("exit code = %d, want %d (stderr %q)", res.ExitCode, tt.wantExit, stderr.String())
			}
			for _, want := range tt.wantStdout {
				if !stdout.Contains(want) {
					t.Errorf("stdout %q lacks %q", stdout.String(), want)
				}
			}
			if stderr.String() != tt.wantStderr {
				t.Errorf("stderr = %q, want %q", stderr.String(), tt.wantStderr)
			}
			if tt.wantExit == 0 {
				got, err := os.ReadFile(filepath.Join(ec.Outputs[0].Source, "result.txt"))
				if err != nil || string(got) != "result of some data\n" {
					t.Errorf("result file = %q, %v", got, err)
				}
			}
		})
	}
}

func TestCancelAndTimeoutStopTheModule(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name    string
		mode    string
		timeout time.Duration // 0: cancel once the module printed
		wantErr error
	}{
		{name: "cancel while sleeping", mode: "sleep", wantErr: context.Canceled},
		{name: "cancel while spinning", mode: "spin", wantErr: context.Canceled},
		{name: "timeout while sleeping", mode: "sleep", timeout: 500 * time.Millisecond, wantErr: context.DeadlineExceeded},
		{name: "timeout while spinning", mode: "spin", timeout: 500 * time.Millisecond, wantErr: context.DeadlineExceeded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ec, stdout, _ := f.context(t, map[string]any{"Parameters": []any{tt.mode}})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tt.timeout > 0 {
				ctx, cancel = context.WithTimeout(ctx, tt.timeout)
				defer cancel()
			}
			errc := make(chan error, 1)
			go func() {
				_, err := f.eng.Run(ctx, ec)
				errc <- err
			}()
			if tt.timeout == 0 {
				testutil.Eventually(t, "the module to start", func() bool { return stdout.Contains("args:") })
				cancel()
			}
			select {
			case err := <-errc:
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Run error = %v, want %v", err, tt.wantErr)
				}
			case <-time.After(60 * time.Second):
				t.Fatal("the module did not stop")
			}
			if strings.Contains(stdout.String(), "input:") {
				t.Errorf("the module went on after being stopped: %q", stdout.String())
			}
		})
	}
}
