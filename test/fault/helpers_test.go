package fault

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/shoal-io/shoal/api"
	"github.com/shoal-io/shoal/test/testcluster"
	"github.com/shoal-io/shoal/test/workload"
)

func skipShort(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("fault test: starts real shoal processes")
	}
}

// skipUnlessSoak keeps the long variants out of the default run; make soak
// sets SHOAL_SOAK=1.
func skipUnlessSoak(t *testing.T) {
	t.Helper()
	skipShort(t)
	if os.Getenv("SHOAL_SOAK") != "1" {
		t.Skip("soak test: set SHOAL_SOAK=1 (make soak)")
	}
}

// faultContext bounds a fault test to timeout and ends it early when a
// process of the cluster crashes (see watchCrashes).
func faultContext(t *testing.T, c *testcluster.Cluster, timeout time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	t.Cleanup(cancel)
	return watchCrashes(ctx, t, c)
}

// watchCrashes returns a context that ends as soon as any process of the
// cluster exits without the test stopping it, and fails the test saying
// which: a crash is a finding, and nothing waits out its timeout for it.
func watchCrashes(ctx context.Context, t *testing.T, c *testcluster.Cluster) context.Context {
	ctx, cancel := context.WithCancelCause(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			for _, p := range append(append([]*testcluster.Process{}, c.Replicas...), c.Computes...) {
				if crashed, how := p.Crashed(); crashed {
					err := fmt.Errorf("%s exited on its own (%s): see its log below", p.ID, how)
					t.Error(err)
					cancel(err)
					return
				}
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(200 * time.Millisecond):
			}
		}
	}()
	t.Cleanup(func() {
		cancel(nil)
		<-done
	})
	return ctx
}

// noopCompute makes compute nodes run noop executions that take delay, with
// room for many at once.
func noopCompute(delay time.Duration) []string {
	return []string{"--engines", "noop", "--noop-delay", delay.String(), "--cpu", "100", "--memory", "100gb"}
}

func target(p *testcluster.Process) workload.Target {
	return workload.Target{Name: p.ID, URL: p.URL()}
}

// runningTargets lists the replicas that are running right now, so clients
// move on to the survivors when one is killed.
func runningTargets(c *testcluster.Cluster) func() []workload.Target {
	return func() []workload.Target {
		var out []workload.Target
		for _, p := range c.Running() {
			out = append(out, target(p))
		}
		return out
	}
}

// createLoad is a set of clients that create batch jobs back to back, each
// create retried with its token until acknowledged. With readBack, every
// acknowledged create is followed by a linearizable describe on another
// replica, which the porcupine check then holds to the acknowledgement.
type createLoad struct {
	rec     *workload.Recorder
	run     string
	clients int
	count   int // executions per job
	targets func() []workload.Target
	// readBack describes each acknowledged job on the next replica.
	readBack bool
	// gap between a client's creates; keeps a 2-core machine responsive.
	gap time.Duration
	// firstClient numbers the clients from here, so loads started one
	// after another on the same run never reuse a token.
	firstClient int
	// withoutTokenEvery sends every n-th create without an idempotency
	// token (0: never): those are retried only when they certainly failed,
	// and show whether the cluster ever applies one request twice by
	// itself.
	withoutTokenEvery int
}

// start runs the clients until the returned stop is called. stop lets each
// client finish the create it is sending (retries included), so the
// history does not fill with requests the test itself cut short, and
// waits for them.
func (l createLoad) start(ctx context.Context) (stop func()) {
	stopping := make(chan struct{})
	var wg sync.WaitGroup
	for i := range l.clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := l.firstClient + i
			c := &workload.Client{ID: id, Rec: l.rec}
			for n := 0; ctx.Err() == nil; n++ {
				token := workload.Token(l.run, id, n)
				create := c.CreateUntilDone
				if l.withoutTokenEvery > 0 && n%l.withoutTokenEvery == l.withoutTokenEvery-1 {
					create = c.CreateWithoutTokenUntilDone
				}
				op := create(ctx, l.targets, id+n, token, workload.NoopJob(l.run, token, l.count))
				if op.Outcome == workload.OK && l.readBack {
					if ts := l.targets(); len(ts) > 0 {
						c.Describe(ctx, ts[(id+n+1)%len(ts)], token, op.JobID, true)
					}
				}
				select {
				case <-stopping:
					return
				case <-ctx.Done():
					return
				case <-time.After(l.gap):
				}
			}
		}()
	}
	return func() {
		close(stopping)
		wg.Wait()
	}
}

// verify is everything checked after a run, once the cluster is quiet:
//   - every acknowledged create exists exactly once, and nothing else does;
//   - (mustComplete) every job of the run ends Completed with exactly Count
//     completed executions; otherwise none has more than Count;
//   - all running replicas report the same digest;
//   - no linearizable read missed a write acknowledged before it;
//   - the recorded history is linearizable.
func verify(t *testing.T, ctx context.Context, c *testcluster.Cluster, rec *workload.Recorder, run string, mustComplete bool) {
	t.Helper()
	leader, err := c.WaitLeader(ctx)
	if err != nil {
		t.Fatalf("no leader after the run: %v", err)
	}
	at := target(leader)
	ops := rec.Ops()
	t.Logf("history: %d operations (%s)", len(ops), rec.Stats())
	logNotOK(t, ops, 10)

	jobs, err := waitRunSettled(ctx, at, run, mustComplete)
	if err != nil {
		t.Fatal(err)
	}
	digest, err := c.WaitDigestsEqual(ctx)
	if err != nil {
		t.Fatalf("replicas disagree after the run: %v", err)
	}
	t.Logf("%d jobs in the run; replicas agree on digest %s at index %d", len(jobs), digest.Digest, digest.Index)

	for _, err := range workload.CheckCreates(ops, jobs) {
		t.Error(err)
	}
	for _, j := range jobs {
		execs, err := workload.JobExecutions(ctx, at, j.ID)
		if err != nil {
			t.Fatal(err)
		}
		if err := workload.CheckBatchExecutions(j, execs, mustComplete); err != nil {
			t.Error(err)
		}
	}
	for _, op := range workload.StaleReads(ops) {
		if op.Linearizable {
			t.Errorf("linearizable read missed a write acknowledged before it was sent: %s", op)
		}
	}
	checkLinearizable(t, ops)
}

// logNotOK shows the first few operations that were not acknowledged: what
// clients of a failing-over cluster actually see.
func logNotOK(t *testing.T, ops []workload.Op, limit int) {
	t.Helper()
	shown := 0
	for _, op := range ops {
		if op.Outcome == workload.OK {
			continue
		}
		if shown == limit {
			t.Logf("  … and more")
			return
		}
		t.Logf("  %s", op)
		shown++
	}
}

func checkLinearizable(t *testing.T, ops []workload.Op) {
	t.Helper()
	res, path, err := workload.CheckLinearizable(ops, 2*time.Minute, os.TempDir())
	if err != nil {
		t.Error(err)
	}
	switch res {
	case porcupine.Ok:
	case porcupine.Unknown:
		t.Errorf("porcupine could not decide within its time limit (visualization: %s)", path)
	default:
		t.Errorf("history is not linearizable; porcupine's visualization: %s", path)
	}
}

// waitRunSettled waits until every job of the run is terminal (when
// mustComplete) and returns them.
func waitRunSettled(ctx context.Context, at workload.Target, run string, mustComplete bool) ([]*api.Job, error) {
	var last string
	for {
		jobs, err := workload.ListRunJobs(ctx, at, run)
		if err == nil {
			pending := 0
			for _, j := range jobs {
				if !j.State.StateType.IsTerminal() {
					pending++
					last = fmt.Sprintf("%d of %d jobs not terminal, e.g. %s %s %q", pending, len(jobs), j.ID, j.State.StateType, j.State.Message)
				}
			}
			if !mustComplete || pending == 0 {
				return jobs, nil
			}
		} else {
			last = err.Error()
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("run %s did not settle: %w (%s)", run, ctx.Err(), last)
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// waitUntil polls cond every interval until it holds or ctx ends.
func waitUntil(ctx context.Context, interval time.Duration, cond func() (bool, error)) error {
	var last error
	for {
		ok, err := cond()
		if ok {
			return nil
		}
		if err != nil {
			last = err
		}
		select {
		case <-ctx.Done():
			return errors.Join(ctx.Err(), last)
		case <-time.After(interval):
		}
	}
}
