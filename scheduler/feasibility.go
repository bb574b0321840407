package scheduler

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/labels"

	"github.com/shoal-io/shoal/api"
)

// rejectKind groups the reasons a node cannot take an execution, for short
// summaries.
type rejectKind int

const (
	rejectNone rejectKind = iota
	rejectUnusable
	rejectEngine
	rejectPublisher
	rejectStorage
	rejectConstraints
	rejectTooLarge
	rejectNoRoom
)

// rejection says why a node cannot take an execution; the zero value means
// it can.
type rejection struct {
	kind   rejectKind
	reason string
}

func (r rejection) ok() bool { return r.kind == rejectNone }

// requirements is what every execution of a job needs from a node.
type requirements struct {
	taskName  string
	engine    string // lowercased
	publisher string // lowercased; "" = none
	storages  []string
	hard      labels.Selector // nil = no hard constraint
	soft      []labels.Requirement
	resources api.Resources
}

// newRequirements reads a job's needs. Errors are the job's fault (a missing
// task, bad constraints or resources): they wrap api.ErrBadRequest and fail
// the job, since no node could ever take it.
func newRequirements(job *api.Job, defaults api.Resources) (*requirements, error) {
	task := job.Task()
	if task == nil {
		return nil, api.BadRequestf("job has no task")
	}
	if task.Engine == nil || strings.TrimSpace(task.Engine.Type) == "" {
		return nil, api.BadRequestf("task %s has no engine type", task.Name)
	}
	r := &requirements{taskName: task.Name, engine: strings.ToLower(strings.TrimSpace(task.Engine.Type))}
	if task.Publisher != nil {
		r.publisher = strings.ToLower(strings.TrimSpace(task.Publisher.Type))
	}
	for _, in := range task.InputSources {
		if in == nil || in.Source == nil {
			continue
		}
		if t := strings.ToLower(strings.TrimSpace(in.Source.Type)); t != "" && !contains(r.storages, t) {
			r.storages = append(r.storages, t)
		}
	}
	var err error
	if r.hard, r.soft, err = api.ConstraintSelectors(job.Constraints); err != nil {
		return nil, fmt.Errorf("invalid constraints: %w", err)
	}
	if r.hard.Empty() {
		r.hard = nil // matches every node: skip it
	}
	if r.resources, err = task.Resources.Parse(); err != nil {
		return nil, fmt.Errorf("invalid task resources: %w", err)
	}
	// A task that leaves CPU or memory unset still uses some.
	if r.resources.CPU == 0 {
		r.resources.CPU = defaults.CPU
	}
	if r.resources.Memory == 0 {
		r.resources.Memory = defaults.Memory
	}
	return r, nil
}

// check tells whether a node could ever run the job, ignoring how busy it
// is.
func (r *requirements) check(n *nodeEntry) rejection {
	switch {
	case n.unusable != "":
		return rejection{rejectUnusable, n.unusable}
	case !contains(n.engines, r.engine):
		return rejection{rejectEngine, fmt.Sprintf("does not support engine %s", r.engine)}
	case r.publisher != "" && !contains(n.publishers, r.publisher):
		return rejection{rejectPublisher, fmt.Sprintf("does not support publisher %s", r.publisher)}
	}
	for _, s := range r.storages {
		if !contains(n.storages, s) {
			return rejection{rejectStorage, fmt.Sprintf("does not support input source %s", s)}
		}
	}
	if r.hard != nil && !r.hard.Matches(n.labels) {
		return rejection{rejectConstraints, fmt.Sprintf("does not match constraints %s", r.hard.String())}
	}
	if !n.maxJob.IsZero() && !r.resources.Fits(n.maxJob) {
		return rejection{rejectTooLarge, fmt.Sprintf("job needs %s, more than the node accepts per job (%s)",
			formatResources(r.resources), formatResources(n.maxJob))}
	}
	return rejection{}
}

// softMatches counts the favour_ constraints a node meets.
func (r *requirements) softMatches(n *nodeEntry) int {
	count := 0
	for i := range r.soft {
		if r.soft[i].Matches(n.labels) {
			count++
		}
	}
	return count
}

// capacity tracks what is allocated on nodes: the state's active executions
// plus what the plan being built has placed.
type capacity struct {
	state State
	used  map[string]api.Resources
}

func newCapacity(state State) *capacity {
	return &capacity{state: state, used: make(map[string]api.Resources)}
}

func (c *capacity) allocated(n *nodeEntry) (api.Resources, error) {
	if r, ok := c.used[n.id]; ok {
		return r, nil
	}
	r, err := c.state.NodeAllocated(n.id)
	if err != nil {
		return r, fmt.Errorf("allocated resources of node %s: %w", n.id, err)
	}
	c.used[n.id] = r
	return r, nil
}

// fits tells whether res fits in the node's free capacity. A node that
// reports no MaxCapacity has unknown capacity and accepts.
func (c *capacity) fits(n *nodeEntry, res api.Resources) (rejection, error) {
	if n.maxCapacity.IsZero() {
		return rejection{}, nil
	}
	used, err := c.allocated(n)
	if err != nil {
		return rejection{}, err
	}
	free := n.maxCapacity.Sub(used)
	if !res.Fits(free) {
		return rejection{rejectNoRoom, fmt.Sprintf("not enough free capacity: needs %s, free %s",
			formatResources(res), formatResources(free))}, nil
	}
	return rejection{}, nil
}

func (c *capacity) add(n *nodeEntry, res api.Resources) {
	c.used[n.id] = c.used[n.id].Add(res)
}

// freeShare is the share of the node's capacity left free after placing res
// there, averaged over the dimensions the node reports; 0.5 when unknown.
func (c *capacity) freeShare(n *nodeEntry, res api.Resources) float64 {
	if n.maxCapacity.IsZero() {
		return 0.5
	}
	left := n.maxCapacity.Sub(c.used[n.id].Add(res))
	total, dims := 0.0, 0
	share := func(free, max float64) {
		if max > 0 {
			total += free / max
			dims++
		}
	}
	share(left.CPU, n.maxCapacity.CPU)
	share(float64(left.Memory), float64(n.maxCapacity.Memory))
	share(float64(left.Disk), float64(n.maxCapacity.Disk))
	share(float64(left.GPU), float64(n.maxCapacity.GPU))
	if dims == 0 {
		return 0.5
	}
	return total / float64(dims)
}

// feasible runs the static and the capacity check.
func (c *capacity) feasible(r *requirements, n *nodeEntry) (rejection, error) {
	if rej := r.check(n); !rej.ok() {
		return rej, nil
	}
	return c.fits(n, r.resources)
}
