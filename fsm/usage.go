package fsm

import (
	"fmt"
	"math"

	"github.com/shoal-io/shoal/api"
	"github.com/shoal-io/shoal/fsm/memtab"
)

// The usage table holds, per node, what its active executions hold and how
// many run or wait. It is derived state: kept up to date by every execution
// write, rebuilt from the executions on Restore, and left out of snapshots
// and the digest. Without it, every capacity check (in Apply and in the
// scheduler) walked all of a node's active executions.
//
// CPU is summed in micro-cores, as integers: a float sum depends on the
// order it is taken in, and a replica that rebuilt its usage after a restore
// must reach exactly the totals the others reached one execution at a time.
const usageTable = "usage"

type usageRecord struct {
	NodeID   string
	CPU      int64 // micro-cores
	Memory   uint64
	Disk     uint64
	GPU      uint64
	Running  int
	Enqueued int
}

func usageTableSchema() *memtab.TableSchema {
	return &memtab.TableSchema{
		Name: usageTable,
		Indexes: indexes(index("id", &keyIndexer{parts: strID, key: func(obj any) ([]byte, bool) {
			r, ok := obj.(*usageRecord)
			if !ok {
				return nil, false
			}
			return appendString(nil, r.NodeID), true
		}})),
	}
}

func microCores(cpu float64) int64 { return int64(math.Round(cpu * 1e6)) }

// contribution is what one execution adds to its node's usage.
func contribution(e *api.Execution) usageRecord {
	if e == nil || e.IsTerminal() {
		return usageRecord{}
	}
	var u usageRecord
	if e.AllocatedResources != nil {
		for _, t := range e.AllocatedResources.Tasks {
			if t == nil {
				continue
			}
			u.CPU += microCores(t.CPU)
			u.Memory += t.Memory
			u.Disk += t.Disk
			u.GPU += t.GPU
		}
	}
	switch e.ComputeState.StateType {
	case api.ExecutionStateBidAccepted:
		u.Running = 1
	case api.ExecutionStateNew, api.ExecutionStateAskForBid, api.ExecutionStateAskForBidAccepted:
		u.Enqueued = 1
	}
	return u
}

func (u *usageRecord) add(o usageRecord, sign int) {
	u.CPU += int64(sign) * o.CPU
	u.Running += sign * o.Running
	u.Enqueued += sign * o.Enqueued
	if sign > 0 {
		u.Memory += o.Memory
		u.Disk += o.Disk
		u.GPU += o.GPU
		return
	}
	u.Memory -= min(u.Memory, o.Memory)
	u.Disk -= min(u.Disk, o.Disk)
	u.GPU -= min(u.GPU, o.GPU)
}

func (u usageRecord) resources() api.Resources {
	return api.Resources{CPU: float64(u.CPU) / 1e6, Memory: u.Memory, Disk: u.Disk, GPU: u.GPU}
}

// adjustUsage moves an execution's contribution from its old state to its
// new one.
func adjustUsage(txn *memtab.Txn, old, cur *api.Execution) error {
	before, after := contribution(old), contribution(cur)
	if before == after && (old == nil || cur == nil || old.NodeID == cur.NodeID) {
		return nil
	}
	if old != nil && before != (usageRecord{}) {
		if err := changeUsage(txn, old.NodeID, before, -1); err != nil {
			return err
		}
	}
	if cur != nil && after != (usageRecord{}) {
		return changeUsage(txn, cur.NodeID, after, +1)
	}
	return nil
}

func changeUsage(txn *memtab.Txn, nodeID string, delta usageRecord, sign int) error {
	u := readUsage(txn, nodeID)
	u.NodeID = nodeID
	u.add(delta, sign)
	if err := txn.Insert(usageTable, &u); err != nil {
		return fmt.Errorf("usage of node %s: %w", nodeID, err)
	}
	return nil
}

func readUsage(txn *memtab.Txn, nodeID string) usageRecord {
	raw, err := txn.First(usageTable, "id", nodeID)
	if err != nil || raw == nil {
		return usageRecord{}
	}
	return *raw.(*usageRecord)
}

// rebuildUsage derives the whole usage table from the active executions.
func rebuildUsage(txn *memtab.Txn) error {
	if _, err := txn.DeleteAll(usageTable, "id"); err != nil {
		return fmt.Errorf("clear usage: %w", err)
	}
	it, err := txn.Get(tableExecutions.String(), "id")
	if err != nil {
		return fmt.Errorf("read executions: %w", err)
	}
	totals := map[string]*usageRecord{}
	for raw := it.Next(); raw != nil; raw = it.Next() {
		r := raw.(*execRecord)
		if r.head().Terminal {
			continue
		}
		u := totals[r.Execution.NodeID]
		if u == nil {
			u = &usageRecord{NodeID: r.Execution.NodeID}
			totals[r.Execution.NodeID] = u
		}
		u.add(contribution(r.Execution), +1)
	}
	for _, u := range totals {
		if err := txn.Insert(usageTable, u); err != nil {
			return fmt.Errorf("usage of node %s: %w", u.NodeID, err)
		}
	}
	return nil
}
