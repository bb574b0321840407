package compute

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/shoal-io/shoal/api"
	"github.com/shoal-io/shoal/compute/engine"
	"github.com/shoal-io/shoal/compute/input"
	"github.com/shoal-io/shoal/compute/publisher"
)

// finalFile keeps an execution's final report in its working folder, so a
// node restarted before the report was accepted sends it again.
const finalFile = "final.json"

// cannotRun says why the node cannot run an execution's task, or "".
func (n *Node) cannotRun(ae *api.AssignedExecution) string {
	if !validID(ae.Execution.ID) {
		return fmt.Sprintf("invalid execution ID %q", ae.Execution.ID)
	}
	task := ae.Job.Task()
	if task == nil {
		return "job has no task"
	}
	if task.Engine == nil || strings.TrimSpace(task.Engine.Type) == "" {
		return "task has no engine"
	}
	eng := n.engines[strings.ToLower(strings.TrimSpace(task.Engine.Type))]
	if eng == nil {
		return fmt.Sprintf("engine %q is not enabled on node %s (enabled: %s)",
			task.Engine.Type, n.cfg.NodeID, strings.Join(n.engineNames(), ", "))
	}
	if v, ok := eng.(engine.Validator); ok {
		if err := v.Validate(task); err != nil {
			return err.Error()
		}
	}
	if task.Publisher != nil && strings.TrimSpace(task.Publisher.Type) != "" &&
		!supported(publisher.Types(), task.Publisher.Type) {
		return fmt.Sprintf("publisher %q is not supported on node %s", task.Publisher.Type, n.cfg.NodeID)
	}
	for _, src := range task.InputSources {
		if src == nil || src.Source == nil {
			return "task has an input source without a Source"
		}
		if !n.fetcher.Supports(src.Source.Type) {
			return fmt.Sprintf("input source type %q is not supported on node %s", src.Source.Type, n.cfg.NodeID)
		}
	}
	return ""
}

// start runs an approved execution in its own goroutine.
func (n *Node) start(ctx context.Context, ae *api.AssignedExecution, index uint64) {
	runCtx, cancel := context.WithCancel(ctx)
	e := &localExec{id: ae.Execution.ID, phase: phaseRunning, seenIndex: index, cancel: cancel, done: make(chan struct{})}
	n.execs.put(e)
	n.journal.record(e.id, n.execs.running)
	n.runs.Add(1)
	go func() {
		defer n.runs.Done()
		defer close(e.done)
		defer cancel()
		began := time.Now()
		final := n.execute(runCtx, e, ae)
		if final != nil {
			n.metrics.executionEnded(final.ComputeState.String(), time.Since(began))
		}
		if n.execs.finish(e, final) {
			n.reporter.enqueue(*final)
		}
	}()
}

// execute runs one execution to its end and returns its final report, or
// nil when it was stopped (the cluster gave up on it, or the node stops).
func (n *Node) execute(ctx context.Context, e *localExec, ae *api.AssignedExecution) *api.ExecutionUpdate {
	id := ae.Execution.ID
	failed := func(msg string, out *api.RunCommandResult) *api.ExecutionUpdate {
		return &api.ExecutionUpdate{ExecutionID: id, ComputeState: api.ExecutionStateFailed, Message: msg, RunOutput: out}
	}
	if reason := n.cannotRun(ae); reason != "" {
		return failed(reason, nil)
	}
	task := ae.Job.Task()
	eng := n.engines[strings.ToLower(strings.TrimSpace(task.Engine.Type))]
	limits, err := taskLimits(ae.Execution, task)
	if err != nil {
		return failed(err.Error(), nil)
	}
	ec := &engine.ExecutionContext{ExecutionID: id, NodeID: n.cfg.NodeID, Job: ae.Job, Task: task, Limits: limits}
	engineCtx, cancel := executionDeadline(ctx, task)
	defer cancel()

	if isTrivial(task) {
		// The noop fast path: no folder, no files, no publishing, so
		// load tests measure the cluster rather than this disk.
		ec.Stdout, ec.Stderr = io.Discard, io.Discard
		res, err := eng.Run(engineCtx, ec)
		return n.conclude(ctx, engineCtx, task, id, res, err, &api.RunCommandResult{}, nil)
	}

	dir := n.execDir(id)
	// A service restarted after a node restart starts afresh.
	if err := os.RemoveAll(dir); err != nil {
		return failed(fmt.Sprintf("preparing working folder: %v", err), nil)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return failed(fmt.Sprintf("preparing working folder: %v", err), nil)
	}
	ec.WorkDir = filepath.Join(dir, "work")
	if err := os.MkdirAll(ec.WorkDir, 0o755); err != nil {
		return failed(fmt.Sprintf("preparing working folder: %v", err), nil)
	}
	capture, err := newOutputCapture(dir, n.cfg.MaxOutputBytes)
	if err != nil {
		return failed(fmt.Sprintf("preparing output files: %v", err), nil)
	}
	n.execs.mu.Lock()
	e.output = capture
	n.execs.mu.Unlock()
	ec.Stdout, ec.Stderr = capture.stdout, capture.stderr

	final := n.prepareAndRun(ctx, engineCtx, eng, ec, capture)
	if final != nil {
		n.saveFinal(id, final)
	}
	// What stays is the output (for the logs endpoint) and the final
	// report; the results are in the tarball if they were published.
	for _, sub := range []string{"inputs", "work", "outputs"} {
		if err := os.RemoveAll(filepath.Join(dir, sub)); err != nil {
			n.log.Warn("could not clean up after an execution", "execution", id, "err", err)
		}
	}
	return final
}

// prepareAndRun fetches inputs, runs the engine and publishes.
func (n *Node) prepareAndRun(ctx, engineCtx context.Context, eng engine.Engine, ec *engine.ExecutionContext, capture *outputCapture) *api.ExecutionUpdate {
	task, id := ec.Task, ec.ExecutionID
	dir := n.execDir(id)
	var runErr error
	for i, src := range task.InputSources {
		m, err := n.fetcher.Fetch(engineCtx, src, filepath.Join(dir, "inputs", fmt.Sprint(i)))
		if err != nil {
			runErr = fmt.Errorf("fetching %s: %w", input.Describe(src), err)
			break
		}
		ec.Inputs = append(ec.Inputs, m)
	}
	var results []publisher.ResultDir
	if runErr == nil {
		for _, rp := range task.ResultPaths {
			if rp == nil {
				continue
			}
			m, err := prepareResultDir(dir, rp)
			if err != nil {
				runErr = err
				break
			}
			ec.Outputs = append(ec.Outputs, m)
			results = append(results, publisher.ResultDir{Name: rp.Name, Dir: m.Source})
		}
	}
	var res *engine.Result
	if runErr == nil {
		res, runErr = eng.Run(engineCtx, ec)
	}
	out := capture.close()
	pub := func(exitCode int) (*api.SpecConfig, error) {
		// Publishing is not part of the task's own time limit.
		return n.publish(ctx, task, &publisher.Request{ExecutionID: id, ExitCode: exitCode,
			StdoutPath: filepath.Join(dir, stdoutFile), StderrPath: filepath.Join(dir, stderrFile), Results: results})
	}
	return n.conclude(ctx, engineCtx, task, id, res, runErr, out, pub)
}

// conclude turns how a run ended into the final report. ctx is the
// execution's (ended: stopped, report nothing), engineCtx adds the
// execution timeout.
func (n *Node) conclude(ctx, engineCtx context.Context, task *api.Task, id string, res *engine.Result,
	runErr error, out *api.RunCommandResult, publish func(int) (*api.SpecConfig, error)) *api.ExecutionUpdate {
	if ctx.Err() != nil {
		return nil
	}
	u := &api.ExecutionUpdate{ExecutionID: id, ComputeState: api.ExecutionStateFailed, RunOutput: out}
	if runErr != nil {
		u.Message = runErr.Error()
		if errors.Is(engineCtx.Err(), context.DeadlineExceeded) {
			u.Message = fmt.Sprintf("execution timed out after %ds", task.Timeouts.ExecutionTimeout)
		}
		out.ErrorMsg = u.Message
		out.ExitCode = -1
		return u
	}
	out.ExitCode = res.ExitCode
	if publish != nil {
		published, err := publish(res.ExitCode)
		if err != nil {
			u.Message = fmt.Sprintf("publishing results: %v", err)
			out.ErrorMsg = u.Message
			return u
		}
		u.PublishedResult = published
	} else {
		u.PublishedResult = &api.SpecConfig{Type: ""}
	}
	if res.ExitCode != 0 {
		u.Message = fmt.Sprintf("exit code %d", res.ExitCode)
		return u
	}
	u.ComputeState = api.ExecutionStateCompleted
	return u
}

func (n *Node) publish(ctx context.Context, task *api.Task, req *publisher.Request) (*api.SpecConfig, error) {
	var p publisher.Publisher = publisher.Noop{}
	if task.Publisher != nil && strings.EqualFold(strings.TrimSpace(task.Publisher.Type), publisher.TypeLocal) {
		p = n.local
	}
	return p.Publish(ctx, req)
}

// executionDeadline applies the task's execution timeout (seconds; 0 none).
func executionDeadline(ctx context.Context, task *api.Task) (context.Context, context.CancelFunc) {
	if task.Timeouts != nil && task.Timeouts.ExecutionTimeout > 0 {
		return context.WithTimeout(ctx, secondsDuration(task.Timeouts.ExecutionTimeout))
	}
	return context.WithCancel(ctx)
}

// isTrivial reports whether a task needs no files at all: noop engine, no
// inputs, no results, nothing to publish.
func isTrivial(task *api.Task) bool {
	return strings.EqualFold(strings.TrimSpace(task.Engine.Type), engine.TypeNoop) &&
		len(task.InputSources) == 0 && len(task.ResultPaths) == 0 &&
		(task.Publisher == nil || !strings.EqualFold(strings.TrimSpace(task.Publisher.Type), publisher.TypeLocal))
}

// prepareResultDir creates a result path's host folder, writable by any
// user the task runs as.
func prepareResultDir(dir string, rp *api.ResultPath) (engine.Mount, error) {
	if !validID(rp.Name) {
		return engine.Mount{}, api.BadRequestf("result path name %q may only hold letters, digits, '.', '_' and '-'", rp.Name)
	}
	if !strings.HasPrefix(rp.Path, "/") {
		return engine.Mount{}, api.BadRequestf("result path %q is not absolute", rp.Path)
	}
	host := filepath.Join(dir, "outputs", rp.Name)
	if err := os.MkdirAll(host, 0o755); err != nil {
		return engine.Mount{}, err
	}
	// MkdirAll honours the umask; containers may not run as our user.
	if err := os.Chmod(host, 0o777); err != nil {
		return engine.Mount{}, err
	}
	return engine.Mount{Source: host, Target: rp.Path, IsDir: true}, nil
}

func (n *Node) saveFinal(id string, u *api.ExecutionUpdate) {
	data, err := json.Marshal(u)
	if err == nil {
		err = os.WriteFile(filepath.Join(n.execDir(id), finalFile), data, 0o644)
	}
	if err != nil {
		n.log.Warn("could not save final report", "execution", id, "err", err)
	}
}

func (n *Node) loadFinal(id string) *api.ExecutionUpdate {
	if !validID(id) {
		return nil
	}
	data, err := os.ReadFile(filepath.Join(n.execDir(id), finalFile))
	if err != nil {
		return nil
	}
	var u api.ExecutionUpdate
	if err := json.Unmarshal(data, &u); err != nil || u.ExecutionID != id {
		return nil
	}
	return &u
}

// secondsDuration converts a timeout in seconds, saturating instead of
// overflowing for absurd values (upstream's "no timeout" was ~292 years).
func secondsDuration(s int64) time.Duration {
	const maxSeconds = int64(math.MaxInt64 / int64(time.Second))
	if s > maxSeconds {
		s = maxSeconds
	}
	return time.Duration(s) * time.Second
}
