package compute

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/shoal-io/shoal/api"
)

// maxReportBytes keeps one report well under any sane request size limit:
// an update with full RunOutput weighs up to 2×MaxOutputBytes.
const maxReportBytes = 4 << 20

type reporterConfig struct {
	orch       Orchestrator
	nodeID     string
	log        *slog.Logger
	maxBatch   int
	maxBytes   int
	minBackoff time.Duration
	maxBackoff time.Duration
	// onAccepted is called with every batch the cluster accepted and the
	// state index it was applied at.
	onAccepted func(updates []api.ExecutionUpdate, index uint64)
	// onUnknown is called when the cluster does not know the node.
	onUnknown func()
	// onSent and onFailed, when set, count accepted and failed sends.
	onSent, onFailed func()
}

// reporter sends the node's execution updates in batches, in the order
// they were made, one batch at a time, retrying each until it is accepted:
// reports are idempotent, so a retry after an unknown outcome is safe.
type reporter struct {
	cfg   reporterConfig
	mu    sync.Mutex
	queue []api.ExecutionUpdate
	wake  chan struct{}
}

func newReporter(cfg reporterConfig) *reporter {
	if cfg.maxBatch <= 0 {
		cfg.maxBatch = DefaultMaxReportBatch
	}
	if cfg.maxBytes <= 0 {
		cfg.maxBytes = maxReportBytes
	}
	if cfg.onAccepted == nil {
		cfg.onAccepted = func([]api.ExecutionUpdate, uint64) {}
	}
	if cfg.onUnknown == nil {
		cfg.onUnknown = func() {}
	}
	return &reporter{cfg: cfg, wake: make(chan struct{}, 1)}
}

// enqueue adds an update behind every earlier one.
func (r *reporter) enqueue(u api.ExecutionUpdate) {
	r.mu.Lock()
	r.queue = append(r.queue, u)
	r.mu.Unlock()
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

func (r *reporter) pending() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.queue)
}

// run delivers updates until ctx ends.
func (r *reporter) run(ctx context.Context) {
	d := r.newDelivery()
	for ctx.Err() == nil {
		if !d.step(ctx) {
			select {
			case <-ctx.Done():
			case <-r.wake:
			}
		}
	}
}

// flush tries to deliver what is queued until ctx ends, and returns how
// many updates are left.
func (r *reporter) flush(ctx context.Context) int {
	d := r.newDelivery()
	for ctx.Err() == nil && r.pending() > 0 {
		d.step(ctx)
	}
	return r.pending()
}

type delivery struct {
	r     *reporter
	bo    *backoff
	limit int
}

func (r *reporter) newDelivery() *delivery {
	return &delivery{r: r, bo: newBackoff(r.cfg.minBackoff, r.cfg.maxBackoff), limit: r.cfg.maxBatch}
}

// step sends the oldest batch once (waiting out the back-off after a
// failure); it returns false when there was nothing to send.
func (d *delivery) step(ctx context.Context) bool {
	r := d.r
	batch := r.peek(d.limit)
	if len(batch) == 0 {
		return false
	}
	resp, err := r.cfg.orch.Report(ctx, r.cfg.nodeID, &api.UpdateExecutionsRequest{Updates: batch})
	if err == nil {
		var index uint64
		if resp != nil {
			index = resp.Index
		}
		r.drop(len(batch))
		r.cfg.onAccepted(batch, index)
		if r.cfg.onSent != nil {
			r.cfg.onSent()
		}
		d.bo.reset()
		d.limit = r.cfg.maxBatch
		return true
	}
	if ctx.Err() != nil {
		return true
	}
	if r.cfg.onFailed != nil {
		r.cfg.onFailed()
	}
	switch {
	case errors.Is(err, api.ErrTooLarge), errors.Is(err, api.ErrBadRequest):
		if len(batch) > 1 {
			// Find the update at fault (or a size that fits) by halving.
			d.limit = max(1, len(batch)/2)
			return true
		}
		if errors.Is(err, api.ErrTooLarge) && r.shrinkHead() {
			return true
		}
		// The cluster will never take this update: keeping it would
		// block every later report.
		r.cfg.log.Error("the cluster refused an execution report; dropping it",
			"execution", batch[0].ExecutionID, "state", batch[0].ComputeState, "err", err)
		r.drop(1)
		d.limit = r.cfg.maxBatch
		return true
	case errors.Is(err, api.ErrNotFound):
		r.cfg.log.Warn("the cluster does not know this node; registering again before reporting", "err", err)
		r.cfg.onUnknown()
	default:
		r.cfg.log.Warn("reporting executions failed, retrying", "updates", len(batch), "err", err)
	}
	sleep(ctx, d.bo.next())
	return true
}

// peek copies the oldest updates, at most limit of them and about maxBytes.
func (r *reporter) peek(limit int) []api.ExecutionUpdate {
	r.mu.Lock()
	defer r.mu.Unlock()
	n, size := 0, 0
	for n < len(r.queue) && n < limit {
		size += updateSize(&r.queue[n])
		if n > 0 && size > r.cfg.maxBytes {
			break
		}
		n++
	}
	return append([]api.ExecutionUpdate(nil), r.queue[:n]...)
}

func (r *reporter) drop(n int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	clear(r.queue[:n]) // let their outputs be collected
	r.queue = r.queue[n:]
	if len(r.queue) == 0 {
		r.queue = nil
	}
}

// shrinkHead halves the output carried by the oldest update; it reports
// false when there is no output left to cut.
func (r *reporter) shrinkHead() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.queue) == 0 || r.queue[0].RunOutput == nil {
		return false
	}
	out := *r.queue[0].RunOutput
	if out.STDOUT == "" && out.STDERR == "" {
		return false
	}
	if out.STDOUT != "" {
		out.STDOUT = string(trimPartialRune([]byte(out.STDOUT[:len(out.STDOUT)/2])))
		out.StdoutTruncated = true
	}
	if out.STDERR != "" {
		out.STDERR = string(trimPartialRune([]byte(out.STDERR[:len(out.STDERR)/2])))
		out.StderrTruncated = true
	}
	r.queue[0].RunOutput = &out
	return true
}

func updateSize(u *api.ExecutionUpdate) int {
	size := 256 + len(u.ExecutionID) + len(u.Message)
	if u.RunOutput != nil {
		size += len(u.RunOutput.STDOUT) + len(u.RunOutput.STDERR) + len(u.RunOutput.ErrorMsg)
	}
	return size
}
