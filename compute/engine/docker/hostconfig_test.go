package docker

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/shoal-io/shoal/api"
	"github.com/shoal-io/shoal/compute/engine"
)

func TestHostConfigKeepsJobsConfined(t *testing.T) {
	base := t.TempDir()
	execs := filepath.Join(base, "data", "executions")
	allowed := filepath.Join(base, "allowed")
	outside := filepath.Join(base, "outside")
	for _, d := range []string{filepath.Join(execs, "e1", "outputs"), allowed, outside} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// A link inside an allowed folder that leads out of it.
	if err := os.Symlink(outside, filepath.Join(allowed, "escape")); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		roots   []string
		inputs  []engine.Mount
		outputs []engine.Mount
		wantErr bool
	}{
		{name: "no mounts, no roots"},
		{name: "execution folder and allowed path", roots: []string{execs, allowed},
			inputs:  []engine.Mount{{Source: allowed, Target: "/in", ReadOnly: true, IsDir: true}},
			outputs: []engine.Mount{{Source: filepath.Join(execs, "e1", "outputs"), Target: "/out", IsDir: true}}},
		{name: "no roots refuses every mount",
			outputs: []engine.Mount{{Source: filepath.Join(execs, "e1", "outputs"), Target: "/out", IsDir: true}}, wantErr: true},
		{name: "host root", roots: []string{execs, allowed},
			inputs: []engine.Mount{{Source: "/", Target: "/host"}}, wantErr: true},
		{name: "docker socket", roots: []string{execs, allowed},
			inputs: []engine.Mount{{Source: "/var/run/docker.sock", Target: "/var/run/docker.sock"}}, wantErr: true},
		{name: "dot-dot out of a root", roots: []string{execs, allowed},
			inputs: []engine.Mount{{Source: allowed + "/../outside", Target: "/in"}}, wantErr: true},
		{name: "link out of a root", roots: []string{execs, allowed},
			inputs: []engine.Mount{{Source: filepath.Join(allowed, "escape"), Target: "/in"}}, wantErr: true},
		{name: "relative path", roots: []string{execs, allowed},
			inputs: []engine.Mount{{Source: "allowed", Target: "/in"}}, wantErr: true},
		{name: "sibling with a root's name as prefix", roots: []string{allowed},
			inputs: []engine.Mount{{Source: allowed + "-not", Target: "/in"}}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			roots, err := resolveRoots(tt.roots)
			if err != nil {
				t.Fatal(err)
			}
			e := &Engine{mountRoots: roots}
			host, err := e.hostConfig(&engine.ExecutionContext{Task: &api.Task{}, Inputs: tt.inputs, Outputs: tt.outputs})
			if tt.wantErr {
				if !errors.Is(err, api.ErrBadRequest) {
					t.Fatalf("err = %v, want a bad request", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if host.Privileged || len(host.CapAdd) > 0 || len(host.Devices) > 0 || host.PidMode != "" || host.IpcMode != "" || len(host.Binds) > 0 {
				t.Fatalf("host config widens the container: %+v", host)
			}
			if !slices.Contains(host.SecurityOpt, "no-new-privileges") {
				t.Fatalf("SecurityOpt = %v, want no-new-privileges", host.SecurityOpt)
			}
			if len(host.Mounts) != len(tt.inputs)+len(tt.outputs) {
				t.Fatalf("%d mounts, want %d", len(host.Mounts), len(tt.inputs)+len(tt.outputs))
			}
		})
	}
}

func TestMountRootsMustBeAbsolute(t *testing.T) {
	if _, err := New(Config{Instance: "i", MountRoots: []string{"data"}}); err == nil {
		t.Fatal("accepted a relative mount root")
	}
}
