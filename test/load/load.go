// Package load drives a fixed number of concurrent clients for a fixed time
// and reports throughput and latency percentiles, for the benchmarks.
package load

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"
)

// Result is what a run measured.
type Result struct {
	Clients  int
	Duration time.Duration
	Ops      int
	Errors   int
	FirstErr error
	P50, P99 time.Duration
	Max      time.Duration
}

// Rate is acknowledged operations per second.
func (r Result) Rate() float64 { return float64(r.Ops) / r.Duration.Seconds() }

func (r Result) String() string {
	return fmt.Sprintf("clients=%-3d ops=%-7d rate=%8.0f/s p50=%-9s p99=%-9s max=%-9s errors=%d",
		r.Clients, r.Ops, r.Rate(), r.P50.Round(10*time.Microsecond), r.P99.Round(10*time.Microsecond), r.Max.Round(10*time.Microsecond), r.Errors)
}

// Run calls op from clients goroutines, back to back, for d (after a short
// warm-up that is not counted).
func Run(ctx context.Context, clients int, warmup, d time.Duration, op func(ctx context.Context, client int) error) Result {
	var (
		mu        sync.Mutex
		latencies []time.Duration
		errs      int
		firstErr  error
	)
	start := time.Now()
	measureFrom := start.Add(warmup)
	end := measureFrom.Add(d)
	var wg sync.WaitGroup
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			local := make([]time.Duration, 0, 4096)
			localErrs := 0
			var localFirst error
			for {
				t0 := time.Now()
				if t0.After(end) || ctx.Err() != nil {
					break
				}
				err := op(ctx, c)
				t1 := time.Now()
				if t0.Before(measureFrom) || t1.After(end) {
					continue
				}
				if err != nil {
					localErrs++
					if localFirst == nil {
						localFirst = err
					}
					continue
				}
				local = append(local, t1.Sub(t0))
			}
			mu.Lock()
			latencies = append(latencies, local...)
			errs += localErrs
			if firstErr == nil {
				firstErr = localFirst
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	slices.Sort(latencies)
	r := Result{Clients: clients, Duration: d, Ops: len(latencies), Errors: errs, FirstErr: firstErr}
	if n := len(latencies); n > 0 {
		r.P50 = latencies[n/2]
		r.P99 = latencies[min(n-1, n*99/100)]
		r.Max = latencies[n-1]
	}
	return r
}
