package main

import (
	"encoding/base64"
	"fmt"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/shoal-io/shoal/api"
	"github.com/spf13/cobra"
)

// maxInlineModule is the largest local module sent inside the job: base64
// makes it a third larger, and the API takes requests of at most 10 MB.
const maxInlineModule = 7 << 20

func newWasmCommand(env *cliEnv) *cobra.Command {
	cmd := newGroupCommand("wasm", "Run WebAssembly modules as jobs", "Run WebAssembly (WASI) modules as jobs on the cluster's compute nodes.")
	cmd.AddCommand(newWasmRunCommand(env))
	return cmd
}

type wasmFlags struct {
	entryPoint string
	env        []string
}

func newWasmRunCommand(env *cliEnv) *cobra.Command {
	var (
		jf jobFlags
		rf runFlags
		wf wasmFlags
	)
	cmd := &cobra.Command{
		Use:   "run [flags] MODULE [--] [ARG...]",
		Short: "Run a WebAssembly module as a job and wait for it",
		Long: `Run a WebAssembly (WASI) module as a job. MODULE is a local .wasm file, sent
inside the job as an inline data: URL (at most 7 MB: the API takes requests
of at most 10 MB and base64 adds a third), or an http(s) URL the compute
node downloads. Flags go before MODULE; what follows it are the module's
arguments.

` + inputHelp + `

` + runOutputHelp + `

` + exitCodesHelp,
		Example: `  shoal wasm run hello.wasm world
  shoal wasm run https://example.com/hello.wasm -- --verbose
  shoal wasm run -e NAME=shoal --entry-point _start main.wasm
  shoal wasm run --dry-run hello.wasm`,
		Args: args(cobra.MinimumNArgs(1)),
		RunE: run(func(cmd *cobra.Command, a []string) error {
			if err := rf.check(); err != nil {
				return err
			}
			job, err := wasmJob(&jf, &wf, a)
			if err != nil {
				return err
			}
			return env.submit(cmd, job, &rf)
		}),
	}
	f := cmd.Flags()
	f.SetInterspersed(false)
	jf.register(f)
	rf.register(f)
	f.StringVar(&wf.entryPoint, "entry-point", "_start", "the function of the module to run")
	f.StringArrayVarP(&wf.env, "env", "e", nil, "environment variable NAME=VALUE (repeatable)")
	return cmd
}

// wasmJob makes the job of `wasm run MODULE [ARGS]`.
func wasmJob(jf *jobFlags, wf *wasmFlags, a []string) (*api.Job, error) {
	module, err := entryModule(a[0])
	if err != nil {
		return nil, err
	}
	params := map[string]any{"EntryModule": module, "EntryPoint": wf.entryPoint}
	moduleArgs := a[1:]
	if len(moduleArgs) > 0 && moduleArgs[0] == "--" {
		moduleArgs = moduleArgs[1:]
	}
	if len(moduleArgs) > 0 {
		params["Parameters"] = moduleArgs
	}
	if len(wf.env) > 0 {
		vars := make(map[string]any, len(wf.env))
		for _, e := range wf.env {
			k, v, err := parseEnv(e)
			if err != nil {
				return nil, err
			}
			vars[k] = v
		}
		params["EnvironmentVariables"] = vars
	}
	return jf.build(&api.SpecConfig{Type: api.EngineWasm, Params: params})
}

// entryModule is the input source of a module: a URL the node downloads,
// or a local file sent inline. Its target names the module to the program
// (argv[0]).
func entryModule(module string) (*api.InputSource, error) {
	lower := strings.ToLower(module)
	if strings.HasPrefix(lower, "http://") || strings.HasPrefix(lower, "https://") {
		u, err := url.Parse(module)
		if err != nil || u.Host == "" {
			return nil, usageErrorf("invalid module URL %q", module)
		}
		name := path.Base(u.Path)
		if name == "/" || name == "." {
			name = "main.wasm"
		}
		return &api.InputSource{
			Source: &api.SpecConfig{Type: api.StorageURLDownload, Params: map[string]any{"URL": module}},
			Target: "/" + name,
		}, nil
	}
	info, err := os.Stat(module)
	if err != nil {
		return nil, usageErrorf("reading module: %w", err)
	}
	if info.IsDir() {
		return nil, usageErrorf("module %s is a folder, not a .wasm file", module)
	}
	if info.Size() > maxInlineModule {
		return nil, usageErrorf("module %s is %s: too large to send inside the job (at most %s); serve it over http(s) and give its URL",
			module, api.FormatBytes(uint64(info.Size())), api.FormatBytes(maxInlineModule))
	}
	data, err := os.ReadFile(module)
	if err != nil {
		return nil, usageErrorf("reading module: %w", err)
	}
	return &api.InputSource{
		Source: &api.SpecConfig{Type: api.StorageInline, Params: map[string]any{
			"URL": fmt.Sprintf("data:application/wasm;base64,%s", base64.StdEncoding.EncodeToString(data)),
		}},
		Target: "/" + filepath.Base(module),
	}, nil
}
