package compute

import (
	"context"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shoal-io/shoal/api"
	"github.com/shoal-io/shoal/compute/internal/testutil"
)

// scriptedOrchestrator answers reports through a function and records the
// accepted batches.
type scriptedOrchestrator struct {
	fakeOrchestrator
	mu       sync.Mutex
	calls    int
	accepted [][]api.ExecutionUpdate
	answer   func(call int, req *api.UpdateExecutionsRequest) error
}

func (s *scriptedOrchestrator) Report(ctx context.Context, _ string, req *api.UpdateExecutionsRequest) (*api.UpdateExecutionsResponse, error) {
	s.mu.Lock()
	s.calls++
	call := s.calls
	answer := s.answer
	s.mu.Unlock()
	if answer != nil {
		if err := answer(call, req); err != nil {
			return nil, err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.accepted = append(s.accepted, append([]api.ExecutionUpdate(nil), req.Updates...))
	return &api.UpdateExecutionsResponse{Index: uint64(100 + call)}, nil
}

func (s *scriptedOrchestrator) batches() [][]api.ExecutionUpdate {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([][]api.ExecutionUpdate(nil), s.accepted...)
}

func (s *scriptedOrchestrator) delivered() []string {
	var out []string
	for _, b := range s.batches() {
		for _, u := range b {
			out = append(out, u.ExecutionID+":"+u.ComputeState.String())
		}
	}
	return out
}

func batchSizes(batches [][]api.ExecutionUpdate) []int {
	var out []int
	for _, b := range batches {
		out = append(out, len(b))
	}
	return out
}

func update(i int) api.ExecutionUpdate {
	return api.ExecutionUpdate{ExecutionID: fmt.Sprintf("e-%d", i/2), ComputeState: []api.ExecutionStateType{
		api.ExecutionStateAskForBidAccepted, api.ExecutionStateCompleted}[i%2]}
}

func expected(n int) []string {
	var out []string
	for i := range n {
		u := update(i)
		out = append(out, u.ExecutionID+":"+u.ComputeState.String())
	}
	return out
}

func startReporter(t *testing.T, orch Orchestrator, maxBatch int, onUnknown func()) (*reporter, *[]uint64) {
	t.Helper()
	var mu sync.Mutex
	var acks []uint64
	r := newReporter(reporterConfig{orch: orch, nodeID: "n1", log: slog.New(slog.DiscardHandler), maxBatch: maxBatch,
		minBackoff: time.Millisecond, maxBackoff: 5 * time.Millisecond, onUnknown: onUnknown,
		onAccepted: func(_ []api.ExecutionUpdate, index uint64) {
			mu.Lock()
			acks = append(acks, index)
			mu.Unlock()
		}})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		r.run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return r, &acks
}

func TestReporterBatchesWhileAReportIsInFlight(t *testing.T) {
	tests := []struct {
		name      string
		maxBatch  int
		queued    int // enqueued while the first report is held
		wantSizes []int
	}{
		{name: "all in one batch", maxBatch: 100, queued: 10, wantSizes: []int{1, 10}},
		{name: "split at the batch limit", maxBatch: 4, queued: 10, wantSizes: []int{1, 4, 4, 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			release := make(chan struct{})
			var entered atomic.Bool
			orch := &scriptedOrchestrator{answer: func(call int, _ *api.UpdateExecutionsRequest) error {
				if call == 1 {
					entered.Store(true)
					<-release
				}
				return nil
			}}
			r, _ := startReporter(t, orch, tt.maxBatch, nil)
			r.enqueue(update(0))
			testutil.Eventually(t, "the first report to be sent", entered.Load)
			for i := 1; i <= tt.queued; i++ {
				r.enqueue(update(i))
			}
			close(release)
			testutil.Eventually(t, "every update to be delivered", func() bool { return r.pending() == 0 })
			if got := batchSizes(orch.batches()); !reflect.DeepEqual(got, tt.wantSizes) {
				t.Errorf("batch sizes = %v, want %v", got, tt.wantSizes)
			}
			if got := orch.delivered(); !reflect.DeepEqual(got, expected(tt.queued+1)) {
				t.Errorf("delivered %v, want %v", got, expected(tt.queued+1))
			}
		})
	}
}

func TestReporterRetriesUntilAccepted(t *testing.T) {
	tests := []struct {
		name    string
		answer  func(call int, req *api.UpdateExecutionsRequest) error
		wantMin int // at least this many calls
		unknown bool
	}{
		{name: "replica unavailable", wantMin: 4, answer: func(call int, _ *api.UpdateExecutionsRequest) error {
			if call <= 3 {
				return errUnavailable
			}
			return nil
		}},
		{name: "outcome unknown", wantMin: 3, answer: func(call int, _ *api.UpdateExecutionsRequest) error {
			if call <= 2 {
				return api.ErrOutcomeUnknown
			}
			return nil
		}},
		{name: "node unknown", wantMin: 2, unknown: true, answer: func(call int, _ *api.UpdateExecutionsRequest) error {
			if call == 1 {
				return api.NotFoundf(api.ComponentNodeStore, "node n1 not found")
			}
			return nil
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			orch := &scriptedOrchestrator{answer: tt.answer}
			var unknownCalls atomic.Int32
			r, acks := startReporter(t, orch, 100, func() { unknownCalls.Add(1) })
			for i := range 6 {
				r.enqueue(update(i))
			}
			testutil.Eventually(t, "every update to be delivered", func() bool { return r.pending() == 0 })
			if got := orch.delivered(); !reflect.DeepEqual(got, expected(6)) {
				t.Errorf("delivered %v, want %v (in order, once each)", got, expected(6))
			}
			orch.mu.Lock()
			calls := orch.calls
			orch.mu.Unlock()
			if calls < tt.wantMin {
				t.Errorf("%d report calls, want at least %d", calls, tt.wantMin)
			}
			if got := unknownCalls.Load() > 0; got != tt.unknown {
				t.Errorf("asked to register again = %v, want %v", got, tt.unknown)
			}
			if len(*acks) == 0 || (*acks)[len(*acks)-1] < 100 {
				t.Errorf("acks = %v, want the report index passed on", *acks)
			}
		})
	}
}

func TestReporterSplitsRefusedBatches(t *testing.T) {
	poison := api.ExecutionUpdate{ExecutionID: "e-poison", ComputeState: api.ExecutionStateCompleted}
	tests := []struct {
		name    string
		answer  func(call int, req *api.UpdateExecutionsRequest) error
		updates []api.ExecutionUpdate
		want    []string
	}{
		{
			name: "too large batches are halved",
			answer: func(_ int, req *api.UpdateExecutionsRequest) error {
				if len(req.Updates) > 2 {
					return api.NewError(api.ErrTooLarge, api.CodeRequestTooLarge, api.ComponentAPI, "too large")
				}
				return nil
			},
			updates: []api.ExecutionUpdate{update(0), update(1), update(2), update(3), update(4)},
			want:    expected(5),
		},
		{
			name: "an update the cluster refuses is dropped, the others delivered",
			answer: func(_ int, req *api.UpdateExecutionsRequest) error {
				for _, u := range req.Updates {
					if u.ExecutionID == "e-poison" {
						return api.BadRequestf("bad update")
					}
				}
				return nil
			},
			updates: []api.ExecutionUpdate{update(0), update(1), poison, update(2), update(3)},
			want:    expected(4),
		},
		{
			name: "a lone update too large loses output until it fits",
			answer: func(_ int, req *api.UpdateExecutionsRequest) error {
				for _, u := range req.Updates {
					if u.RunOutput != nil && len(u.RunOutput.STDOUT) > 100 {
						return api.NewError(api.ErrTooLarge, api.CodeRequestTooLarge, api.ComponentAPI, "too large")
					}
				}
				return nil
			},
			updates: []api.ExecutionUpdate{{ExecutionID: "e-0", ComputeState: api.ExecutionStateAskForBidAccepted,
				RunOutput: &api.RunCommandResult{STDOUT: strings.Repeat("x", 1000)}}},
			want: []string{"e-0:AskForBidAccepted"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			orch := &scriptedOrchestrator{answer: tt.answer}
			r, _ := startReporter(t, orch, 100, nil)
			for _, u := range tt.updates {
				r.enqueue(u)
			}
			testutil.Eventually(t, "the queue to drain", func() bool { return r.pending() == 0 })
			if got := orch.delivered(); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("delivered %v, want %v", got, tt.want)
			}
			for _, b := range orch.batches() {
				for _, u := range b {
					if u.RunOutput != nil && !u.RunOutput.StdoutTruncated {
						t.Errorf("shrunk output not marked truncated")
					}
				}
			}
		})
	}
}

func TestReporterFlush(t *testing.T) {
	t.Run("delivers what is queued", func(t *testing.T) {
		orch := &scriptedOrchestrator{}
		r := newReporter(reporterConfig{orch: orch, nodeID: "n1", log: slog.New(slog.DiscardHandler),
			minBackoff: time.Millisecond, maxBackoff: time.Millisecond})
		for i := range 3 {
			r.enqueue(update(i))
		}
		if left := r.flush(context.Background()); left != 0 {
			t.Fatalf("%d left", left)
		}
		if got := orch.delivered(); !reflect.DeepEqual(got, expected(3)) {
			t.Fatalf("delivered %v", got)
		}
	})
	t.Run("gives up when its context ends", func(t *testing.T) {
		orch := &scriptedOrchestrator{answer: func(int, *api.UpdateExecutionsRequest) error { return errUnavailable }}
		r := newReporter(reporterConfig{orch: orch, nodeID: "n1", log: slog.New(slog.DiscardHandler),
			minBackoff: time.Millisecond, maxBackoff: time.Millisecond})
		for i := range 3 {
			r.enqueue(update(i))
		}
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		if left := r.flush(ctx); left != 3 {
			t.Fatalf("%d left, want 3 kept", left)
		}
	})
}
