package fsm

import (
	"fmt"
	"slices"

	"github.com/shoal-io/shoal/api"
	"github.com/shoal-io/shoal/fsm/memtab"
)

// Execution returns an execution (api.ErrNotFound when missing).
func (t *ReadTxn) Execution(id string) (*api.Execution, error) {
	r, ok, err := lookup[*execRecord](t.txn, tableExecutions, "id", id)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, api.NotFoundf(api.ComponentJobStore, "execution not found: %s", id)
	}
	return r.exec(), nil
}

// ExecutionModifyIndex returns the raft index of the execution's last change
// (0 when it does not exist).
func (t *ReadTxn) ExecutionModifyIndex(id string) uint64 {
	r, ok, err := lookup[*execRecord](t.txn, tableExecutions, "id", id)
	if err != nil || !ok {
		return 0
	}
	return r.ModifyIndex
}

// ExecutionsByJob returns a job's executions in create order.
func (t *ReadTxn) ExecutionsByJob(jobID string) ([]*api.Execution, error) {
	it, err := t.txn.Get(tableExecutions.String(), "job", jobID)
	if err != nil {
		return nil, fmt.Errorf("list executions of job %s: %w", jobID, err)
	}
	return collect(it, execOf, nil), nil
}

// ExecutionsByNode returns every execution ever placed on a node, in create
// order.
func (t *ReadTxn) ExecutionsByNode(nodeID string) ([]*api.Execution, error) {
	it, err := t.txn.Get(tableExecutions.String(), "node_modify", nodeID)
	if err != nil {
		return nil, fmt.Errorf("list executions of node %s: %w", nodeID, err)
	}
	out := collect(it, execOf, nil)
	slices.SortFunc(out, func(a, b *api.Execution) int {
		if a.CreateTime != b.CreateTime {
			if a.CreateTime < b.CreateTime {
				return -1
			}
			return 1
		}
		switch {
		case a.ID < b.ID:
			return -1
		case a.ID > b.ID:
			return 1
		}
		return 0
	})
	return out, nil
}

// ExecutionsByNodeSince returns the executions of nodeID modified after index
// since (since 0: all its non-terminal ones), and adds to ws (when not nil) a
// channel that fires when any execution of that node changes.
func (t *ReadTxn) ExecutionsByNodeSince(nodeID string, since uint64, ws memtab.WatchSet) ([]*api.Execution, error) {
	table := tableExecutions.String()
	if ws != nil {
		it, err := t.txn.Get(table, "node_modify", nodeID)
		if err != nil {
			return nil, fmt.Errorf("watch executions of node %s: %w", nodeID, err)
		}
		ws.Add(it.WatchCh())
		ws.Add(t.abandon)
	}
	if since == 0 {
		it, err := t.txn.Get(table, "active", nodeID)
		if err != nil {
			return nil, fmt.Errorf("list active executions of node %s: %w", nodeID, err)
		}
		return collect(it, execOf, nil), nil
	}
	it, err := t.txn.LowerBound(table, "node_modify", nodeID, since+1)
	if err != nil {
		return nil, fmt.Errorf("list executions of node %s since %d: %w", nodeID, since, err)
	}
	out := make([]*api.Execution, 0, 4)
	for raw := it.Next(); raw != nil; raw = it.Next() {
		r, ok := raw.(*execRecord)
		if !ok || r.head().NodeID != nodeID {
			break
		}
		out = append(out, r.exec())
	}
	return out, nil
}

// NodeAllocated returns the resources held by the node's active
// (non-terminal) executions.
func (t *ReadTxn) NodeAllocated(nodeID string) (api.Resources, error) {
	return nodeAllocated(t.txn, nodeID)
}

// NodeUsage returns what the node's active executions hold, how many of them
// run (BidAccepted) and how many wait before that (New, AskForBid,
// AskForBidAccepted). A node's available capacity is its MaxCapacity minus
// allocated: the store derives it instead of trusting reports.
func (t *ReadTxn) NodeUsage(nodeID string) (allocated api.Resources, running, enqueued int, err error) {
	u := readUsage(t.txn, nodeID)
	return u.resources(), u.Running, u.Enqueued, nil
}

// nodeAllocated is what a node's active executions hold; Apply uses it too,
// within its write transaction.
func nodeAllocated(txn *memtab.Txn, nodeID string) (api.Resources, error) {
	return readUsage(txn, nodeID).resources(), nil
}

func execOf(r *execRecord) *api.Execution { return r.exec() }
