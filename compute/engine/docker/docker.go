// Package docker is the execution engine that runs a task in a Docker
// container through the Docker Engine API (the moby client, API version
// negotiated, so a 20.10 engine speaking API 1.41 works).
//
// Inputs and result folders are bind mounts, so their sources must be paths
// on the Docker host: when the compute node itself runs in a container that
// shares the host's Docker socket, its DataDir must be a host path mounted at
// the same path inside that container.
package docker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/client"
	"github.com/docker/docker/pkg/stdcopy"

	"github.com/shoal-io/shoal/api"
	"github.com/shoal-io/shoal/compute/engine"
)

// Labels put on every container this engine creates.
const (
	LabelExecution = "shoal.execution"
	LabelNode      = "shoal.node"
	// LabelInstance names the node's data folder: node IDs repeat across
	// clusters sharing one Docker engine (tests, demos), so leftovers are
	// found by the folder that made them, not by the node's ID.
	LabelInstance = "shoal.instance"
)

// ContainerName is the name of an execution's container.
func ContainerName(executionID string) string { return "shoal-" + executionID }

// cleanupTimeout bounds removing a container once its execution is over;
// removal runs on a fresh context because the execution's own may be done.
const cleanupTimeout = 30 * time.Second

// Config configures the engine.
type Config struct {
	// NodeID labels containers, so a restarted node finds the ones it
	// left behind.
	NodeID string
	// Instance identifies this node's data folder; it survives restarts.
	Instance string
	Logger   *slog.Logger
	// Client overrides the Docker client built from the environment
	// (DOCKER_HOST and friends).
	Client *client.Client
	// MountRoots are the only host folders bind mounts may come from: the
	// node's data folder and its allowed local paths. None: every
	// execution with inputs or result paths is refused.
	MountRoots []string
}

// Engine runs executions as Docker containers.
type Engine struct {
	cli        *client.Client
	nodeID     string
	instance   string
	mountRoots []string // absolute, symlink-resolved
	log        *slog.Logger
}

// New builds the engine. It does not contact Docker; use Ping for that.
func New(cfg Config) (*Engine, error) {
	roots, err := resolveRoots(cfg.MountRoots)
	if err != nil {
		return nil, err
	}
	cli := cfg.Client
	if cli == nil {
		cli, err = client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
		if err != nil {
			return nil, fmt.Errorf("docker client: %w", err)
		}
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.Instance == "" {
		return nil, errors.New("docker engine: the node's instance ID is required")
	}
	return &Engine{cli: cli, nodeID: cfg.NodeID, instance: cfg.Instance, mountRoots: roots, log: log}, nil
}

// Ping reports whether the Docker engine answers.
func (e *Engine) Ping(ctx context.Context) error {
	if _, err := e.cli.Ping(ctx); err != nil {
		return fmt.Errorf("docker engine not reachable: %w", err)
	}
	return nil
}

// Close releases the client's connections.
func (e *Engine) Close() error { return e.cli.Close() }

// RemoveLeftovers removes the containers a previous run of this node left
// behind (it was killed before it could remove them). Their executions are
// reconciled with the orchestrator separately.
func (e *Engine) RemoveLeftovers(ctx context.Context) error {
	list, err := e.cli.ContainerList(ctx, container.ListOptions{All: true,
		Filters: filters.NewArgs(filters.Arg("label", LabelInstance+"="+e.instance))})
	if err != nil {
		return fmt.Errorf("listing leftover containers: %w", err)
	}
	var errs []error
	for _, c := range list {
		e.log.Info("removing leftover container", "container", c.ID, "execution", c.Labels[LabelExecution])
		if err := e.cli.ContainerRemove(ctx, c.ID, container.RemoveOptions{Force: true}); err != nil && !cerrdefs.IsNotFound(err) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Run creates the container, streams its output to the writers, waits for
// it to exit and removes it, also when ctx ends first (cancel or timeout).
func (e *Engine) Run(ctx context.Context, ec *engine.ExecutionContext) (*engine.Result, error) {
	p, err := decodeParams(ec.Task)
	if err != nil {
		return nil, err
	}
	if err := e.ensureImage(ctx, p.Image); err != nil {
		return nil, err
	}
	id, err := e.create(ctx, ec, p)
	if err != nil {
		return nil, err
	}
	defer e.remove(id)
	return e.attachStartWait(ctx, ec, id)
}

func (e *Engine) create(ctx context.Context, ec *engine.ExecutionContext, p *Params) (string, error) {
	cfg := &container.Config{
		Image:        p.Image,
		Entrypoint:   nilIfEmpty(p.Entrypoint),
		Cmd:          nilIfEmpty(p.Parameters),
		Env:          append(append([]string(nil), p.EnvironmentVariables...), engine.SortedEnv(ec.Task.Env)...),
		WorkingDir:   p.WorkingDirectory,
		AttachStdout: true,
		AttachStderr: true,
		Labels:       map[string]string{LabelExecution: ec.ExecutionID, LabelNode: ec.NodeID, LabelInstance: e.instance},
	}
	host, err := e.hostConfig(ec)
	if err != nil {
		return "", err
	}
	name := ContainerName(ec.ExecutionID)
	// Creating is not cancelled midway: a daemon that already received the
	// request creates the container even if the client gives up, and it
	// would be left behind. Once created, it is removed like any other.
	createCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	created, err := e.cli.ContainerCreate(createCtx, cfg, host, nil, nil, name)
	if cerrdefs.IsConflict(err) {
		// A container of an earlier attempt of this execution (a
		// restarted service) still holds the name.
		if rmErr := e.cli.ContainerRemove(createCtx, name, container.RemoveOptions{Force: true}); rmErr == nil {
			created, err = e.cli.ContainerCreate(createCtx, cfg, host, nil, nil, name)
		}
	}
	if err != nil {
		return "", fmt.Errorf("creating container for image %q: %w", p.Image, err)
	}
	if ctx.Err() != nil {
		e.remove(created.ID)
		return "", ctx.Err()
	}
	return created.ID, nil
}

func (e *Engine) attachStartWait(ctx context.Context, ec *engine.ExecutionContext, id string) (*engine.Result, error) {
	// Attach before start so no output is missed, and register the wait
	// before start so a container that exits at once is still seen.
	att, err := e.cli.ContainerAttach(ctx, id, container.AttachOptions{Stream: true, Stdout: true, Stderr: true})
	if err != nil {
		return nil, fmt.Errorf("attaching to container: %w", err)
	}
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		if _, err := stdcopy.StdCopy(ec.Stdout, ec.Stderr, att.Reader); err != nil && ctx.Err() == nil {
			e.log.Debug("container output stream ended with an error", "container", id, "err", err)
		}
	}()
	// The writers must not be used after Run returns: close the stream
	// and wait for the copier on every way out.
	defer func() {
		att.Close()
		<-copied
	}()
	waitC, waitErrC := e.cli.ContainerWait(ctx, id, container.WaitConditionNextExit)
	if err := e.cli.ContainerStart(ctx, id, container.StartOptions{}); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("starting container: %w", err)
	}
	select {
	case w := <-waitC:
		if w.Error != nil && w.Error.Message != "" {
			return nil, fmt.Errorf("waiting for container: %s", w.Error.Message)
		}
		// The exit ends the attach stream; take all the output first.
		select {
		case <-copied:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		return &engine.Result{ExitCode: int(w.StatusCode)}, nil
	case err := <-waitErrC:
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("waiting for container: %w", err)
	}
}

// remove kills and removes the container (by ID or name); it runs when
// the execution is over, whatever ended it.
func (e *Engine) remove(id string) {
	ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
	defer cancel()
	err := e.cli.ContainerRemove(ctx, id, container.RemoveOptions{Force: true, RemoveVolumes: true})
	if err != nil && !cerrdefs.IsNotFound(err) {
		e.log.Warn("could not remove container", "container", id, "err", err)
	}
}

func networkMode(n *api.NetworkConfig) container.NetworkMode {
	if n == nil || n.Type == api.NetworkNone {
		return container.NetworkMode(network.NetworkNone)
	}
	// HTTP gets the default bridge too: domain filtering would need a
	// proxy this node does not run.
	return container.NetworkMode(network.NetworkDefault)
}

func clampInt64(v uint64) int64 {
	if v > 1<<62 {
		return 1 << 62
	}
	return int64(v)
}

// nilIfEmpty keeps the image's own entrypoint and command when the job
// gives none: an empty list would clear them.
func nilIfEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}
