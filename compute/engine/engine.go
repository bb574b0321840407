// Package engine defines what every execution engine of a compute node
// implements (docker, wasm, noop) and the context an execution runs in: its
// task, its prepared inputs and result folders, its limits and where its
// output goes.
package engine

import (
	"context"
	"encoding/json"
	"io"
	"slices"

	"github.com/shoal-io/shoal/api"
)

// Engine types as jobs name them (compared case-insensitively).
const (
	TypeDocker = "docker"
	TypeWasm   = "wasm"
	TypeNoop   = "noop"
)

// Engine runs one execution to its end. Run returns when the task has
// exited (with its exit code, zero or not) or when it could not be run at all
// (an error worth showing the user, such as a missing image). When ctx ends,
// Run stops the task and returns ctx.Err(); it must not write to the output
// writers after it returns.
type Engine interface {
	Run(ctx context.Context, ec *ExecutionContext) (*Result, error)
}

// Validator is implemented by engines that can tell, before running, that
// a task's engine params are unusable; a node then declines the bid with the
// reason instead of failing the run.
type Validator interface {
	Validate(task *api.Task) error
}

// ExecutionContext is everything an engine needs to run one execution.
type ExecutionContext struct {
	ExecutionID string
	NodeID      string
	Job         *api.Job
	Task        *api.Task
	// WorkDir is a host folder private to this execution, for the engine's
	// own files (a downloaded wasm module, staging folders).
	WorkDir string
	// Inputs are the task's fetched input sources, in the task's order.
	Inputs []Mount
	// Outputs are writable host folders, one per result path.
	Outputs []Mount
	// Limits caps what the task may use; a zero dimension means no limit.
	Limits api.Resources
	Stdout io.Writer
	Stderr io.Writer
}

// Mount makes a host file or folder visible to the task at Target.
type Mount struct {
	Source   string // absolute host path
	Target   string // absolute path as the task sees it
	ReadOnly bool
	IsDir    bool
}

// Result is how a task ended.
type Result struct {
	ExitCode int
}

// InputFetcher makes an input source available on the host under dir and
// says where; engines that load code from an input source (wasm's
// EntryModule) use it.
type InputFetcher interface {
	Fetch(ctx context.Context, src *api.InputSource, dir string) (Mount, error)
	// Supports reports whether the fetcher handles an input source type.
	Supports(typ string) bool
}

// DecodeParams fills out from a SpecConfig's free-form Params. Field names
// match case-insensitively, as upstream decodes them.
func DecodeParams(params map[string]any, out any) error {
	if len(params) == 0 {
		return nil
	}
	raw, err := json.Marshal(params)
	if err != nil {
		return api.BadRequestf("invalid params: %v", err)
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return api.BadRequestf("invalid params: %v", err)
	}
	return nil
}

// SortedEnv returns the task's environment variables as sorted "K=V"
// strings, so an execution's environment does not depend on map order.
func SortedEnv(env map[string]string) []string {
	if len(env) == 0 {
		return nil
	}
	out := make([]string, 0, len(env))
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	slices.Sort(out)
	return out
}
