package wasm

import (
	"strings"

	"github.com/shoal-io/shoal/api"
	"github.com/shoal-io/shoal/compute/engine"
)

// Params are the wasm engine's SpecConfig params (reference §11).
type Params struct {
	EntryModule          *api.InputSource   `json:"EntryModule"`
	EntryPoint           string             `json:"EntryPoint"`
	Parameters           []string           `json:"Parameters"`
	EnvironmentVariables map[string]string  `json:"EnvironmentVariables"`
	ImportModules        []*api.InputSource `json:"ImportModules"`
}

// DefaultEntryPoint is the WASI command entry point.
const DefaultEntryPoint = "_start"

func decodeParams(task *api.Task) (*Params, error) {
	if task == nil || task.Engine == nil {
		return nil, api.BadRequestf("wasm engine: task has no engine spec")
	}
	var p Params
	if err := engine.DecodeParams(task.Engine.Params, &p); err != nil {
		return nil, api.BadRequestf("wasm engine: %v", err)
	}
	if p.EntryModule == nil || p.EntryModule.Source == nil {
		return nil, api.BadRequestf("wasm engine: missing EntryModule")
	}
	if len(p.ImportModules) > 0 {
		return nil, api.BadRequestf("wasm engine: ImportModules are not supported on this node")
	}
	p.EntryPoint = strings.TrimSpace(p.EntryPoint)
	if p.EntryPoint == "" {
		p.EntryPoint = DefaultEntryPoint
	}
	if strings.TrimSpace(p.EntryModule.Target) == "" {
		// The module is only read by the node, never mounted: any
		// absolute name will do, and it becomes argv[0].
		p.EntryModule.Target = "/main.wasm"
	}
	return &p, nil
}

// Validate checks the task's wasm params and that the EntryModule's source
// type can be fetched here.
func (e *Engine) Validate(task *api.Task) error {
	p, err := decodeParams(task)
	if err != nil {
		return err
	}
	if !e.fetcher.Supports(p.EntryModule.Source.Type) {
		return api.BadRequestf("wasm engine: EntryModule source type %q is not supported on this node", p.EntryModule.Source.Type)
	}
	return nil
}
