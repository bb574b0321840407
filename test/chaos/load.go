package chaos

import (
	"context"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/shoal-io/shoal/api"
	"github.com/shoal-io/shoal/test/workload"
)

// Client IDs of the workload's roles (register clients are 0..n-1).
const (
	clientBatch     = 100 // submits noop and wasm batch jobs
	clientPoller    = 101 // reads batch jobs' states
	clientHealWrite = 102 // the #695 writes
)

// registerJob is a job of the register workload: it waits for a node no
// cluster has, so only the workload changes its state (created, stopped).
func registerJob(run, token string) *api.Job {
	j := workload.NoopJob(run, token, 1)
	j.Constraints = []*api.LabelSelectorRequirement{{Key: "chaos-never", Operator: "=", Values: []string{"true"}}}
	j.Tasks[0].Timeouts = &api.TimeoutConfig{QueueTimeout: 24 * 3600}
	return j
}

// wasmJob runs the hello-wasm example, fetched from the suite's own HTTP
// server so that the module does not travel inside every job.
func wasmJob(run, token, moduleURL string) *api.Job {
	j := workload.NoopJob(run, token, 1)
	j.Tasks[0].Engine = &api.SpecConfig{Type: api.EngineWasm, Params: map[string]any{
		"EntryModule": &api.InputSource{
			Source: &api.SpecConfig{Type: api.StorageURLDownload, Params: map[string]any{"URL": moduleURL}},
			Target: "/hello.wasm",
		},
		"Parameters": []string{token},
	}}
	j.Tasks[0].Resources = &api.ResourcesConfig{CPU: "50m", Memory: "64mb"}
	j.Tasks[0].Timeouts = &api.TimeoutConfig{ExecutionTimeout: 120}
	return j
}

type knownJob struct{ token, id string }

// Load is the workload of a chaos run.
type Load struct {
	c         *Cluster
	rec       *workload.Recorder
	run       string
	clients   int
	moduleURL string // "" skips wasm jobs

	mu       sync.Mutex
	register []knownJob
	batch    []knownJob
	terminal map[string]bool // batch jobs seen terminal
}

func (l *Load) remember(list *[]knownJob, j knownJob) {
	l.mu.Lock()
	defer l.mu.Unlock()
	*list = append(*list, j)
}

func (l *Load) pick(r *rand.Rand) (knownJob, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.register) == 0 {
		return knownJob{}, false
	}
	// Mostly recent jobs: that is where writes race with reads.
	return l.register[max(0, len(l.register)-1-r.IntN(min(len(l.register), 20)))], true
}

// Batch returns the acknowledged batch jobs.
func (l *Load) Batch() []knownJob {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]knownJob(nil), l.batch...)
}

// Start runs the workload until ctx ends; the returned function waits for
// every client to finish the operation it is in.
//
// Clients stop starting operations once stop ends; the operations use ctx.
func (l *Load) Start(ctx, stop context.Context, seed uint64) (wait func()) {
	var wg sync.WaitGroup
	replicas := names(l.c.Replicas())
	for id := range l.clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l.registerClient(ctx, stop, id, replicas[id%len(replicas)], rand.New(rand.NewPCG(seed, uint64(id))))
		}()
	}
	wg.Add(2)
	go func() {
		defer wg.Done()
		l.batchClient(ctx, stop, rand.New(rand.NewPCG(seed, clientBatch)))
	}()
	go func() {
		defer wg.Done()
		l.poller(ctx, stop, rand.New(rand.NewPCG(seed, clientPoller)))
	}()
	return wg.Wait
}

// registerClient is pinned to one replica: it creates jobs with idempotency
// keys (retrying an unknown outcome with the same key), stops about half,
// and reads its own and other clients' jobs, linearizably and locally.
func (l *Load) registerClient(ctx, stop context.Context, id int, replica string, r *rand.Rand) {
	c := &workload.Client{ID: id, Rec: l.rec, Timeout: 10 * time.Second}
	pinned := func() []workload.Target { return []workload.Target{l.c.Target(replica)} }
	for n := 0; stop.Err() == nil; n++ {
		token := workload.Token(l.run, id, n)
		cctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		op := c.CreateUntilDone(cctx, pinned, 0, token, registerJob(l.run, token))
		cancel()
		t := l.c.Target(replica)
		if op.Outcome == workload.OK {
			l.remember(&l.register, knownJob{token, op.JobID})
			c.Describe(ctx, t, token, op.JobID, true)
			if r.IntN(2) == 0 {
				c.Stop(ctx, t, token, op.JobID)
				c.Describe(ctx, t, token, op.JobID, true)
			}
			c.Describe(ctx, t, token, op.JobID, false)
		}
		// Other clients' jobs, whether or not this replica could write:
		// a replica cut off from the leader must not answer a
		// linearizable read from its stale state.
		if j, ok := l.pick(r); ok {
			c.Describe(ctx, t, j.token, j.id, r.IntN(4) != 0)
		}
		// A little think time keeps the history (and porcupine's work)
		// proportionate on a small host.
		select {
		case <-stop.Done():
		case <-time.After(time.Duration(r.IntN(60)) * time.Millisecond):
		}
	}
}

// batchClient submits batch jobs that run on the compute nodes: noop jobs
// of Count 1 and 2, and wasm jobs, through any replica.
func (l *Load) batchClient(ctx, stop context.Context, r *rand.Rand) {
	c := &workload.Client{ID: clientBatch, Rec: l.rec, Timeout: 10 * time.Second}
	all := func() []workload.Target {
		var ts []workload.Target
		for _, n := range l.c.Replicas() {
			ts = append(ts, l.c.Target(n.Name))
		}
		return ts
	}
	for n := 0; stop.Err() == nil; n++ {
		token := workload.Token(l.run, clientBatch, n)
		var job *api.Job
		switch k := r.IntN(4); {
		case k == 0 && l.moduleURL != "":
			job = wasmJob(l.run, token, l.moduleURL)
		case k == 1:
			job = workload.NoopJob(l.run, token, 2)
		default:
			job = workload.NoopJob(l.run, token, 1)
		}
		cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		op := c.CreateUntilDone(cctx, all, n, token, job)
		cancel()
		if op.Outcome == workload.OK {
			l.remember(&l.batch, knownJob{token, op.JobID})
		}
		select {
		case <-stop.Done():
		case <-time.After(time.Duration(700+r.IntN(1000)) * time.Millisecond):
		}
	}
}

// poller reads batch jobs on random replicas (local reads): the states it
// sees feed the check that a terminal job never changes state again.
func (l *Load) poller(ctx, stop context.Context, r *rand.Rand) {
	c := &workload.Client{ID: clientPoller, Rec: l.rec, Timeout: 5 * time.Second}
	replicas := names(l.c.Replicas())
	for stop.Err() == nil {
		jobs := l.Batch()
		r.Shuffle(len(jobs), func(i, j int) { jobs[i], jobs[j] = jobs[j], jobs[i] })
		for _, j := range jobs[:min(len(jobs), 8)] {
			op := c.Describe(ctx, l.c.Target(replicas[r.IntN(len(replicas))]), j.token, j.id, r.IntN(3) == 0)
			if op.Outcome == workload.OK && op.Found && op.JobState.IsTerminal() {
				l.mu.Lock()
				if l.terminal == nil {
					l.terminal = map[string]bool{}
				}
				l.terminal[j.id] = true
				l.mu.Unlock()
			}
		}
		select {
		case <-stop.Done():
		case <-time.After(time.Second):
		}
	}
}

// TermSample is one replica's own report of its term and role.
type TermSample struct {
	At      time.Time `json:"at"`
	Replica string    `json:"replica"`
	Term    uint64    `json:"term"`
	State   string    `json:"state"`
}

// PollTerms asks every replica for its term and role every interval until
// ctx ends, and returns what they said.
func PollTerms(ctx context.Context, c *Cluster, interval time.Duration) (samples func() []TermSample) {
	var mu sync.Mutex
	var out []TermSample
	for _, n := range c.Replicas() {
		go func() {
			for ctx.Err() == nil {
				if r, err := c.Raft(ctx, n.Name); err == nil && r.Term > 0 {
					mu.Lock()
					out = append(out, TermSample{At: time.Now(), Replica: n.Name, Term: r.Term, State: r.State})
					mu.Unlock()
				}
				select {
				case <-ctx.Done():
				case <-time.After(interval):
				}
			}
		}()
	}
	return func() []TermSample {
		mu.Lock()
		defer mu.Unlock()
		return append([]TermSample(nil), out...)
	}
}
