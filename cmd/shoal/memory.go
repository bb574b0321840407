package main

import (
	"fmt"
	"log/slog"
	"math"
	"os"
	"runtime/debug"
	"strings"

	"github.com/shoal-io/shoal/api"
)

// defaultMemoryLimit keeps a replica holding 100,000 jobs under 500 MB of
// resident memory: with the GC target at 300% the heap would otherwise grow
// to four times what is live before a collection, all of it resident.
const defaultMemoryLimit = "400MiB"

// applyMemoryLimit sets Go's soft memory limit from --memory-limit, unless
// GOMEMLIMIT is set (the runtime has read it already).
func applyMemoryLimit(flag string, logger *slog.Logger) error {
	if os.Getenv("GOMEMLIMIT") != "" {
		return nil
	}
	flag = strings.TrimSpace(flag)
	if flag == "0" || strings.EqualFold(flag, "off") || strings.EqualFold(flag, "none") {
		debug.SetMemoryLimit(math.MaxInt64)
		return nil
	}
	r, err := (&api.ResourcesConfig{Memory: flag}).Parse()
	if err != nil || r.Memory == 0 || r.Memory > math.MaxInt64 {
		return fmt.Errorf("--memory-limit %q: want a size such as 400MiB or 2GiB, or 0 for none", flag)
	}
	debug.SetMemoryLimit(int64(r.Memory))
	logger.Debug("soft memory limit", "bytes", r.Memory)
	return nil
}
