package server

import (
	"context"
	"sync"
	"time"
)

// leaderLoop runs one background loop while enabled. It is the shape of every
// periodic leader-only part: SetEnabled(true) starts the loop, SetEnabled(false)
// stops it and waits until it has returned, so nothing of it runs once
// leadership is revoked.
type leaderLoop struct {
	run func(ctx context.Context)

	mu     sync.Mutex
	cancel context.CancelFunc
	done   chan struct{}
}

func (l *leaderLoop) SetEnabled(enabled bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case enabled && l.cancel == nil:
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		l.cancel, l.done = cancel, done
		go func() {
			defer close(done)
			l.run(ctx)
		}()
	case !enabled && l.cancel != nil:
		l.cancel()
		<-l.done
		l.cancel, l.done = nil, nil
	}
}

// every calls fn every interval, and also whenever changes signals (nil:
// never), until ctx ends.
func every(ctx context.Context, interval time.Duration, changes <-chan struct{}, fn func()) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-changes:
		}
		fn()
	}
}
