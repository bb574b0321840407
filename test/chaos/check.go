package chaos

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/shoal-io/shoal/api"
	"github.com/shoal-io/shoal/test/workload"
)

// Verdict is one checker's result.
type Verdict struct {
	Name    string
	OK      bool
	Summary string   // one line
	Details []string // the violations, or what was checked
}

func (v Verdict) String() string {
	word := "PASS"
	if !v.OK {
		word = "FAIL"
	}
	return fmt.Sprintf("%s  %-28s %s", word, v.Name, v.Summary)
}

func pass(name, format string, a ...any) Verdict {
	return Verdict{Name: name, OK: true, Summary: fmt.Sprintf(format, a...)}
}

func fail(name string, details []string, format string, a ...any) Verdict {
	return Verdict{Name: name, Summary: fmt.Sprintf(format, a...), Details: details}
}

// linearizableOps keeps what porcupine checks: writes, and reads that asked
// for linearizability (local reads may lag and are checked otherwise).
func linearizableOps(ops []workload.Op) []workload.Op {
	return slices.DeleteFunc(slices.Clone(ops), func(op workload.Op) bool {
		return op.Kind == workload.KindDescribe && !op.Linearizable
	})
}

// CheckLinearizable runs porcupine over the job register history and
// writes its visualisation to htmlPath whatever the result.
func CheckLinearizable(ops []workload.Op, timeout time.Duration, write func(porcupine.Model, porcupine.LinearizationInfo) error) Verdict {
	const name = "linearizable (porcupine)"
	lin := linearizableOps(ops)
	res, info := porcupine.CheckOperationsVerbose(workload.JobModel, workload.History(lin), timeout)
	werr := write(workload.JobModel, info)
	extra := ""
	if werr != nil {
		extra = fmt.Sprintf(" (visualisation not written: %v)", werr)
	}
	switch res {
	case porcupine.Ok:
		return pass(name, "%d operations linearizable%s", len(lin), extra)
	case porcupine.Unknown:
		return fail(name, nil, "porcupine timed out after %s on %d operations: undecided%s", timeout, len(lin), extra)
	}
	var details []string
	for _, op := range workload.StaleReads(lin) {
		details = append(details, "stale read: "+op.String())
	}
	return fail(name, details, "NOT linearizable: see porcupine.html; %d reads missed an acknowledged write%s", len(details), extra)
}

// CheckAcknowledged: every acknowledged create exists exactly once, and
// every acknowledged stop holds at the end.
func CheckAcknowledged(ops []workload.Op, jobs []*api.Job) Verdict {
	const name = "acknowledged writes kept"
	errs := workload.CheckCreates(ops, jobs)
	byID := map[string]*api.Job{}
	for _, j := range jobs {
		byID[j.ID] = j
	}
	stops := 0
	for _, op := range ops {
		if op.Kind != workload.KindStop || op.Outcome != workload.OK {
			continue
		}
		stops++
		j := byID[op.JobID]
		switch {
		case j == nil:
			errs = append(errs, fmt.Errorf("acknowledged stop of %s: the job is gone", op.JobID))
		case j.State.StateType != api.JobStateTypeStopped:
			errs = append(errs, fmt.Errorf("acknowledged stop of %s undone: the job ends %s", op.JobID, j.State.StateType))
		}
	}
	acked := len(workload.Acked(ops))
	if len(errs) == 0 {
		return pass(name, "%d acknowledged creates and %d acknowledged stops all hold (%d jobs in the cluster)", acked, stops, len(jobs))
	}
	return fail(name, errStrings(errs), "%d violations among %d acknowledged creates and %d stops", len(errs), acked, stops)
}

// CheckDigests waits until every replica reports the same digest at the
// same index.
func CheckDigests(ctx context.Context, c *Cluster, bound time.Duration) Verdict {
	const name = "replicas converge"
	ctx, cancel := context.WithTimeout(ctx, bound)
	defer cancel()
	var last []string
	for {
		var ds []api.DigestResponse
		last = last[:0]
		for _, n := range c.Replicas() {
			var d api.DigestResponse
			_, err := workload.GetJSON(ctx, c.Target(n.Name), "/api/v1/operator/digest", &d)
			if err != nil {
				last = append(last, fmt.Sprintf("%s: %v", n.Name, err))
				continue
			}
			ds = append(ds, d)
			last = append(last, fmt.Sprintf("%s: index %d digest %s", n.Name, d.Index, d.Digest))
		}
		if len(ds) == len(c.Replicas()) {
			same := true
			for _, d := range ds[1:] {
				same = same && d.Index == ds[0].Index
			}
			if same {
				for _, d := range ds[1:] {
					if d.Digest != ds[0].Digest {
						return fail(name, slices.Clone(last), "same index %d, different digests: the replicas diverged", ds[0].Index)
					}
				}
				return pass(name, "all %d replicas: digest %.12s… at index %d", len(ds), ds[0].Digest, ds[0].Index)
			}
		}
		select {
		case <-ctx.Done():
			return fail(name, slices.Clone(last), "no common index within %s", bound)
		case <-time.After(300 * time.Millisecond):
		}
	}
}

// CheckBatch waits until every acknowledged batch job is terminal, then
// checks Count-1 jobs for a second completed execution and that every job
// ended in the terminal state any read ever saw it in.
func CheckBatch(ctx context.Context, c *Cluster, ops []workload.Op, batch []knownJob, bound time.Duration) []Verdict {
	leader, err := c.WaitLeader(ctx, nil)
	if err != nil {
		v := fail("batch jobs terminal", nil, "no leader to read from: %v", err)
		return []Verdict{v}
	}
	t := c.Target(leader)
	deadline := time.Now().Add(bound)
	final := map[string]*api.Job{}
	var pending []string
	for {
		pending = pending[:0]
		for _, j := range batch {
			if f := final[j.id]; f != nil && f.State.StateType.IsTerminal() {
				continue
			}
			var out api.GetJobResponse
			if _, err := workload.GetJSON(ctx, t, "/api/v1/orchestrator/jobs/"+j.id+"?consistency=linearizable", &out); err != nil || out.Job == nil {
				pending = append(pending, fmt.Sprintf("%s: %v", j.id, err))
				continue
			}
			final[j.id] = out.Job
			if !out.Job.State.StateType.IsTerminal() {
				pending = append(pending, fmt.Sprintf("%s (%s) is %s: %s", j.id, j.token, out.Job.State.StateType, out.Job.State.Message))
			}
		}
		if len(pending) == 0 || time.Now().After(deadline) || ctx.Err() != nil {
			break
		}
		time.Sleep(time.Second)
	}
	var out []Verdict
	states := map[api.JobStateType]int{}
	for _, j := range final {
		states[j.State.StateType]++
	}
	if len(pending) == 0 {
		out = append(out, pass("batch jobs terminal", "all %d within %s of the heal: %v", len(batch), bound, states))
	} else {
		out = append(out, fail("batch jobs terminal", slices.Clone(pending), "%d of %d not terminal %s after the heal", len(pending), len(batch), bound))
	}

	var dup []string
	for _, j := range batch {
		f := final[j.id]
		if f == nil || f.Count != 1 {
			continue
		}
		execs, err := workload.JobExecutions(ctx, t, j.id)
		if err != nil {
			dup = append(dup, err.Error())
			continue
		}
		if err := workload.CheckBatchExecutions(f, execs, false); err != nil {
			dup = append(dup, err.Error())
		}
	}
	if len(dup) == 0 {
		out = append(out, pass("count-1 ran once", "no Count-1 batch job has more than one Completed execution"))
	} else {
		out = append(out, fail("count-1 ran once", dup, "%d batch jobs completed more often than their Count", len(dup)))
	}

	var changed []string
	seen := 0
	for _, op := range ops {
		if op.Kind != workload.KindDescribe || op.Outcome != workload.OK || !op.Found || !op.JobState.IsTerminal() {
			continue
		}
		f := final[op.JobID]
		if f == nil {
			continue // a register job: porcupine checks those
		}
		seen++
		if f.State.StateType != op.JobState {
			changed = append(changed, fmt.Sprintf("%s was read %s (%s), ends %s", op.JobID, op.JobState, op, f.State.StateType))
		}
	}
	if len(changed) == 0 {
		out = append(out, pass("terminal is final", "%d reads saw a batch job terminal; every one ended in that state", seen))
	} else {
		out = append(out, fail("terminal is final", changed, "%d reads saw a terminal state the job later left", len(changed)))
	}
	return out
}

// CheckTerms: no term has two replicas that report themselves leader.
func CheckTerms(samples []TermSample) Verdict {
	const name = "one leader per term"
	leaders := map[uint64]map[string]time.Time{}
	for _, s := range samples {
		if s.State != "Leader" {
			continue
		}
		if leaders[s.Term] == nil {
			leaders[s.Term] = map[string]time.Time{}
		}
		if _, ok := leaders[s.Term][s.Replica]; !ok {
			leaders[s.Term][s.Replica] = s.At
		}
	}
	var bad []string
	for term, who := range leaders {
		if len(who) > 1 {
			bad = append(bad, fmt.Sprintf("term %d: %v all reported Leader", term, who))
		}
	}
	slices.Sort(bad)
	if len(bad) == 0 {
		return pass(name, "%d reports, %d terms with a leader, never two", len(samples), len(leaders))
	}
	return fail(name, bad, "%d terms had two leaders", len(bad))
}

func errStrings(errs []error) []string {
	out := make([]string, len(errs))
	for i, e := range errs {
		out[i] = e.Error()
	}
	return out
}

// CheckLocalReads: a client reads its own writes on the replica it talks to,
// even without asking for linearizability (a follower answers a forwarded
// write only once it has applied it). Reads that a restart of that replica
// may have rolled back (a kill or churn window in between) are not judged.
func CheckLocalReads(ops []workload.Op, windows []Window) Verdict {
	const name = "local reads see own writes"
	restarted := func(target string, from, to time.Time) bool {
		for _, w := range windows {
			if (w.Nemesis == NemKill || w.Nemesis == NemChurn) && strings.Contains(w.Detail, target) &&
				w.Start.Before(to) && w.Healed.Add(30*time.Second).After(from) {
				return true
			}
		}
		return false
	}
	type write struct {
		target  string
		at      time.Time
		stopped bool
	}
	own := map[string]write{} // token → this client's acknowledged write, by the same client
	var bad []string
	checked := 0
	for _, op := range ops { // recording order is completion order per client
		if op.Outcome != workload.OK {
			continue
		}
		switch op.Kind {
		case workload.KindCreate:
			if _, ok := own[op.Token]; !ok {
				own[op.Token] = write{target: op.Target, at: op.Return}
			}
		case workload.KindStop:
			if w, ok := own[op.Token]; ok && w.target == op.Target {
				own[op.Token] = write{target: op.Target, at: op.Return, stopped: true}
			}
		case workload.KindDescribe:
			w, ok := own[op.Token]
			if op.Linearizable || !ok || w.target != op.Target || op.Client >= clientBatch ||
				!strings.Contains(op.Token, fmt.Sprintf("-c%d-", op.Client)) || restarted(op.Target, w.at, op.Call) {
				continue
			}
			checked++
			if !op.Found || (w.stopped && op.JobState != api.JobStateTypeStopped) {
				bad = append(bad, fmt.Sprintf("%s, after its own %s acknowledged by %s", op, map[bool]string{true: "stop", false: "create"}[w.stopped], w.target))
			}
		}
	}
	if len(bad) == 0 {
		return pass(name, "%d local reads of the client's own job on the replica that acknowledged it", checked)
	}
	return fail(name, bad, "%d of %d local reads missed the client's own acknowledged write", len(bad), checked)
}
