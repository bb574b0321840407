package fault

import (
	"context"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/shoal-io/shoal/test/testcluster"
	"github.com/shoal-io/shoal/test/workload"
)

// registerLoad is the linearizability workload: concurrent clients on all
// replicas create jobs, stop about half of them, and describe them — each
// write followed at once by a read on a different replica than the one
// that acknowledged it, and reads of other clients' jobs at random. Without
// compute nodes jobs stay Pending until stopped, so a job's only changes
// are the ones the workload makes.
type registerLoad struct {
	rec     *workload.Recorder
	run     string
	clients int
	targets func() []workload.Target
	// linearizable sends describes with consistency=linearizable; the
	// broken variant leaves it off and reads whatever a replica has.
	linearizable bool
}

type knownJob struct{ token, id string }

// start runs the clients until stop is called; stop lets each client finish
// the round of operations it is in, and waits for them.
func (l registerLoad) start(ctx context.Context) (stop func()) {
	stopping := make(chan struct{})
	var (
		mu    sync.Mutex
		known []knownJob
	)
	remember := func(j knownJob) {
		mu.Lock()
		defer mu.Unlock()
		known = append(known, j)
	}
	pick := func(r *rand.Rand) (knownJob, bool) {
		mu.Lock()
		defer mu.Unlock()
		if len(known) == 0 {
			return knownJob{}, false
		}
		// Mostly recent jobs: that is where writes race with reads.
		return known[max(0, len(known)-1-r.IntN(min(len(known), 20)))], true
	}
	var wg sync.WaitGroup
	for id := range l.clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(id), 7))
			c := &workload.Client{ID: id, Rec: l.rec, Timeout: 15 * time.Second}
			at := func(i int) (workload.Target, bool) {
				ts := l.targets()
				if len(ts) == 0 {
					return workload.Target{}, false
				}
				return ts[i%len(ts)], true
			}
			for n := 0; ctx.Err() == nil; n++ {
				select {
				case <-stopping:
					return
				default:
				}
				token := workload.Token(l.run, id, n)
				op := c.CreateUntilDone(ctx, l.targets, id+n, token, workload.NoopJob(l.run, token, 1))
				if op.Outcome != workload.OK {
					continue
				}
				remember(knownJob{token, op.JobID})
				acker := targetIndex(l.targets(), op.Target)
				if t, ok := at(acker + 1); ok {
					c.Describe(ctx, t, token, op.JobID, l.linearizable)
				}
				if r.IntN(2) == 0 {
					if t, ok := at(acker + 2); ok {
						s := c.Stop(ctx, t, token, op.JobID)
						if t2, ok := at(targetIndex(l.targets(), s.Target) + 1); ok {
							c.Describe(ctx, t2, token, op.JobID, l.linearizable)
						}
					}
				}
				if j, ok := pick(r); ok {
					if t, ok := at(r.IntN(3)); ok {
						c.Describe(ctx, t, j.token, j.id, l.linearizable)
					}
				}
			}
		}()
	}
	return func() {
		close(stopping)
		wg.Wait()
	}
}

func targetIndex(ts []workload.Target, name string) int {
	for i, t := range ts {
		if t.Name == name {
			return i
		}
	}
	return 0
}

// TestLinearizableHistory runs the register workload with linearizable
// describes on all replicas, through a leader kill -9 and restart, and
// checks the history with porcupine.
func TestLinearizableHistory(t *testing.T) {
	skipShort(t)
	c := testcluster.Start(t, testcluster.Options{Replicas: 3, FastFailover: true})
	ctx := faultContext(t, c, 4*time.Minute)
	rec, run := workload.NewRecorder(), workload.NewRunID()
	stop := registerLoad{rec: rec, run: run, clients: 6, targets: runningTargets(c), linearizable: true}.start(ctx)
	leaderKills(t, ctx, c, 2, 6*time.Second)
	time.Sleep(6 * time.Second)
	stop()
	verify(t, ctx, c, rec, run, false)
}

// TestCheckerCatchesStaleReads runs the same workload with describes that
// do not ask for linearizable reads, so a replica answers from whatever it
// has applied, and shows the check notices: porcupine must find the history
// not linearizable. Reading on another replica right after a write was
// acknowledged finds followers a commit behind within seconds; should a run
// be unlucky, a follower is paused now and then, and on waking serves the
// reads queued at it before it has caught up.
func TestCheckerCatchesStaleReads(t *testing.T) {
	skipShort(t)
	c := testcluster.Start(t, testcluster.Options{Replicas: 3, FastFailover: true})
	ctx := faultContext(t, c, 4*time.Minute)
	rec, run := workload.NewRecorder(), workload.NewRunID()
	stop := registerLoad{rec: rec, run: run, clients: 6, targets: runningTargets(c), linearizable: false}.start(ctx)
	defer stop()

	deadline := time.Now().Add(2 * time.Minute)
	for round := 1; ; round++ {
		if round <= 2 {
			time.Sleep(3 * time.Second)
		} else if err := lagFollower(ctx, c); err != nil {
			t.Fatal(err)
		}
		ops := rec.Ops()
		res, _, err := workload.CheckLinearizable(ops, time.Minute, t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		stale := workload.StaleReads(ops)
		t.Logf("round %d: %d operations (%s): porcupine says %s; %d reads missed an acknowledged write",
			round, len(ops), rec.Stats(), res, len(stale))
		if res == porcupine.Illegal {
			for i, op := range stale[:min(len(stale), 3)] {
				t.Logf("  stale read %d: %s", i+1, op)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("reads without consistency=linearizable produced no violation the checker could see in %d rounds", round)
		}
	}
}

// lagFollower pauses a follower for a second, long enough for the others
// to commit writes it has not seen, then resumes it.
func lagFollower(ctx context.Context, c *testcluster.Cluster) error {
	leader, err := c.WaitLeader(ctx)
	if err != nil {
		return err
	}
	f := c.Followers(leader)[0]
	if err := f.Pause(); err != nil {
		return err
	}
	time.Sleep(time.Second)
	if err := f.Resume(); err != nil {
		return err
	}
	time.Sleep(2 * time.Second)
	return nil
}
