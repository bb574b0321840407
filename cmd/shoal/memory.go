package main

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"os"
	"runtime/debug"
	"runtime/metrics"
	"strings"
	"time"

	"github.com/shoal-io/shoal/api"
)

// defaultMemoryLimit keeps a replica's garbage from becoming resident
// memory: with the GC target at 300% the heap would otherwise grow to four
// times what is live before a collection.
const defaultMemoryLimit = "400MiB"

// liveHeadroom is how far above the live heap the limit is raised when the
// live heap itself nears the configured limit: a fixed limit below what is
// live would have the collector run back to back, taking half the CPU.
const liveHeadroom = 1.5

// applyMemoryLimit sets Go's soft memory limit from --memory-limit, unless
// GOMEMLIMIT is set (the runtime has read it already), and returns a
// function that keeps it above the live heap (nil when there is no limit).
func applyMemoryLimit(flag string, logger *slog.Logger) (func(context.Context), error) {
	if os.Getenv("GOMEMLIMIT") != "" {
		return nil, nil
	}
	flag = strings.TrimSpace(flag)
	if flag == "0" || strings.EqualFold(flag, "off") || strings.EqualFold(flag, "none") {
		debug.SetMemoryLimit(math.MaxInt64)
		return nil, nil
	}
	r, err := (&api.ResourcesConfig{Memory: flag}).Parse()
	if err != nil || r.Memory == 0 || r.Memory > math.MaxInt64/2 {
		return nil, fmt.Errorf("--memory-limit %q: want a size such as 400MiB or 2GiB, or 0 for none", flag)
	}
	base := int64(r.Memory)
	debug.SetMemoryLimit(base)
	return func(ctx context.Context) { followLiveHeap(ctx, base, logger) }, nil
}

// followLiveHeap raises the limit to liveHeadroom times the live heap when
// that exceeds base, and lowers it back as the live heap shrinks (after a
// retention pass).
func followLiveHeap(ctx context.Context, base int64, logger *slog.Logger) {
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	current := base
	tick := time.NewTicker(5 * time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		metrics.Read(sample)
		if sample[0].Value.Kind() != metrics.KindUint64 {
			return
		}
		want := max(base, int64(float64(sample[0].Value.Uint64())*liveHeadroom))
		// Move only on a 10% change, so the limit does not jitter.
		if diff := want - current; diff > current/10 || -diff > current/10 {
			debug.SetMemoryLimit(want)
			logger.Debug("soft memory limit follows the live heap", "limit", want, "live", sample[0].Value.Uint64())
			current = want
		}
	}
}
