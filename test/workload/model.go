package workload

import (
	"fmt"
	"math"
	"net/http"
	"os"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/shoal-io/shoal/api"
)

// jobRegister is the model's state of one logical job (one token): a
// register that goes absent → created → stopped.
type jobRegister struct {
	Exists bool
	// JobID is the ID the job was acknowledged with; empty while the only
	// create that may have made it had an unknown outcome.
	JobID   string
	Stopped bool
}

// JobModel is the sequential specification the history must be
// linearizable against, partitioned by token: each job is independent.
//
//   - create: makes the job if absent; a repeat with the same token changes
//     nothing and must answer the same job ID;
//   - stop: acknowledged only for an existing job, which becomes stopped;
//     a 404 only when the job does not exist;
//   - describe: not found exactly while the job is absent, Stopped exactly
//     when it was stopped.
//
// An operation whose outcome is unknown may take effect at any time after
// it was sent, or never: it is given an infinite return time and applied
// when the checker places it. Operations that failed for sure had no effect
// and are left out, except a stop's 404, which is a read.
var JobModel = porcupine.Model{
	Partition: func(history []porcupine.Operation) [][]porcupine.Operation {
		byToken := map[string][]porcupine.Operation{}
		var order []string
		for _, op := range history {
			token := op.Input.(Op).Token
			if _, ok := byToken[token]; !ok {
				order = append(order, token)
			}
			byToken[token] = append(byToken[token], op)
		}
		out := make([][]porcupine.Operation, 0, len(order))
		for _, token := range order {
			out = append(out, byToken[token])
		}
		return out
	},
	Init: func() any { return jobRegister{} },
	Step: func(state, input, _ any) (bool, any) {
		return step(state.(jobRegister), input.(Op))
	},
	DescribeOperation: func(input, _ any) string {
		op := input.(Op)
		return op.String()
	},
	DescribeState: func(state any) string {
		s := state.(jobRegister)
		switch {
		case !s.Exists:
			return "absent"
		case s.Stopped:
			return "stopped " + s.JobID
		}
		return "created " + s.JobID
	},
}

func step(s jobRegister, op Op) (bool, any) {
	sameJob := func(id string) bool { return s.JobID == "" || s.JobID == id }
	switch op.Kind {
	case KindCreate:
		if op.Outcome == Unknown {
			if !s.Exists {
				return true, jobRegister{Exists: true}
			}
			return true, s
		}
		if !s.Exists {
			return true, jobRegister{Exists: true, JobID: op.JobID}
		}
		if !sameJob(op.JobID) {
			return false, s
		}
		s.JobID = op.JobID
		return true, s
	case KindStop:
		if op.Outcome == Failed { // only 404s get here
			return !s.Exists, s
		}
		if op.Outcome == Unknown {
			if s.Exists {
				s.Stopped = true
			}
			return true, s
		}
		if !s.Exists || !sameJob(op.JobID) {
			return false, s
		}
		s.Stopped = true
		return true, s
	case KindDescribe:
		if !op.Found {
			return !s.Exists, s
		}
		stopped := op.JobState == api.JobStateTypeStopped
		return s.Exists && sameJob(op.JobID) && s.Stopped == stopped, s
	}
	return false, s
}

// History turns recorded operations into porcupine's form: operations that
// had no effect are dropped, writes with an unknown outcome never return.
func History(ops []Op) []porcupine.Operation {
	if len(ops) == 0 {
		return nil
	}
	base := ops[0].Call
	for _, op := range ops {
		if op.Call.Before(base) {
			base = op.Call
		}
	}
	var out []porcupine.Operation
	for _, op := range ops {
		ret := op.Return.Sub(base).Nanoseconds()
		switch {
		case op.Kind == KindDescribe && op.Outcome != OK:
			continue // a read that got no answer changed nothing
		case op.Kind == KindStop && op.Outcome == Failed && op.Status != http.StatusNotFound:
			continue
		case op.Kind == KindCreate && op.Outcome == Failed:
			continue
		case op.Outcome == Unknown:
			ret = math.MaxInt64
		}
		out = append(out, porcupine.Operation{
			ClientId: op.Client,
			Input:    op,
			Call:     op.Call.Sub(base).Nanoseconds(),
			Output:   nil,
			Return:   ret,
		})
	}
	return out
}

// CheckLinearizable checks the history against JobModel. On anything but
// porcupine.Ok it writes porcupine's HTML visualization of the offending
// partitions to a file in dir and returns its path.
func CheckLinearizable(ops []Op, timeout time.Duration, dir string) (porcupine.CheckResult, string, error) {
	res, info := porcupine.CheckOperationsVerbose(JobModel, History(ops), timeout)
	if res == porcupine.Ok {
		return res, "", nil
	}
	f, err := os.CreateTemp(dir, "porcupine-*.html")
	if err != nil {
		return res, "", fmt.Errorf("create visualization file: %w", err)
	}
	defer f.Close()
	if err := porcupine.Visualize(JobModel, info, f); err != nil {
		return res, f.Name(), fmt.Errorf("write visualization: %w", err)
	}
	return res, f.Name(), nil
}
