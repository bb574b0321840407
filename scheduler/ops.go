package scheduler

import (
	"fmt"

	"github.com/shoal-io/shoal/api"
)

// scheduleOps runs an ops job once on every matching node, at once and
// without retries, then settles it: Completed when every execution
// completed, Failed otherwise.
func (c *evalContext) scheduleOps() error {
	if c.opsPlacing() {
		placed, settled, err := c.placeOps()
		if err != nil || settled || placed > 0 {
			return err
		}
	}
	active, allCompleted := 0, true
	for _, e := range c.execs {
		st := c.stateOf(e)
		if !st.IsTerminal() {
			active++
		}
		if st != api.ExecutionStateCompleted {
			allCompleted = false
		}
	}
	switch {
	case active > 0:
		if c.job.State.StateType != api.JobStateTypeRunning {
			c.setJobState(api.JobStateTypeRunning, "")
		}
	case allCompleted:
		c.setJobState(api.JobStateTypeCompleted, "")
	default:
		c.setJobState(api.JobStateTypeFailed, "one or more executions failed")
	}
	return nil
}

// opsPlacing tells whether this is the job's placing evaluation: no
// executions yet, or only ones this same evaluation placed on an earlier
// attempt whose placements were partly rejected.
func (c *evalContext) opsPlacing() bool {
	for _, e := range c.execs {
		if e.EvalID != c.eval.ID {
			return false
		}
	}
	return true
}

// placeOps places on every matching node that has no execution of the job
// yet. settled is true when the plan already decided the job's fate.
func (c *evalContext) placeOps() (placed int, settled bool, err error) {
	req, ok := c.requirements()
	if !ok {
		return 0, true, nil
	}
	has := make(map[string]bool, len(c.execs))
	for _, e := range c.execs {
		has[e.NodeID] = true
	}
	cap := newCapacity(c.state)
	var rejected []nodeRejection
	for _, n := range c.nodes.list {
		if has[n.id] {
			continue
		}
		rej, err := cap.feasible(req, n)
		if err != nil {
			return 0, false, err
		}
		if !rej.ok() {
			rejected = append(rejected, nodeRejection{nodeID: n.id, rejection: rej})
			continue
		}
		cap.add(n, req.resources)
		c.addExecution(n, req, "", api.ExecutionStateBidAccepted, api.ExecutionDesiredStateRunning)
		placed++
	}
	if placed == 0 && len(c.execs) == 0 {
		c.failJob(fmt.Sprintf("no matching nodes to run job out of %d available nodes", len(c.nodes.list)) +
			nodeLines(rejected, req))
		return 0, true, nil
	}
	if placed > 0 {
		c.setJobState(api.JobStateTypeRunning, "")
	}
	return placed, false, nil
}
