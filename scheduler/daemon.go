package scheduler

import "github.com/shoal-io/shoal/api"

// scheduleDaemon keeps one execution of a daemon job on every matching node:
// nodes that join later get one, and so does a node back from being lost.
// A node where the daemon ended for its own reasons is left alone. With no
// matching node, or no room, the job waits; it never fails for lack of nodes.
func (c *evalContext) scheduleDaemon() error {
	req, ok := c.requirements()
	if !ok {
		return nil
	}
	active := make(map[string]bool)
	ownEnd := make(map[string]bool)
	for _, e := range c.execs {
		switch st := c.stateOf(e); {
		case !st.IsTerminal():
			active[e.NodeID] = true
		case st == api.ExecutionStateFailed && c.isNodeLoss(e), st == api.ExecutionStateCancelled:
			// Not the daemon's fault: the node may run it again.
		default:
			ownEnd[e.NodeID] = true
		}
	}
	cap := newCapacity(c.state)
	var rejected []nodeRejection
	full, placed, ended := 0, 0, 0
	for _, n := range c.nodes.list {
		if ownEnd[n.id] && !active[n.id] {
			ended++
			continue
		}
		if active[n.id] {
			continue
		}
		rej, err := cap.feasible(req, n)
		if err != nil {
			return err
		}
		if !rej.ok() {
			rejected = append(rejected, nodeRejection{nodeID: n.id, rejection: rej})
			if rej.kind == rejectNoRoom {
				full++
			}
			continue
		}
		cap.add(n, req.resources)
		c.addExecution(n, req, "", api.ExecutionStateBidAccepted, api.ExecutionDesiredStateRunning)
		placed++
	}
	running := len(active)+placed > 0
	state := c.job.State.StateType
	if running && (state == api.JobStateTypePending || state == api.JobStateTypeUndefined) {
		state = api.JobStateTypeRunning
	}
	if full > 0 || !running {
		c.plan.EvalStatus = api.EvalStatusBlocked
		why := summarize(rejected, req)
		if ended > 0 {
			why = plural(ended, "node") + " where it already ended"
			if len(rejected) > 0 {
				why += ", " + summarize(rejected, req)
			}
		}
		msg := waitingPrefix + "no node can run it yet (" + why + ")"
		if full > 0 {
			msg = waitingPrefix + plural(full, "matching node") + " without enough free capacity"
		}
		c.setJobState(state, msg)
		return nil
	}
	c.setJobState(state, c.settledMessage())
	return nil
}
