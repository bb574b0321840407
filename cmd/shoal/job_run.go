package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/shoal-io/shoal/api"
	"github.com/shoal-io/shoal/api/client"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// runFlags are the flags of every command that submits a job: job run,
// docker run and wasm run.
type runFlags struct {
	wait            bool
	waitTimeout     time.Duration
	waitTimeoutSecs int
	idOnly          bool
	follow          bool
	dryRun          bool
}

func (r *runFlags) register(fs *pflag.FlagSet) {
	fs.BoolVar(&r.wait, "wait", true, "wait for the job to finish, showing its progress (--wait=false: submit and return)")
	fs.DurationVar(&r.waitTimeout, "wait-timeout", 10*time.Minute, "give up waiting after this long (0: no limit); the job keeps running (exit code 4)")
	fs.IntVar(&r.waitTimeoutSecs, "wait-timeout-secs", 0, "upstream's spelling of --wait-timeout, in seconds")
	_ = fs.MarkHidden("wait-timeout-secs")
	fs.BoolVar(&r.idOnly, "id-only", false, "print only the job ID on stdout (and still wait, quietly, unless --wait=false)")
	fs.BoolVarP(&r.follow, "follow", "f", false, "stream the job's logs once an execution starts, then wait for the job to end")
	fs.BoolVar(&r.dryRun, "dry-run", false, "check the job and print it as it would be sent (YAML); send nothing")
}

func (r *runFlags) check() error {
	if r.waitTimeoutSecs > 0 {
		r.waitTimeout = time.Duration(r.waitTimeoutSecs) * time.Second
	}
	if r.waitTimeout < 0 {
		return usageErrorf("invalid --wait-timeout %s: must not be negative", r.waitTimeout)
	}
	return nil
}

const runOutputHelp = `While waiting, progress (each execution state as it changes) and status go
to stderr; the job's own standard output goes to stdout, so
"shoal job run job.yaml > out.txt" keeps just what the job printed.
Ctrl-C stops waiting and leaves the job running.`

func newJobRunCommand(env *cliEnv) *cobra.Command {
	rf := &runFlags{}
	cmd := &cobra.Command{
		Use:   "run [FILE|-]",
		Short: "Submit a job from a YAML or JSON spec and wait for it",
		Long: `Submit a job written in YAML or JSON, either a bare job or wrapped as the API
request body ({Job: …}); "-" (or no file, with stdin not a terminal) reads
it from stdin. The spec is checked before anything is sent, with every
problem listed. A small spec:

  Type: batch
  Count: 1
  Tasks:
    - Name: main
      Engine:
        Type: docker
        Params: {Image: "ubuntu:22.04", Parameters: [echo, hello]}

By default the command waits for the job to end, printing each execution
state as it changes (read with blocking queries, not polling), then the
outcome and the standard output of the first execution.

` + runOutputHelp + `

` + exitCodesHelp,
		Example: `  shoal job run job.yaml
  cat job.json | shoal job run -
  shoal job run job.yaml --wait=false          # submit and return
  shoal job run job.yaml --id-only --wait=false # print just the job ID
  shoal job run job.yaml --follow              # stream its logs
  shoal job run job.yaml --dry-run             # check and print, send nothing`,
		Args: args(cobra.MaximumNArgs(1)),
		RunE: run(func(cmd *cobra.Command, a []string) error {
			if err := rf.check(); err != nil {
				return err
			}
			path := "-"
			if len(a) == 1 {
				path = a[0]
			} else if env.isTerminal(cmd.InOrStdin()) {
				return usageErrorf("give a job spec file, or - to read it from stdin")
			}
			job, err := readJobSpec(path, cmd.InOrStdin())
			if err != nil {
				return err
			}
			return env.submit(cmd, job, rf)
		}),
	}
	rf.register(cmd.Flags())
	return cmd
}

// submit checks and sends a job, then waits for it as the flags say.
func (e *cliEnv) submit(cmd *cobra.Command, job *api.Job, rf *runFlags) error {
	if err := prepareJob(job); err != nil {
		return err
	}
	if rf.dryRun {
		return printDryRun(cmd, job)
	}
	c, hosts, err := e.apiClient(cmd)
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	resp, _, err := c.Jobs().Put(ctx, &api.PutJobRequest{Job: job})
	if err != nil {
		return err
	}
	for _, w := range resp.Warnings {
		fmt.Fprintf(stderr(cmd), "Warning: %s\n", w)
	}
	id := resp.JobID
	if rf.idOnly {
		fmt.Fprintln(stdout(cmd), id)
	} else {
		fmt.Fprintf(stderr(cmd), "Job submitted: %s\n", id)
	}
	if !rf.wait && !rf.follow {
		if !rf.idOnly {
			fmt.Fprintf(stderr(cmd), "Check on it with: shoal job describe %s\n", id)
		}
		return nil
	}
	w := &jobWait{env: e, cmd: cmd, c: c, hosts: hosts, id: id, flags: rf,
		progress: &jobProgress{longRunning: job.IsLongRunning()}}
	return w.run(ctx)
}

// jobWait is one wait for a submitted job.
type jobWait struct {
	env      *cliEnv
	cmd      *cobra.Command
	c        *client.Client
	hosts    []string
	id       string
	flags    *runFlags
	progress *jobProgress
	// followed counts the log lines --follow printed; when there were none
	// (the stream opened before the output existed), the outcome prints the
	// recorded output instead.
	followed int
}

func (w *jobWait) run(ctx context.Context) error {
	waitCtx, cancel := ctx, context.CancelFunc(func() {})
	if w.flags.waitTimeout > 0 {
		waitCtx, cancel = context.WithTimeout(ctx, w.flags.waitTimeout)
	}
	defer cancel()
	errOut := stderr(w.cmd)
	var show func(*api.JobHistory)
	watcher := newHistoryWatcher(w.c.Jobs(), w.id)
	if !w.flags.idOnly {
		printer := &progressPrinter{w: errOut, env: w.env, st: newStyler(w.env, errOut, false)}
		show = printer.event
		watcher.idle = w.pendingReason(printer)
		fmt.Fprintln(errOut, "Waiting for the job (Ctrl-C stops waiting; the job keeps running):")
	}
	p := w.progress
	var err error
	if w.flags.follow {
		err = waitJob(waitCtx, watcher, p, show, func() bool { return p.running != "" || p.settled() })
		if err == nil && p.running != "" {
			if !w.flags.idOnly {
				fmt.Fprintf(errOut, "Logs of execution %s:\n", api.ShortID(p.running))
			}
			w.followed, err = w.env.streamLogs(waitCtx, w.cmd, w.hosts, logsRequest{jobID: w.id, executionID: p.running, follow: true})
			// The logs were the show; the rest of the progress would only
			// repeat that the execution ended.
			show = nil
		}
	}
	if err == nil {
		err = waitJob(waitCtx, watcher, p, show, p.settled)
	}
	if err != nil {
		return w.waitFailed(ctx, waitCtx, err)
	}
	return w.outcome(ctx)
}

// pendingReason shows why a pending job still waits (no node matches, the
// nodes are full), each new reason once: the job's state message says so,
// not its history.
func (w *jobWait) pendingReason(printer *progressPrinter) func(ctx context.Context) {
	last := ""
	return func(ctx context.Context) {
		resp, _, err := w.c.Jobs().Get(ctx, w.id, client.GetJobOptions{})
		if err != nil || resp.Job == nil {
			return // the history query that follows reports any trouble
		}
		s := resp.Job.State
		if s.StateType != api.JobStateTypePending || s.Message == "" || s.Message == last {
			return
		}
		last = s.Message
		printer.line(w.env.now(), "job", s.StateType.String(), "still waiting: "+flatten(s.Message))
	}
}

// waitFailed explains why waiting ended early, and that the job goes on.
func (w *jobWait) waitFailed(ctx, waitCtx context.Context, err error) error {
	switch {
	case ctx.Err() != nil:
		return &exitError{code: exitInterrupted, err: fmt.Errorf(
			"stopped waiting; job %s keeps running (stop it with: shoal job stop %s)", w.id, w.id)}
	case errors.Is(waitCtx.Err(), context.DeadlineExceeded):
		return &exitError{code: exitWaitTimeout, err: fmt.Errorf(
			"gave up waiting after %s: job %s is still %s (follow it with: shoal job describe %s; stop it with: shoal job stop %s)",
			w.flags.waitTimeout, w.id, w.progress.state, w.id, w.id)}
	}
	return fmt.Errorf("waiting for job %s: %w", w.id, err)
}

// printDryRun prints the job as it would be sent, and what the API would
// warn about.
func printDryRun(cmd *cobra.Command, job *api.Job) error {
	// Sanitize a copy: the job as sent keeps what the API will drop, so
	// its answer carries the same warnings.
	raw, err := json.Marshal(job)
	if err != nil {
		return fmt.Errorf("encoding the job: %w", err)
	}
	var probe api.Job
	if err := json.Unmarshal(raw, &probe); err != nil {
		return fmt.Errorf("decoding the job: %w", err)
	}
	for _, w := range probe.SanitizeSubmission() {
		fmt.Fprintf(stderr(cmd), "Warning: %s\n", w)
	}
	var shown map[string]any
	if err := json.Unmarshal(raw, &shown); err != nil {
		return fmt.Errorf("decoding the job: %w", err)
	}
	// What the API assigns is left out while unset, so the spec reads as
	// one a person would write (and can be run as it is).
	for key, unset := range map[string]bool{
		"ID": job.ID == "", "State": job.State == (api.State[api.JobStateType]{}), "Version": job.Version == 0,
		"Revision": job.Revision == 0, "CreateTime": job.CreateTime == 0, "ModifyTime": job.ModifyTime == 0,
	} {
		if unset {
			delete(shown, key)
		}
	}
	if err := printData(stdout(cmd), formatYAML, shown); err != nil {
		return err
	}
	fmt.Fprintln(stderr(cmd), "Dry run: the job is valid; nothing was sent.")
	return nil
}
