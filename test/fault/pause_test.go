package fault

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/shoal-io/shoal/test/testcluster"
	"github.com/shoal-io/shoal/test/workload"
)

// TestLeaderPauseNoStaleAnswers freezes the leader (SIGSTOP) for many
// election timeouts. The others elect a new leader and acknowledge a stop
// and new creates; meanwhile clients queue writes and linearizable reads at
// the frozen replica. When it thaws (SIGCONT) it still believes it leads for
// a moment: it must not acknowledge a write it cannot commit, nor answer a
// linearizable read from its stale state.
func TestLeaderPauseNoStaleAnswers(t *testing.T) {
	skipShort(t)
	c := testcluster.Start(t, testcluster.Options{Replicas: 3, FastFailover: true})
	ctx := faultContext(t, c, 3*time.Minute)
	rec, run := workload.NewRecorder(), workload.NewRunID()
	cl := func(id int) *workload.Client { return &workload.Client{ID: id, Rec: rec, Timeout: 30 * time.Second} }
	all := runningTargets(c)

	old, err := c.WaitLeader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Jobs that exist before the pause: stopped during it, and read at the
	// old leader after.
	const before = 4
	jobIDs := map[string]string{}
	for n := range before {
		token := workload.Token(run, 0, n)
		op := cl(0).CreateUntilDone(ctx, all, n, token, workload.NoopJob(run, token, 1))
		if op.Outcome != workload.OK {
			t.Fatalf("create before the pause: %s", op)
		}
		jobIDs[token] = op.JobID
	}

	if err := old.Pause(); err != nil {
		t.Fatal(err)
	}
	paused := time.Now()
	resumed := false
	defer func() {
		if !resumed {
			_ = old.Resume()
		}
	}()
	others := c.Others(old)
	next, err := c.WaitLeaderAmong(ctx, others...)
	if err != nil {
		t.Fatalf("no new leader while %s is paused: %v", old.ID, err)
	}
	t.Logf("paused leader %s; %s leads after %s", old.ID, next.ID, time.Since(paused).Round(time.Millisecond))

	// The survivors (the new leader first) stop every earlier job and create
	// new ones; all of it is acknowledged before anything below is sent to
	// the old leader.
	survivors := func() []workload.Target { return []workload.Target{target(next), target(others[0]), target(others[1])} }
	for n := range before {
		token := workload.Token(run, 0, n)
		if op := stopUntilDone(ctx, cl(1), survivors, token, jobIDs[token]); op.Outcome != workload.OK {
			t.Fatalf("stop on the new leader: %s", op)
		}
	}
	for n := range before {
		token := workload.Token(run, 1, n)
		op := cl(1).CreateUntilDone(ctx, survivors, 0, token, workload.NoopJob(run, token, 1))
		if op.Outcome != workload.OK {
			t.Fatalf("create on the new leader: %s", op)
		}
		jobIDs[token] = op.JobID
	}

	// Requests queue at the frozen replica: linearizable reads of every job
	// (all stopped or created by now) and creates with fresh tokens.
	var wg sync.WaitGroup
	for i := range 5 {
		for token, id := range jobIDs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				cl(2+i).Describe(ctx, target(old), token, id, true)
			}()
		}
	}
	// Creates start at the frozen replica and, if their outcome there is
	// unknown, are retried with the same token on the others.
	oldFirst := func() []workload.Target { return []workload.Target{target(old), target(others[0]), target(others[1])} }
	for n := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			token := workload.Token(run, 10+n, 0)
			cl(10+n).CreateUntilDone(ctx, oldFirst, 0, token, workload.NoopJob(run, token, 1))
		}()
	}
	// Hold the pause well past the election timeout (300ms here).
	time.Sleep(3*time.Second - time.Since(paused))
	if err := old.Resume(); err != nil {
		t.Fatal(err)
	}
	resumed = true
	// Keep reading at the old replica as it thaws.
	for range 20 {
		for token, id := range jobIDs {
			cl(20).Describe(ctx, target(old), token, id, true)
		}
	}
	wg.Wait()

	// The property, stated plainly before the general checks (which also
	// hold every acknowledged write to exist and the history linearizable).
	for _, op := range workload.StaleReads(rec.Ops()) {
		if op.Target == old.ID {
			t.Errorf("the old leader answered a linearizable read from stale state: %s", op)
		}
	}
	answered := 0
	for _, op := range rec.Ops() {
		if op.Target == old.ID && op.Kind == workload.KindDescribe && op.Outcome == workload.OK {
			answered++
		}
	}
	if answered == 0 {
		t.Errorf("the old leader answered no read at all: the test proves nothing")
	}
	verify(t, ctx, c, rec, run, false)
}

// stopUntilDone stops a job, trying the targets in turn until a stop is
// acknowledged (a stop is idempotent) or refused with a 4xx.
func stopUntilDone(ctx context.Context, c *workload.Client, targets func() []workload.Target, token, jobID string) workload.Op {
	for attempt := 0; ; attempt++ {
		ts := targets()
		op := c.Stop(ctx, ts[attempt%len(ts)], token, jobID)
		if op.Outcome == workload.OK || (op.Status >= 400 && op.Status < 500) || ctx.Err() != nil {
			return op
		}
		select {
		case <-ctx.Done():
		case <-time.After(100 * time.Millisecond):
		}
	}
}
