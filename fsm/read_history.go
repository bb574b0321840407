package fsm

import (
	"context"
	"strings"
	"time"

	"github.com/shoal-io/shoal/api"
	"github.com/shoal-io/shoal/fsm/memtab"
)

// HistoryQuery filters and pages a job's history.
type HistoryQuery struct {
	Since       int64  // Unix seconds; events with Time before it are skipped
	EventType   string // "", "all", "job", "execution"
	ExecutionID string // prefix match
	NodeID      string // prefix match
	Limit       int    // 0 = all
	After       string // the next token of the previous page
}

// History returns a job's events in the order they happened and the token of
// the next page ("" when no matching event remains).
func (t *ReadTxn) History(jobID string, q HistoryQuery) ([]*api.JobHistory, string, error) {
	var only api.JobHistoryType
	switch strings.ToLower(q.EventType) {
	case "", "all":
	case "job":
		only = api.JobHistoryTypeJobLevel
	case "execution":
		only = api.JobHistoryTypeExecutionLevel
	default:
		return nil, "", api.BadRequestf("invalid event_type %q: want all, job or execution", q.EventType)
	}
	if q.Limit < 0 {
		return nil, "", api.BadRequestf("invalid limit %d: must not be negative", q.Limit)
	}
	if q.Since < 0 {
		return nil, "", api.BadRequestf("invalid since %d: must not be negative", q.Since)
	}
	var after uint64
	if q.After != "" {
		var c historyCursor
		if err := decodeCursor(q.After, &c); err != nil {
			return nil, "", err
		}
		if c.JobID != jobID {
			return nil, "", api.BadRequestf("next_token was issued for the history of another job")
		}
		after = c.Seq
	}
	if _, ok, err := lookup[*jobRecord](t.txn, tableJobs, "id", jobID); err != nil {
		return nil, "", err
	} else if !ok {
		return nil, "", jobNotFound(jobID)
	}
	rec, ok, err := lookup[*historyRecord](t.txn, tableHistory, "id", jobID)
	if err != nil {
		return nil, "", err
	}
	var all []*api.JobHistory
	if ok {
		if all, err = rec.events(); err != nil {
			return nil, "", err
		}
	}
	since := time.Unix(q.Since, 0)
	events := make([]*api.JobHistory, 0, min(len(all), 16))
	var lastSeq uint64
	more := false
	for i := min(after, uint64(len(all))); i < uint64(len(all)); i++ {
		ev := all[i]
		if (only != api.JobHistoryTypeUndefined && ev.Type != only) ||
			!strings.HasPrefix(ev.ExecutionID, q.ExecutionID) ||
			!strings.HasPrefix(ev.NodeID, q.NodeID) ||
			ev.Time.Before(since) {
			continue
		}
		if q.Limit > 0 && len(events) == q.Limit {
			more = true
			break
		}
		events = append(events, ev)
		lastSeq = i + 1
	}
	next := ""
	if more {
		next = encodeCursor(historyCursor{JobID: jobID, Seq: lastSeq})
	}
	return events, next, nil
}

// WatchJob adds to ws a channel that fires when the job, its executions or
// its history change (or the state is replaced by a restore).
func (t *ReadTxn) WatchJob(jobID string, ws memtab.WatchSet) {
	if ws == nil {
		return
	}
	if ch, _, err := t.txn.FirstWatch(tableJobs.String(), "id", jobID); err == nil {
		ws.Add(ch)
	}
	if it, err := t.txn.Get(tableExecutions.String(), "job", jobID); err == nil {
		ws.Add(it.WatchCh())
	}
	if it, err := t.txn.Get(tableHistory.String(), "id", jobID); err == nil {
		ws.Add(it.WatchCh())
	}
	ws.Add(t.abandon)
}

// ReleaseWatches ends the wait a WatchSet filled by this view's WatchJob or
// ExecutionsByNodeSince was for (see memtab's Txn.Release).
func (t *ReadTxn) ReleaseWatches(ws memtab.WatchSet) { t.txn.Release(ws) }

// Wait waits until a channel of ws (filled from this view's reads) fires or
// ctx ends, then releases ws; it returns ctx's error when ctx ended first.
// It lets go of the view before it waits: a long poll would otherwise keep
// its version of the state alive for up to its whole wait, every node
// written since and, after a repack (FSM.Compact), the whole pre-repack
// index, 60-130 MB at 100,000 jobs. The ReadTxn must not be used after
// Wait, nor shared while it runs: read a fresh one.
func (t *ReadTxn) Wait(ctx context.Context, ws memtab.WatchSet) error {
	release := t.txn.Releaser()
	t.txn = nil
	defer release(ws)
	return ws.WatchCtx(ctx)
}

// JobIndex returns the raft index of the last change to the job, its
// executions or its history (0 when the job does not exist): blocking
// queries on a job wait for it to pass the index the client saw.
func (t *ReadTxn) JobIndex(jobID string) uint64 {
	rec, ok, err := lookup[*jobRecord](t.txn, tableJobs, "id", jobID)
	if err != nil || !ok {
		return 0
	}
	// Every history event is written with a change to the job row or to an
	// execution row, so those two carry the index.
	index := rec.ModifyIndex
	it, err := t.txn.Get(tableExecutions.String(), "job", jobID)
	if err != nil {
		return index
	}
	for raw := it.Next(); raw != nil; raw = it.Next() {
		if r, ok := raw.(*execRecord); ok {
			index = max(index, r.ModifyIndex)
		}
	}
	return index
}
