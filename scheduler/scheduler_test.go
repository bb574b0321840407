package scheduler

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shoal-io/shoal/api"
	"github.com/shoal-io/shoal/fsm"
)

func TestNewChecksConfig(t *testing.T) {
	snap := func() State { return newFakeState() }
	for name, cfg := range map[string]Config{
		"no snapshot":    {Planner: &recordingPlanner{}},
		"no planner":     {Snapshot: snap},
		"negative limit": {Snapshot: snap, Planner: &recordingPlanner{}, DeliveryLimit: -1},
	} {
		if _, err := New(cfg); !errors.Is(err, api.ErrBadRequest) {
			t.Errorf("%s: error %v, want a bad request", name, err)
		}
	}
	s, err := New(Config{Snapshot: snap, Planner: &recordingPlanner{}})
	if err != nil {
		t.Fatal(err)
	}
	expect(t, "workers", s.cfg.Workers > 0, true)
	expect(t, "delivery limit", s.cfg.DeliveryLimit, DefaultDeliveryLimit)
	expect(t, "default resources", s.cfg.DefaultTaskResources, api.Resources{CPU: DefaultTaskCPU, Memory: DefaultTaskMemory})
}

// startDirect enables the broker of s without workers, so a test can drive
// deliveries through process itself.
func startDirect(s *Scheduler, evals ...*api.Evaluation) {
	s.broker.enable()
	s.broker.committed(evals)
}

func TestWorkerOutcomes(t *testing.T) {
	state := threeNodes().addJob(job("j1", api.JobTypeBatch, 1))
	dropped := &fsm.PlanResult{RejectedPlacements: map[string]string{"x": "node full"}}
	cases := []struct {
		name      string
		job       string
		answer    func(ctx context.Context, n int, p *fsm.Plan) (*fsm.PlanResult, uint64, error)
		wantPlans int
		wantWaits []uint64
		wantStats Stats
	}{
		{
			name:      "applied plan is acked",
			job:       "j1",
			wantPlans: 1,
		},
		{
			name: "dropped placements are planned again on newer state",
			job:  "j1",
			answer: func(_ context.Context, n int, _ *fsm.Plan) (*fsm.PlanResult, uint64, error) {
				if n == 1 {
					return dropped, 7, nil
				}
				return &fsm.PlanResult{}, 8, nil
			},
			wantPlans: 2,
			wantWaits: []uint64{7},
		},
		{
			name: "still dropped after PlanAttempts: handed back",
			job:  "j1",
			answer: func(_ context.Context, n int, _ *fsm.Plan) (*fsm.PlanResult, uint64, error) {
				return dropped, uint64(10 + n), nil
			},
			wantPlans: DefaultPlanAttempts,
			wantWaits: []uint64{11, 12},
			wantStats: Stats{Delayed: 1},
		},
		{
			name: "a stale plan that only settles the evaluation is not planned again",
			job:  "missing",
			answer: func(context.Context, int, *fsm.Plan) (*fsm.PlanResult, uint64, error) {
				return &fsm.PlanResult{Stale: true}, 5, nil
			},
			wantPlans: 1,
		},
		{
			name: "a failed submit is handed back",
			job:  "j1",
			answer: func(context.Context, int, *fsm.Plan) (*fsm.PlanResult, uint64, error) {
				return nil, 0, api.ErrNoLeader
			},
			wantPlans: 1,
			wantStats: Stats{Delayed: 1},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			planner := &recordingPlanner{answer: tc.answer}
			var waits []uint64
			s := newTestScheduler(t, func() State { return state }, planner, newFakeClock(), func(c *Config) {
				c.WaitForIndex = func(_ context.Context, index uint64) error {
					waits = append(waits, index)
					return nil
				}
			})
			startDirect(s, eval("ev-1", tc.job, api.JobTypeBatch))
			s.process(context.Background(), mustDequeue(t, s.broker))
			expect(t, "plans", planner.planCount(), tc.wantPlans)
			expect(t, "waits", len(waits), len(tc.wantWaits))
			for i := range min(len(waits), len(tc.wantWaits)) {
				expect(t, "wait index", waits[i], tc.wantWaits[i])
			}
			expect(t, "stats", s.Stats(), tc.wantStats)
		})
	}
}

func TestWorkerCoalescedEvaluationsShareThePlan(t *testing.T) {
	planner := &recordingPlanner{}
	state := threeNodes().addJob(job("j1", api.JobTypeBatch, 1))
	s := newTestScheduler(t, func() State { return state }, planner, newFakeClock())
	startDirect(s, eval("ev-1", "j1", api.JobTypeBatch), eval("ev-2", "j1", api.JobTypeBatch), eval("ev-3", "j1", api.JobTypeBatch))
	s.process(context.Background(), mustDequeue(t, s.broker))
	expect(t, "plans", planner.planCount(), 1)
	p := planner.plans[0]
	expect(t, "coalesced", len(p.CoalescedEvalIDs), 2)
	expect(t, "placements", len(p.NewExecutions), 1)
	expect(t, "stats", s.Stats(), Stats{})
}

func TestWorkerParksBlockedPlans(t *testing.T) {
	const waiting = "waiting for nodes: 1 execution not placed (no compute nodes)"
	cases := []struct {
		name      string
		evalState string
		jobMsg    string
		wantPlans int
	}{
		{name: "first block goes through Raft", evalState: api.EvalStatusPending, wantPlans: 1},
		{name: "blocking again unchanged skips Raft", evalState: api.EvalStatusBlocked, jobMsg: waiting, wantPlans: 0},
		{name: "blocking again with a new message goes through Raft", evalState: api.EvalStatusBlocked, jobMsg: "waiting for nodes: old", wantPlans: 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			planner := &recordingPlanner{}
			ev := eval("ev-1", "j1", api.JobTypeBatch, statusOf(tc.evalState))
			state := newFakeState().addJob(job("j1", api.JobTypeBatch, 1, queueTimeout(60), inState(api.JobStateTypePending, tc.jobMsg))).addEvals(ev)
			s := newTestScheduler(t, func() State { return state }, planner, newFakeClock())
			s.broker.enable()
			s.broker.restore(nil, []*api.Evaluation{ev}, 1)
			s.broker.releaseAll()
			s.process(context.Background(), mustDequeue(t, s.broker))
			expect(t, "plans", planner.planCount(), tc.wantPlans)
			if tc.wantPlans > 0 {
				expect(t, "status", planner.plans[0].EvalStatus, api.EvalStatusBlocked)
			}
			expect(t, "stats", s.Stats(), Stats{Blocked: 1})
		})
	}
}

func TestSetEnabledRebuildsFromState(t *testing.T) {
	state := threeNodes().
		addJob(job("ja", api.JobTypeBatch, 1)).
		addJob(job("jb", api.JobTypeBatch, 1)).
		addJob(job("jc", api.JobTypeBatch, 1)).
		addEvals(
			eval("pending", "ja", api.JobTypeBatch),
			eval("blocked", "jb", api.JobTypeBatch, statusOf(api.EvalStatusBlocked)),
			eval("done", "jc", api.JobTypeBatch, statusOf(api.EvalStatusComplete)),
			eval("delayed", "jc", api.JobTypeBatch, waitUntil(testCreateTime+int64(time.Hour))))
	planner := &recordingPlanner{submitted: make(chan *fsm.Plan, 10)}
	s := newTestScheduler(t, func() State { return state }, planner, newFakeClock())

	for round := range 2 { // leadership flaps: enable, disable, enable
		s.SetEnabled(true)
		s.SetEnabled(true) // idempotent
		p := waitFor(t, planner.submitted, "the pending evaluation")
		expect(t, "planned", p.EvalID, "pending")
		waitStats(t, s, "rebuilt broker", func(st Stats) bool { return st == Stats{Blocked: 1, Delayed: 1} })

		s.NodesChanged([]string{"n1"})
		p = waitFor(t, planner.submitted, "the released blocked evaluation")
		expect(t, "released", p.EvalID, "blocked")
		s.SetEnabled(false)
		s.SetEnabled(false)
		expect(t, "stats after disable", s.Stats(), Stats{})
		expect(t, "plans", planner.planCount(), 2*(round+1))
	}
	// Disabled: commits and node events are ignored.
	s.EvalsCommitted([]*api.Evaluation{eval("new", "ja", api.JobTypeBatch)})
	s.NodesChanged([]string{"n1"})
	s.CapacityFreed([]string{"n1"})
	expect(t, "stats while disabled", s.Stats(), Stats{})
}

func TestSetEnabledFalseWaitsForPlansInFlight(t *testing.T) {
	var returned atomic.Bool
	inFlight := make(chan struct{})
	planner := &recordingPlanner{answer: func(ctx context.Context, _ int, _ *fsm.Plan) (*fsm.PlanResult, uint64, error) {
		close(inFlight)
		<-ctx.Done() // a plan that only ends when leadership goes
		returned.Store(true)
		return nil, 0, ctx.Err()
	}}
	state := threeNodes().addJob(job("j1", api.JobTypeBatch, 1)).addEvals(eval("ev-1", "j1", api.JobTypeBatch))
	s := newTestScheduler(t, func() State { return state }, planner, newFakeClock())
	s.SetEnabled(true)
	waitFor(t, inFlight, "the plan to be submitted")
	expect(t, "stats in flight", s.Stats(), Stats{Unacked: 1})
	s.SetEnabled(false)
	if !returned.Load() {
		t.Fatal("SetEnabled(false) returned before the plan in flight did")
	}
	expect(t, "stats", s.Stats(), Stats{})
}

func TestDeliveryLimitMarksEvaluationFailed(t *testing.T) {
	clock := newFakeClock()
	planner := &recordingPlanner{
		answer: func(context.Context, int, *fsm.Plan) (*fsm.PlanResult, uint64, error) {
			return nil, 0, api.ErrNoLeader
		},
		submitted: make(chan *fsm.Plan, 10),
		evalsDone: make(chan []*api.Evaluation, 1),
	}
	state := threeNodes().addJob(job("j1", api.JobTypeBatch, 1)).addEvals(eval("ev-1", "j1", api.JobTypeBatch))
	s := newTestScheduler(t, func() State { return state }, planner, clock, func(c *Config) { c.DeliveryLimit = 3 })
	s.SetEnabled(true)
	defer s.SetEnabled(false)
	for range 3 {
		waitFor(t, planner.submitted, "a delivery")
		waitStats(t, s, "the nack", func(st Stats) bool { return st.Unacked == 0 })
		clock.Advance(DefaultSubsequentNackDelay)
		s.broker.advance()
	}
	marked := waitFor(t, planner.evalsDone, "the evaluation to be marked failed")
	expect(t, "marked", len(marked), 1)
	expect(t, "id", marked[0].ID, "ev-1")
	expect(t, "status", marked[0].Status, api.EvalStatusFailed)
	expect(t, "stats", s.Stats(), Stats{Failed: 1})
}

func TestFailedMarkingIsRetried(t *testing.T) {
	clock := newFakeClock()
	planner := &recordingPlanner{updateErr: api.ErrNoLeader}
	s := newTestScheduler(t, func() State { return newFakeState() }, planner, clock, func(c *Config) { c.DeliveryLimit = 1 })
	startDirect(s, eval("ev-1", "j1", api.JobTypeBatch))
	d := mustDequeue(t, s.broker)
	if err := s.broker.nack(d.eval.ID, d.token); err != nil {
		t.Fatal(err)
	}
	evals := s.broker.takeFailed()
	if err := planner.UpdateEvals(context.Background(), evals); err == nil {
		t.Fatal("planner did not fail")
	}
	s.broker.returnFailed(evals)
	again := s.broker.takeFailed()
	expect(t, "returned", len(again), 1)
	expect(t, "id", again[0].ID, "ev-1")
}

func TestConcurrentCommitsWhileRunning(t *testing.T) {
	// Many jobs, commits from other goroutines, node events and flapping
	// leadership: run under -race, nothing may deadlock or panic, and every
	// job ends placed.
	unknown := withCapacity(api.Resources{})
	st := newFakeState().addNodes(node("n1", unknown), node("n2", unknown), node("n3", unknown))
	for i := range 40 {
		st.addJob(job(jobName(i), api.JobTypeBatch, 1))
	}
	c := newFakeCluster(st)
	s := newTestScheduler(t, c.Snapshot, c, newFakeClock(), func(cfg *Config) { cfg.Workers = 3 })
	c.sched = s
	s.SetEnabled(true)
	defer s.SetEnabled(false)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := g; i < 40; i += 4 {
				ev := eval("ev-"+jobName(i), jobName(i), api.JobTypeBatch)
				c.mutate(func(st *fakeState) ([]*api.Evaluation, []string) {
					st.addEvals(ev)
					return []*api.Evaluation{ev}, nil
				})
				s.CapacityFreed([]string{"n1"})
				s.NodesChanged([]string{"n2"})
				_ = s.Stats()
			}
		})
	}
	wg.Wait()
	st = c.waitState(t, "every job placed", func(st *fakeState) bool {
		return len(st.execs) >= 40
	})
	for i := range 40 {
		if n, _ := st.ExecutionsByJob(jobName(i)); len(n) != 1 {
			t.Errorf("job %s has %d executions, want 1", jobName(i), len(n))
		}
	}
}

func jobName(i int) string { return "job-" + string(rune('a'+i/26)) + string(rune('a'+i%26)) }
