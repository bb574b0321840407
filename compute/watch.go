package compute

import (
	"context"
	"errors"

	"github.com/shoal-io/shoal/api"
)

// watchLoop registers the node, then long-polls its executions and
// reconciles each answer, until ctx ends. Failures are retried with
// back-off: the client fails over between replicas, and a replica that
// does not know the node (a restored cluster) gets it registered again.
func (n *Node) watchLoop(ctx context.Context) {
	bo := newBackoff(n.cfg.RetryBackoff, n.cfg.MaxRetryBackoff)
	registered := false
	var index uint64
	for ctx.Err() == nil {
		if n.reregister.Swap(false) {
			registered = false
		}
		if !registered {
			if err := n.register(ctx); err != nil {
				if ctx.Err() == nil {
					n.log.Warn("registration failed, retrying", "err", err)
					sleep(ctx, bo.next())
				}
				continue
			}
			// The back-off is reset by a good watch only: a cluster that
			// takes the registration but answers every watch with 404
			// must not be hammered.
			registered, index = true, 0
		}
		resp, err := n.watchOnce(ctx, index)
		if err != nil {
			switch {
			case ctx.Err() != nil:
				return
			case n.reregister.Load():
				// Cancelled on purpose: register first.
			case errors.Is(err, api.ErrNotFound):
				n.log.Warn("the cluster does not know this node, registering again", "err", err)
				registered = false
				sleep(ctx, bo.next())
			default:
				n.log.Warn("watching executions failed, retrying", "index", index, "err", err)
				sleep(ctx, bo.next())
			}
			continue
		}
		bo.reset()
		if resp.Index < index {
			// The state went back (restored from a snapshot): list
			// everything again.
			n.log.Info("cluster state index went back, resyncing", "was", index, "now", resp.Index)
			index = 0
			continue
		}
		n.reconcile(ctx, resp, index == 0)
		if resp.Index == 0 {
			// A server without an index cannot block: do not spin.
			sleep(ctx, n.cfg.RetryBackoff)
		}
		index = resp.Index
	}
}

func (n *Node) register(ctx context.Context) error {
	_, err := n.cfg.Orchestrator.Register(ctx, n.Info())
	if err == nil {
		n.log.Info("registered with the cluster")
	}
	return err
}

// watchOnce runs one long poll that requestReregister can cut short.
func (n *Node) watchOnce(ctx context.Context, index uint64) (*api.NodeExecutionsResponse, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	n.watchMu.Lock()
	n.watchCancel = cancel
	n.watchMu.Unlock()
	defer func() {
		n.watchMu.Lock()
		n.watchCancel = nil
		n.watchMu.Unlock()
	}()
	if n.reregister.Load() {
		return nil, context.Canceled
	}
	resp, err := n.cfg.Orchestrator.WatchExecutions(ctx, n.cfg.NodeID, index, n.cfg.WatchWait)
	if err == nil && resp == nil {
		err = errors.New("empty answer to the executions watch")
	}
	return resp, err
}

// requestReregister makes the watch loop register again; the reporter calls
// it when the cluster does not know the node.
func (n *Node) requestReregister() {
	n.reregister.Store(true)
	n.watchMu.Lock()
	if n.watchCancel != nil {
		n.watchCancel()
	}
	n.watchMu.Unlock()
}

// onReportAccepted is called by the reporter with every accepted batch.
func (n *Node) onReportAccepted(updates []api.ExecutionUpdate, index uint64) {
	for _, u := range updates {
		if u.ComputeState.IsTerminal() {
			n.execs.acked(u.ExecutionID, u.ComputeState, max(index, 1))
		}
	}
}

// reconcile acts on one watch answer. full is set when it lists every
// active execution of the node (index 0), so what it leaves out is over.
func (n *Node) reconcile(ctx context.Context, resp *api.NodeExecutionsResponse, full bool) {
	firstSync := !n.synced
	n.synced = true
	listed := make(map[string]bool, len(resp.Executions))
	for _, ae := range resp.Executions {
		if ae == nil || ae.Execution == nil {
			continue
		}
		ex := ae.Execution
		if ex.NodeID != "" && ex.NodeID != n.cfg.NodeID {
			n.log.Warn("ignoring an execution of another node", "execution", ex.ID, "node", ex.NodeID)
			continue
		}
		listed[ex.ID] = true
		local := n.execs.view(ex.ID)
		act := decide(local, ex, firstSync, resp.Index)
		if act != actNone {
			n.log.Debug("reconcile", "execution", ex.ID, "compute", ex.ComputeState.StateType,
				"desired", ex.DesiredState.StateType, "local", local.phase, "action", act)
		}
		switch act {
		case actBid:
			n.bid(ae, resp.Index)
		case actStart:
			n.start(ctx, ae, resp.Index)
		case actRecover:
			n.recover(ctx, ae, resp.Index)
		case actCancel:
			n.log.Info("stopping execution the cluster gave up on", "execution", ex.ID,
				"state", ex.ComputeState.StateType, "desired", ex.DesiredState.StateType)
			n.execs.abandon(ex.ID)
		case actForget:
			n.execs.forget(ex.ID)
		case actResendFinal:
			if u := n.execs.resendFinal(ex.ID); u != nil {
				n.reporter.enqueue(*u)
			}
		}
		n.execs.touch(ex.ID, resp.Index)
	}
	if full {
		n.execs.sweepMissing(listed, resp.Index)
	}
	if firstSync {
		n.journal.reconciled()
	}
}

// bid accepts the ask when the node can run the task, else rejects it with
// the reason.
func (n *Node) bid(ae *api.AssignedExecution, index uint64) {
	id := ae.Execution.ID
	if reason := n.cannotRun(ae); reason != "" {
		n.log.Info("rejecting bid", "execution", id, "reason", reason)
		n.reporter.enqueue(api.ExecutionUpdate{ExecutionID: id,
			ComputeState: api.ExecutionStateAskForBidRejected, Message: reason})
		return
	}
	n.execs.put(&localExec{id: id, phase: phaseBid, seenIndex: index})
	n.reporter.enqueue(api.ExecutionUpdate{ExecutionID: id, ComputeState: api.ExecutionStateAskForBidAccepted})
}

// recover handles an approved execution a restarted node does not know. A
// result saved before the restart is reported again. Work the previous
// process never started (the start journal says so) starts now. Otherwise
// the run was interrupted — or, with no journal (a fresh DataDir), may have
// been: batch and ops work fails, so the scheduler can retry it elsewhere;
// service and daemon work starts again.
func (n *Node) recover(ctx context.Context, ae *api.AssignedExecution, index uint64) {
	id := ae.Execution.ID
	if saved := n.loadFinal(id); saved != nil {
		n.log.Info("reporting the result saved before the restart", "execution", id, "state", saved.ComputeState)
		n.execs.put(&localExec{id: id, phase: phaseFinished, seenIndex: index, final: saved})
		n.reporter.enqueue(*saved)
		return
	}
	if started, known := n.journal.startedBefore(id); known && !started {
		n.start(ctx, ae, index)
		return
	}
	if ae.Job != nil && ae.Job.IsLongRunning() {
		n.log.Info("restarting execution interrupted by a node restart", "execution", id)
		n.start(ctx, ae, index)
		return
	}
	final := &api.ExecutionUpdate{ExecutionID: id, ComputeState: api.ExecutionStateFailed,
		Message: "execution interrupted: compute node restarted"}
	n.log.Info("failing execution interrupted by a node restart", "execution", id)
	n.execs.put(&localExec{id: id, phase: phaseFinished, seenIndex: index, final: final})
	n.reporter.enqueue(*final)
}
