package fsm

import (
	"github.com/shoal-io/shoal/api"
)

func (ac *applyCtx) nodeRegister(req *NodeRegisterRequest) (*NodeRegisterResult, error) {
	n := req.Node
	if n == nil || n.NodeID == "" {
		return nil, api.BadRequestf("node register: missing node ID")
	}
	old, exists, err := ac.node(n.NodeID)
	if err != nil {
		return nil, err
	}
	n.Connection = api.NodeConnected
	if n.Approval == "" {
		n.Approval = api.NodeApprovalApproved
	}
	rec := &nodeRecord{Node: n, CreateIndex: ac.index, ModifyIndex: ac.index}
	if exists {
		rec.CreateIndex = old.CreateIndex
	}
	if err := ac.put(tableNodes, n.NodeID, rec, !exists); err != nil {
		return nil, err
	}
	ac.ev.nodes = append(ac.ev.nodes, n.NodeID)
	res := &NodeRegisterResult{}
	if !exists || old.Node.Connection == api.NodeDisconnected {
		if res.EvalIDs, err = ac.daemonJoinEvals(); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// daemonJoinEvals raises a node-join evaluation for every live daemon job, in
// job ID order, so daemons reach a node that joined or came back.
func (ac *applyCtx) daemonJoinEvals() ([]string, error) {
	it, err := ac.txn.Get(tableJobs.String(), "live_type", api.JobTypeDaemon)
	if err != nil {
		return nil, err
	}
	jobs := collect(it, func(r *jobRecord) *api.Job { return r.job() }, nil)
	var ids []string
	for _, job := range jobs {
		eval, err := ac.newEval(job, api.EvalTriggerNodeJoin)
		if err != nil {
			return nil, err
		}
		ids = append(ids, eval.ID)
	}
	return ids, nil
}

func (ac *applyCtx) nodeStatus(req *NodeStatusRequest) (*NodeStatusResult, error) {
	if req.Connection != api.NodeConnected && req.Connection != api.NodeDisconnected {
		return nil, api.BadRequestf("node status %s: invalid connection %q: want %s or %s",
			req.NodeID, req.Connection, api.NodeConnected, api.NodeDisconnected)
	}
	old, ok, err := ac.node(req.NodeID)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, nodeNotFound(req.NodeID)
	}
	if old.Node.Connection == req.Connection {
		return &NodeStatusResult{}, nil
	}
	n := *old.Node
	n.Connection = req.Connection
	if err := ac.put(tableNodes, n.NodeID, &nodeRecord{Node: &n, CreateIndex: old.CreateIndex, ModifyIndex: ac.index}, false); err != nil {
		return nil, err
	}
	ac.ev.nodes = append(ac.ev.nodes, n.NodeID)
	res := &NodeStatusResult{}
	if req.Connection == api.NodeConnected {
		res.EvalIDs, err = ac.daemonJoinEvals()
		return res, err
	}
	res.EvalIDs, err = ac.failNodeExecutions(req)
	return res, err
}

// failNodeExecutions fails every active execution of a lost node and raises
// one node-lost evaluation per live job that had one there.
func (ac *applyCtx) failNodeExecutions(req *NodeStatusRequest) ([]string, error) {
	it, err := ac.txn.Get(tableExecutions.String(), "active", req.NodeID)
	if err != nil {
		return nil, err
	}
	active := collect(it, func(r *execRecord) *execRecord { return r }, nil)
	msg := api.NodeLostMessage(req.NodeID, req.Reason)
	var jobIDs []string
	seen := make(map[string]bool)
	for _, old := range active {
		e := *old.exec()
		if err := ac.setComputeState(&e, api.State[api.ExecutionStateType]{StateType: api.ExecutionStateFailed, Message: msg}); err != nil {
			return nil, err
		}
		e.DesiredState = api.State[api.ExecutionDesiredStateType]{StateType: api.ExecutionDesiredStateStopped, Message: msg}
		if err := ac.putExecution(&execRecord{Execution: &e, CreateIndex: old.CreateIndex}, old); err != nil {
			return nil, err
		}
		if !seen[e.JobID] {
			seen[e.JobID] = true
			jobIDs = append(jobIDs, e.JobID)
		}
	}
	var evalIDs []string
	for _, id := range jobIDs {
		rec, ok, err := ac.job(id)
		if err != nil {
			return nil, err
		}
		if !ok || rec.head().State.IsTerminal() {
			continue
		}
		eval, err := ac.newEval(rec.job(), api.EvalTriggerNodeLost)
		if err != nil {
			return nil, err
		}
		evalIDs = append(evalIDs, eval.ID)
	}
	return evalIDs, nil
}

func (ac *applyCtx) evalUpdate(req *EvalUpdateRequest) error {
	for i, e := range req.Evals {
		if e == nil || e.ID == "" {
			return api.BadRequestf("eval update: evaluation %d has no ID", i)
		}
	}
	for _, e := range req.Evals {
		if err := ac.putEval(e); err != nil {
			return err
		}
	}
	return nil
}

func (ac *applyCtx) idempotencyPrune(req *IdempotencyPruneRequest) (*IdempotencyPruneResult, error) {
	it, err := ac.txn.Get(tableTokens.String(), "expiry")
	if err != nil {
		return nil, err
	}
	var expired []*tokenRecord
	for raw := it.Next(); raw != nil; raw = it.Next() {
		tok, ok := raw.(*tokenRecord)
		if !ok || tok.Expiry > req.Now {
			break
		}
		expired = append(expired, tok)
	}
	for _, tok := range expired {
		if err := ac.remove(tableTokens, tok.token(), tok); err != nil {
			return nil, err
		}
	}
	return &IdempotencyPruneResult{Pruned: len(expired)}, nil
}

func (ac *applyCtx) evalGC(req *EvalGCRequest) (*EvalGCResult, error) {
	res := &EvalGCResult{}
	for _, status := range []string{api.EvalStatusComplete, api.EvalStatusFailed, api.EvalStatusCanceled} {
		it, err := ac.txn.Get(tableEvals.String(), "status", status)
		if err != nil {
			return nil, err
		}
		var old []*api.Evaluation
		for raw := it.Next(); raw != nil; raw = it.Next() {
			e, ok := raw.(*api.Evaluation)
			if !ok || e.CreateTime >= req.Before {
				break // the index is in create order
			}
			if req.Limit > 0 && res.Deleted+len(old) >= req.Limit {
				res.More = true
				break
			}
			old = append(old, e)
		}
		for _, e := range old {
			if err := ac.remove(tableEvals, e.ID, e); err != nil {
				return nil, err
			}
		}
		res.Deleted += len(old)
		if res.More {
			break
		}
	}
	return res, nil
}
