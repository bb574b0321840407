// Package noop is the engine that runs nothing: an execution completes after
// an optional delay with exit code 0 and no output. Load tests use it, so it
// must stay cheap.
package noop

import (
	"context"
	"time"

	"github.com/shoal-io/shoal/compute/engine"
)

// Engine completes every execution after Delay.
type Engine struct {
	Delay time.Duration
}

// Run waits Delay (or until ctx ends) and reports exit code 0.
func (e *Engine) Run(ctx context.Context, _ *engine.ExecutionContext) (*engine.Result, error) {
	if e.Delay <= 0 {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		return &engine.Result{}, nil
	}
	timer := time.NewTimer(e.Delay)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-timer.C:
		return &engine.Result{}, nil
	}
}
