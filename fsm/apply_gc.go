package fsm

import (
	"fmt"

	"github.com/shoal-io/shoal/api"
	"github.com/shoal-io/shoal/fsm/memtab"
)

// jobGCScanFactor bounds how many terminal jobs one sweep may look at, as a
// multiple of its Limit: jobs kept back (an execution still active) must not
// make a sweep walk the whole index.
const jobGCScanFactor = 4

// jobGC removes terminal jobs that ended before req.Before, oldest first,
// with every row that belongs to them. Open evaluations of such a job go
// too: a scheduler that still holds one finds the job gone and closes it.
func (ac *applyCtx) jobGC(req *JobGCRequest) (*JobGCResult, error) {
	// A terminal job's modify time is when it ended, so walking jobs by
	// modify time reaches the ones that ended longest ago first. Live jobs
	// on the way (a service running for days) are passed over without
	// counting towards the scan bound: there are only as many as run.
	it, err := ac.txn.Get(tableJobs.String(), "modify")
	if err != nil {
		return nil, fmt.Errorf("list jobs by modify time: %w", err)
	}
	res := &JobGCResult{}
	var victims []*jobRecord
	scanned := 0
	for raw := it.Next(); raw != nil; raw = it.Next() {
		r, ok := raw.(*jobRecord)
		if !ok || r.head().ModifyTime >= req.Before {
			break // the index is in modify-time order
		}
		if !r.head().State.IsTerminal() {
			continue
		}
		if req.Limit > 0 && (len(victims) >= req.Limit || scanned >= jobGCScanFactor*req.Limit) {
			res.More = true
			break
		}
		scanned++
		active, err := hasActiveExecution(ac.txn, r.head().ID)
		if err != nil {
			return nil, err
		}
		if !active {
			victims = append(victims, r)
		}
	}
	// Delete after the walk, so the walk sees the state it started from.
	for _, r := range victims {
		if err := ac.removeJob(r); err != nil {
			return nil, err
		}
	}
	res.JobsRemoved = len(victims)
	return res, nil
}

func hasActiveExecution(txn *memtab.Txn, jobID string) (bool, error) {
	it, err := txn.Get(tableExecutions.String(), "job", jobID)
	if err != nil {
		return false, fmt.Errorf("list executions of %s: %w", jobID, err)
	}
	for raw := it.Next(); raw != nil; raw = it.Next() {
		if e, ok := raw.(*execRecord); ok && !e.head().Terminal {
			return true, nil
		}
	}
	return false, nil
}

// removeJob deletes a job, its executions, its history and its evaluations.
func (ac *applyCtx) removeJob(r *jobRecord) error {
	id := r.head().ID
	execs, err := rowsOf[*execRecord](ac.txn, tableExecutions, "job", id)
	if err != nil {
		return err
	}
	for _, e := range execs {
		if err := ac.remove(tableExecutions, e.head().ID, e); err != nil {
			return err
		}
	}
	evals, err := rowsOf[*api.Evaluation](ac.txn, tableEvals, "job", id)
	if err != nil {
		return err
	}
	for _, e := range evals {
		if err := ac.remove(tableEvals, e.ID, e); err != nil {
			return err
		}
	}
	history, err := rowsOf[*historyRecord](ac.txn, tableHistory, "id", id)
	if err != nil {
		return err
	}
	for _, h := range history {
		// History rows are never looked up by key within a transaction, so
		// they need no entry among the written rows.
		ac.writes++
		ac.touch(tableHistory)
		ac.rows[tableHistory]--
		if err := ac.txn.Delete(tableHistory.String(), h); err != nil {
			return fmt.Errorf("delete history of %s: %w", id, err)
		}
	}
	return ac.remove(tableJobs, id, r)
}

// rowsOf gathers the rows of table whose index starts with prefix args.
func rowsOf[T any](txn *memtab.Txn, table tableID, index string, args ...any) ([]T, error) {
	it, err := txn.Get(table.String(), index, args...)
	if err != nil {
		return nil, fmt.Errorf("read %s by %s: %w", table, index, err)
	}
	return collect(it, func(v T) T { return v }, nil), nil
}
