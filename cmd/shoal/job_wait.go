package main

import (
	"context"
	"time"

	"github.com/shoal-io/shoal/api"
	"github.com/shoal-io/shoal/api/client"
)

// How a job is watched: each history query may be held this long by the
// server until something about the job changes, so waiting costs one
// request per change rather than a poll every half second.
const (
	historyWait     = 30 * time.Second
	historyPageSize = 100
	// historyPollGap spaces queries when the server cannot block (it sends
	// no state index, as upstream's does not) or answered without news.
	historyPollGap = time.Second
)

// historyWatcher reads a job's history as it grows, each event once.
// History is append-only and ordered, so the watcher remembers the page it
// reads (the token that fetched it) and how much of that page it has seen.
type historyWatcher struct {
	jobs     *client.JobsAPI
	jobID    string
	wait     time.Duration
	pollGap  time.Duration
	pageSize int

	// idle, when set, is called after a blocking query that brought no new
	// event: the job may have changed in a way its history does not record
	// (why it still waits for a node).
	idle func(ctx context.Context)

	index     uint64 // the state index of the last answer
	pageToken string // fetches the page being read ("" the first)
	seen      int    // events of that page already returned
	morePages bool   // the last answer said more pages follow
}

func newHistoryWatcher(jobs *client.JobsAPI, jobID string) *historyWatcher {
	return &historyWatcher{jobs: jobs, jobID: jobID, wait: historyWait, pollGap: historyPollGap, pageSize: historyPageSize}
}

// next returns the events that happened since the last call, waiting for
// at least one.
func (w *historyWatcher) next(ctx context.Context) ([]*api.JobHistory, error) {
	for {
		opts := client.HistoryOptions{NextToken: w.pageToken, Limit: w.pageSize}
		if !w.morePages && w.index > 0 {
			opts.WaitIndex, opts.WaitTime = w.index, w.wait
		}
		resp, meta, err := w.jobs.History(ctx, w.jobID, opts)
		if err != nil {
			return nil, err
		}
		events := resp.History
		var fresh []*api.JobHistory
		if w.seen < len(events) {
			fresh = events[w.seen:]
		}
		if resp.NextToken != "" {
			w.pageToken, w.seen, w.morePages = resp.NextToken, 0, true
		} else {
			w.seen, w.morePages = len(events), false
		}
		advanced := meta != nil && meta.Index > w.index
		if advanced {
			w.index = meta.Index
		}
		if len(fresh) > 0 {
			return fresh, nil
		}
		if w.idle != nil && opts.WaitIndex > 0 {
			w.idle(ctx)
		}
		if w.morePages || advanced {
			continue
		}
		if err := sleepCtx(ctx, w.pollGap); err != nil {
			return nil, err
		}
	}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// jobProgress is what the history says of a job so far.
type jobProgress struct {
	longRunning bool
	state       api.JobStateType
	// running is an execution that has started or finished, the one whose
	// logs --follow streams.
	running string
}

// observe takes in one event.
func (p *jobProgress) observe(ev *api.JobHistory) {
	switch {
	case ev.Type == api.JobHistoryTypeJobLevel && ev.JobState != nil:
		p.state = ev.JobState.New
	case ev.Type == api.JobHistoryTypeExecutionLevel && ev.ExecutionState != nil && p.running == "":
		s := ev.ExecutionState.New
		if s == api.ExecutionStateBidAccepted || s == api.ExecutionStateCompleted || s == api.ExecutionStateFailed {
			p.running = ev.ExecutionID
		}
	}
}

// settled reports that waiting is over: the job ended, or a service or
// daemon job (which never ends) is running.
func (p *jobProgress) settled() bool {
	return p.state.IsTerminal() || (p.longRunning && p.state == api.JobStateTypeRunning)
}

// waitJob follows the job's history, telling each event to show, until
// done says to stop.
func waitJob(ctx context.Context, w *historyWatcher, p *jobProgress, show func(*api.JobHistory), done func() bool) error {
	for !done() {
		events, err := w.next(ctx)
		if err != nil {
			return err
		}
		for _, ev := range events {
			if ev == nil {
				continue
			}
			p.observe(ev)
			if show != nil {
				show(ev)
			}
		}
	}
	return nil
}
