package compute

import (
	"strings"

	"github.com/shoal-io/shoal/api"
)

// taskLimits is what an execution may use: the dimensions the task asked for
// (ResourcesConfig strings set), at the amounts the scheduler allocated, or
// as parsed from the task when the execution carries no allocation.
// Dimensions the task left unset stay unlimited, even if the scheduler
// reserved a default for them.
func taskLimits(ex *api.Execution, task *api.Task) (api.Resources, error) {
	var limits api.Resources
	if task == nil || task.Resources == nil {
		return limits, nil
	}
	asked, err := task.Resources.Parse()
	if err != nil {
		return limits, err
	}
	var alloc api.Resources
	if ex.AllocatedResources != nil {
		if r := ex.AllocatedResources.Tasks[task.Name]; r != nil {
			alloc = *r
		}
	}
	if strings.TrimSpace(task.Resources.CPU) != "" {
		limits.CPU = alloc.CPU
		if limits.CPU == 0 {
			limits.CPU = asked.CPU
		}
	}
	if strings.TrimSpace(task.Resources.Memory) != "" {
		limits.Memory = alloc.Memory
		if limits.Memory == 0 {
			limits.Memory = asked.Memory
		}
	}
	return limits, nil
}
