package docker

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/mount"

	"github.com/shoal-io/shoal/api"
	"github.com/shoal-io/shoal/compute/engine"
)

// hostConfig is everything the container may reach on the host. A job
// cannot widen it: it is never privileged, gains no capabilities or
// devices, shares none of the host's namespaces, and its bind mounts come
// only from the engine's mount roots (the node's data folder, where inputs
// are fetched and results collected, and the operator's
// --allowed-local-paths). The input fetcher already refuses local paths
// outside the allowed ones; this is the last check before Docker sees a
// path, so no bug upstream of it can mount the host's / or its Docker
// socket into a job.
func (e *Engine) hostConfig(ec *engine.ExecutionContext) (*container.HostConfig, error) {
	mounts, err := e.mounts(ec)
	if err != nil {
		return nil, err
	}
	return &container.HostConfig{
		NetworkMode: networkMode(ec.Task.Network),
		Mounts:      mounts,
		Privileged:  false,
		// setuid binaries in the image cannot gain more than the task
		// started with.
		SecurityOpt: []string{"no-new-privileges"},
		Resources: container.Resources{
			NanoCPUs: int64(ec.Limits.CPU * 1e9),
			Memory:   clampInt64(ec.Limits.Memory),
		},
	}, nil
}

func (e *Engine) mounts(ec *engine.ExecutionContext) ([]mount.Mount, error) {
	out := make([]mount.Mount, 0, len(ec.Inputs)+len(ec.Outputs))
	for _, m := range append(append([]engine.Mount(nil), ec.Inputs...), ec.Outputs...) {
		if !e.mountAllowed(m.Source) {
			return nil, api.BadRequestf("docker engine: refusing to mount host path %q into the container: it is outside this node's data folder and allowed local paths", m.Source)
		}
		out = append(out, mount.Mount{Type: mount.TypeBind, Source: m.Source, Target: m.Target, ReadOnly: m.ReadOnly})
	}
	return out, nil
}

// mountAllowed reports whether a host path lies under a mount root, once
// symbolic links are resolved on both sides.
func (e *Engine) mountAllowed(source string) bool {
	if !filepath.IsAbs(source) {
		return false
	}
	resolved := resolve(source)
	for _, root := range e.mountRoots {
		if within(root, resolved) {
			return true
		}
	}
	return false
}

// resolve cleans a path and follows its symbolic links; a path that does
// not exist (yet) is only cleaned.
func resolve(p string) string {
	if r, err := filepath.EvalSymlinks(filepath.Clean(p)); err == nil {
		return r
	}
	return filepath.Clean(p)
}

func within(root, p string) bool {
	rel, err := filepath.Rel(root, p)
	if err != nil {
		return false
	}
	return rel == "." || (rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)))
}

func resolveRoots(roots []string) ([]string, error) {
	out := make([]string, 0, len(roots))
	for _, r := range roots {
		if !filepath.IsAbs(r) {
			return nil, fmt.Errorf("docker engine: mount root %q is not absolute", r)
		}
		out = append(out, resolve(r))
	}
	return out, nil
}
