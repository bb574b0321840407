package main

import (
	"fmt"
	"log/slog"
	"math"
	"os"
	"runtime/debug"
	"strings"

	"github.com/shoal-io/shoal/api"
	"github.com/shoal-io/shoal/internal/memlimit"
)

// defaultMemoryLimit keeps a replica's garbage from becoming resident
// memory: with the GC target at 800 the heap would otherwise grow to nine
// times what is live before a collection.
const defaultMemoryLimit = "400MiB"

// liveHeadroom is how far above the live heap the collector's goal is kept
// (the limit raised for it) when the live heap nears the configured limit: a
// goal at what is live would have the collector run back to back, taking
// half the CPU.
const liveHeadroom = 1.3

// applyMemoryLimit sets Go's soft memory limit from --memory-limit, unless
// GOMEMLIMIT is set (the runtime has read it already), and keeps it above
// the live heap. It returns the tuner to stop (nil when there is no limit).
func applyMemoryLimit(flag string, logger *slog.Logger) (*memlimit.Tuner, error) {
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
	return memlimit.Start(int64(r.Memory), liveHeadroom, logger), nil
}
