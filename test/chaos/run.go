package chaos

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/shoal-io/shoal/test/workload"
)

// Options of a run.
type Options struct {
	Cluster  *Cluster
	Duration time.Duration
	Seed     uint64
	Nemeses  []string
	Clients  int    // register clients, pinned to the replicas in turn
	Wasm     string // path of a WASI module to run as batch jobs; "" for none
	// ReportRoot is where chaos-report/<timestamp>/ is made.
	ReportRoot string
	Replay     string // the command that replays this run
	Logger     *slog.Logger
}

// Result of a run.
type Result struct {
	Summary Summary
	Dir     string // the report folder
}

// Run runs the workload under the nemeses' schedule, heals, checks and
// writes the report. The error is for a run that could not be carried out;
// violations are in Result.Summary.
func Run(ctx context.Context, o Options) (*Result, error) {
	c, log := o.Cluster, o.Logger
	if o.Clients == 0 {
		o.Clients = 6
	}
	started := time.Now()
	dir, err := reportDir(o.ReportRoot, started)
	if err != nil {
		return nil, err
	}
	sum := Summary{Seed: o.Seed, Nemeses: o.Nemeses, Duration: o.Duration, Project: c.Project, Started: started, Replay: o.Replay}

	moduleURL, stopServer, err := serveModule(ctx, c, o.Wasm)
	if err != nil {
		return nil, err
	}
	defer stopServer()
	if moduleURL == "" {
		sum.Notes = append(sum.Notes, "no WASI module: batch jobs are noop only")
	}

	rec := workload.NewRecorder()
	run := workload.NewRunID()
	sum.Run = run
	loadCtx, stopOps := context.WithCancel(ctx)
	defer stopOps()
	stop, stopLoad := context.WithCancel(ctx)
	defer stopLoad()
	terms := PollTerms(loadCtx, c, 250*time.Millisecond)
	load := &Load{c: c, rec: rec, run: run, clients: o.Clients, moduleURL: moduleURL}
	wait := load.Start(loadCtx, stop, o.Seed)
	env := &nemesisEnv{c: c, client: &workload.Client{ID: clientHealWrite, Rec: rec, Timeout: 10 * time.Second}, run: run}

	var windows []Window
	deadline := started.Add(o.Duration)
	for i, step := range Schedule(o.Seed, o.Nemeses, o.Duration) {
		if !sleepUntil(ctx, earlier(time.Now().Add(step.Quiet), deadline)) || time.Now().Add(step.Hold/2).After(deadline) {
			break
		}
		w := Window{Nemesis: step.Nemesis}
		w.Leader, _ = c.Leader(ctx)
		actx, cancel := context.WithTimeout(ctx, time.Minute)
		detail, heal, err := env.apply(actx, step.Nemesis, rand.New(rand.NewPCG(step.Seed, uint64(i))))
		cancel()
		// The window starts once the fault is in place: applying one takes
		// a few docker and nsenter calls.
		// A kill or pause takes effect part way through (before the
		// bookkeeping that follows it); a cut or qdisc when apply returns.
		w.Start, w.Detail = time.Now(), detail
		if at := env.faultAt(); !at.IsZero() {
			w.Start = at
		}
		if err != nil {
			w.Err = err.Error()
			log.Warn("nemesis failed to apply", "nemesis", step.Nemesis, "error", err)
		} else {
			log.Info("nemesis", "n", i+1, "nemesis", step.Nemesis, "detail", detail, "hold", step.Hold.Round(time.Millisecond))
		}
		sleepUntil(ctx, earlier(time.Now().Add(step.Hold), deadline))
		w.End = time.Now()
		hctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		if heal != nil {
			if err := heal(hctx); err != nil {
				w.HealErr = err.Error()
				log.Warn("heal failed", "nemesis", step.Nemesis, "error", err)
			}
		}
		if err := restore(hctx, c, env); err != nil {
			log.Warn("heal everything", "error", err)
		}
		cancel()
		w.Healed = time.Now()
		windows = append(windows, w)
		if ctx.Err() != nil {
			break
		}
	}

	// Everything healed: the workload goes on a little so that the
	// history shows the cluster serving again, then stops.
	hctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	if err := finalHeal(hctx, c); err != nil {
		sum.Notes = append(sum.Notes, "final heal: "+err.Error())
	}
	healedAt := time.Now()
	sleepUntil(ctx, time.Now().Add(10*time.Second))
	stopLoad()
	waitTimeout(wait, time.Minute)
	stopOps()
	log.Info("workload stopped; checking", "operations", len(rec.Ops()))

	var verdicts []Verdict
	var healErrs []string
	for _, w := range windows {
		if w.HealErr != "" {
			healErrs = append(healErrs, fmt.Sprintf("%s at %s: %s", w.Nemesis, w.Start.Sub(started).Round(time.Second), w.HealErr))
		}
		if w.Err != "" {
			sum.Notes = append(sum.Notes, fmt.Sprintf("%s at %s could not be applied: %s", w.Nemesis, w.Start.Sub(started).Round(time.Second), w.Err))
		}
	}
	if len(healErrs) == 0 {
		verdicts = append(verdicts, pass("every heal completes", "%d nemeses healed", len(windows)))
	} else {
		verdicts = append(verdicts, fail("every heal completes", healErrs, "%d of %d heals did not complete (a restarted or wiped node did not come back)", len(healErrs), len(windows)))
	}
	if err := c.WaitHealthy(hctx); err != nil {
		verdicts = append(verdicts, fail("cluster recovers", nil, "not healthy 3 minutes after the final heal: %v", err))
	} else {
		verdicts = append(verdicts, pass("cluster recovers", "healthy %s after the final heal", time.Since(healedAt).Round(100*time.Millisecond)))
	}
	ops := rec.Ops()
	checkCtx, cancelCheck := context.WithTimeout(ctx, 5*time.Minute)
	defer cancelCheck()
	leader, err := c.WaitLeader(checkCtx, nil)
	if err == nil {
		jobs, lerr := workload.ListRunJobs(checkCtx, c.Target(leader), run)
		if lerr != nil {
			verdicts = append(verdicts, fail("acknowledged writes kept", nil, "could not list the run's jobs: %v", lerr))
		} else {
			verdicts = append(verdicts, CheckAcknowledged(ops, jobs))
		}
	} else {
		verdicts = append(verdicts, fail("acknowledged writes kept", nil, "no leader after the heal: %v", err))
	}
	verdicts = append(verdicts, CheckLinearizable(ops, 3*time.Minute, func(m porcupine.Model, info porcupine.LinearizationInfo) error {
		f, err := os.Create(filepath.Join(dir, "porcupine.html"))
		if err != nil {
			return err
		}
		defer f.Close()
		return porcupine.Visualize(m, info, f)
	}))
	verdicts = append(verdicts, CheckDigests(checkCtx, c, time.Minute))
	verdicts = append(verdicts, CheckBatch(checkCtx, c, ops, load.Batch(), 2*time.Minute)...)
	verdicts = append(verdicts, CheckLocalReads(ops, windows))
	samples := terms()
	verdicts = append(verdicts, CheckTerms(samples))

	sum.Verdicts, sum.Stats, sum.Ops, sum.Batch = verdicts, rec.Stats(), len(ops), len(load.Batch())
	sum.Failover = Failovers(ops, windows, samples)
	var errs []error
	errs = append(errs, WriteHistory(filepath.Join(dir, "history.jsonl"), ops))
	errs = append(errs, writeJSONLines(filepath.Join(dir, "windows.json"), windows))
	errs = append(errs, writeJSONLines(filepath.Join(dir, "terms.jsonl"), samples))
	title := fmt.Sprintf("Shoal chaos %s, seed %d: latency of %d operations", run, o.Seed, len(ops))
	if err := PlotLatency(filepath.Join(dir, "latency.png"), ops, windows, started, title); err != nil {
		errs = append(errs, fmt.Errorf("latency.png: %w", err))
	}
	errs = append(errs, os.WriteFile(filepath.Join(dir, "summary.txt"), []byte(sum.String()), 0o644))
	return &Result{Summary: sum, Dir: dir}, errors.Join(errs...)
}

// restore brings back whatever a nemesis's own heal left broken (a heal
// that failed half way): cheap when nothing is.
func restore(ctx context.Context, c *Cluster, env *nemesisEnv) error {
	states, err := c.States(ctx)
	if err != nil {
		return err
	}
	var errs []error
	restarted := false
	for _, n := range c.Nodes {
		switch states[n.Name] {
		case "paused":
			_, err = docker(ctx, "unpause", n.Container)
		case "exited", "created", "dead":
			_, err = docker(ctx, "start", n.Container)
			restarted = true
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	if restarted {
		errs = append(errs, c.Refresh(ctx))
	}
	errs = append(errs, env.healAllNetworks(ctx))
	return errors.Join(errs...)
}

// finalHeal undoes every fault on every node: starts stopped containers,
// resumes paused ones, removes network rules and qdiscs.
func finalHeal(ctx context.Context, c *Cluster) error {
	var errs []error
	for _, n := range c.Nodes {
		status, err := docker(ctx, "inspect", "--format", "{{.State.Status}}", n.Container)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		switch status {
		case "paused":
			_, err = docker(ctx, "unpause", n.Container)
		case "exited", "created", "dead":
			_, err = docker(ctx, "start", n.Container)
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	if err := c.Refresh(ctx); err != nil {
		errs = append(errs, err)
	}
	for _, n := range c.Nodes {
		if err := c.HealNetwork(ctx, n.Name); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// serveModule serves the WASI module over HTTP on the host, at an address
// the containers reach (their network's gateway).
func serveModule(ctx context.Context, c *Cluster, path string) (string, func(), error) {
	if path == "" {
		return "", func() {}, nil
	}
	gw, err := c.Gateway(ctx)
	if err != nil {
		return "", nil, err
	}
	l, err := net.Listen("tcp", net.JoinHostPort(gw, "0"))
	if err != nil {
		return "", nil, fmt.Errorf("serve the wasm module on %s: %w", gw, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/hello.wasm", func(w http.ResponseWriter, r *http.Request) { http.ServeFile(w, r, path) })
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(l) }()
	return "http://" + l.Addr().String() + "/hello.wasm", func() { _ = srv.Close() }, nil
}

func sleepUntil(ctx context.Context, t time.Time) bool {
	select {
	case <-ctx.Done():
		return false
	case <-time.After(time.Until(t)):
		return true
	}
}

func waitTimeout(wait func(), d time.Duration) {
	done := make(chan struct{})
	go func() {
		wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(d):
	}
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
