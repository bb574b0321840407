// Package wasm is the execution engine that runs a WASI (preview 1) module
// with wazero, inside the node's process: inputs are mounted read-only,
// result folders writable, and cancelling the execution's context stops the
// module at once.
package wasm

import (
	"context"
	crand "crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"sort"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
	"github.com/tetratelabs/wazero/sys"

	"github.com/shoal-io/shoal/api"
	"github.com/shoal-io/shoal/compute/engine"
)

// wasmPageSize is the size of one WebAssembly memory page.
const wasmPageSize = 64 << 10

// Config configures the engine.
type Config struct {
	// Fetcher loads the EntryModule from its input source.
	Fetcher engine.InputFetcher
	Logger  *slog.Logger
}

// Engine runs WASI modules.
type Engine struct {
	fetcher engine.InputFetcher
	// cache keeps compiled code across executions: a job run many times
	// compiles its module once.
	cache wazero.CompilationCache
	log   *slog.Logger
}

// New builds the engine.
func New(cfg Config) (*Engine, error) {
	if cfg.Fetcher == nil {
		return nil, errors.New("wasm engine: a Fetcher is required")
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Engine{fetcher: cfg.Fetcher, cache: wazero.NewCompilationCache(), log: log}, nil
}

// Close frees the compilation cache.
func (e *Engine) Close(ctx context.Context) error { return e.cache.Close(ctx) }

// Run fetches, compiles and runs the module; its exit code is the result.
func (e *Engine) Run(ctx context.Context, ec *engine.ExecutionContext) (*engine.Result, error) {
	p, err := decodeParams(ec.Task)
	if err != nil {
		return nil, err
	}
	code, err := e.loadModule(ctx, p.EntryModule, filepath.Join(ec.WorkDir, "module"))
	if err != nil {
		return nil, err
	}
	fsConfig, err := fsConfigFor(ec)
	if err != nil {
		return nil, err
	}

	rc := wazero.NewRuntimeConfig().WithCloseOnContextDone(true).WithCompilationCache(e.cache)
	if pages := memoryPages(ec.Limits.Memory); pages > 0 {
		rc = rc.WithMemoryLimitPages(pages)
	}
	rt := wazero.NewRuntimeWithConfig(ctx, rc)
	defer rt.Close(context.WithoutCancel(ctx))
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, rt); err != nil {
		return nil, fmt.Errorf("wasm engine: instantiating WASI: %w", err)
	}
	compiled, err := rt.CompileModule(ctx, code)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, api.BadRequestf("wasm engine: invalid module: %v", err)
	}
	if _, ok := compiled.ExportedFunctions()[p.EntryPoint]; !ok {
		return nil, api.BadRequestf("wasm engine: entry point %q is not exported by the module", p.EntryPoint)
	}

	mc := wazero.NewModuleConfig().
		WithName("").
		WithArgs(append([]string{path.Base(p.EntryModule.Target)}, p.Parameters...)...).
		WithStdout(ec.Stdout).
		WithStderr(ec.Stderr).
		WithFSConfig(fsConfig).
		WithSysWalltime().
		WithSysNanotime().
		WithNanosleep(interruptibleSleep(ctx)).
		WithRandSource(crand.Reader)
	for _, kv := range envPairs(p.EnvironmentVariables, ec.Task.Env) {
		mc = mc.WithEnv(kv[0], kv[1])
	}

	if p.EntryPoint == DefaultEntryPoint {
		mod, err := rt.InstantiateModule(ctx, compiled, mc)
		if mod != nil {
			defer mod.Close(context.WithoutCancel(ctx))
		}
		return exitResult(ctx, err)
	}
	// A reactor: initialise it, then call the chosen export.
	mod, err := rt.InstantiateModule(ctx, compiled, mc.WithStartFunctions("_initialize"))
	if err != nil {
		return exitResult(ctx, err)
	}
	defer mod.Close(context.WithoutCancel(ctx))
	_, err = mod.ExportedFunction(p.EntryPoint).Call(ctx)
	return exitResult(ctx, err)
}

// interruptibleSleep is the module's sleep: WASI's poll_oneoff sleeps on
// the host, out of reach of WithCloseOnContextDone, so a sleeping module
// would outlive its cancel or timeout.
func interruptibleSleep(ctx context.Context) sys.Nanosleep {
	return func(ns int64) {
		t := time.NewTimer(time.Duration(ns))
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
		}
	}
}

// exitResult turns how a module ended into an exit code: proc_exit gives
// one, a trap is an error, and a cancelled context wins over both.
func exitResult(ctx context.Context, err error) (*engine.Result, error) {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return nil, ctxErr
	}
	if err == nil {
		return &engine.Result{}, nil
	}
	var exit *sys.ExitError
	if errors.As(err, &exit) {
		return &engine.Result{ExitCode: int(exit.ExitCode())}, nil
	}
	return nil, fmt.Errorf("wasm module failed: %w", err)
}

func (e *Engine) loadModule(ctx context.Context, src *api.InputSource, dir string) ([]byte, error) {
	m, err := e.fetcher.Fetch(ctx, src, dir)
	if err != nil {
		return nil, fmt.Errorf("wasm engine: fetching EntryModule: %w", err)
	}
	if m.IsDir {
		return nil, api.BadRequestf("wasm engine: EntryModule %q is a folder, not a module", m.Source)
	}
	code, err := os.ReadFile(m.Source)
	if err != nil {
		return nil, fmt.Errorf("wasm engine: reading EntryModule: %w", err)
	}
	return code, nil
}

func memoryPages(limit uint64) uint32 {
	if limit == 0 {
		return 0
	}
	pages := (limit + wasmPageSize - 1) / wasmPageSize
	if pages > 65536 {
		return 65536
	}
	return uint32(pages)
}

// envPairs merges the engine's and the task's environment, the task's
// winning, in a stable order.
func envPairs(engineEnv, taskEnv map[string]string) [][2]string {
	merged := make(map[string]string, len(engineEnv)+len(taskEnv))
	for k, v := range engineEnv {
		merged[k] = v
	}
	for k, v := range taskEnv {
		merged[k] = v
	}
	keys := make([]string, 0, len(merged))
	for k := range merged {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([][2]string, 0, len(keys))
	for _, k := range keys {
		out = append(out, [2]string{k, merged[k]})
	}
	return out
}
