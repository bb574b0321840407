package docker

import (
	"strings"

	"github.com/shoal-io/shoal/api"
	"github.com/shoal-io/shoal/compute/engine"
)

// Params are the docker engine's SpecConfig params (reference §11).
type Params struct {
	Image                string   `json:"Image"`
	Entrypoint           []string `json:"Entrypoint"`
	Parameters           []string `json:"Parameters"`
	EnvironmentVariables []string `json:"EnvironmentVariables"`
	WorkingDirectory     string   `json:"WorkingDirectory"`
}

func decodeParams(task *api.Task) (*Params, error) {
	if task == nil || task.Engine == nil {
		return nil, api.BadRequestf("docker engine: task has no engine spec")
	}
	var p Params
	if err := engine.DecodeParams(task.Engine.Params, &p); err != nil {
		return nil, api.BadRequestf("docker engine: %v", err)
	}
	p.Image = strings.TrimSpace(p.Image)
	if p.Image == "" {
		return nil, api.BadRequestf("docker engine: missing Image")
	}
	return &p, nil
}

// Validate checks the task's docker params without contacting Docker.
func (e *Engine) Validate(task *api.Task) error {
	_, err := decodeParams(task)
	return err
}
