package fsm

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/shoal-io/shoal/api"
)

func registerCmd(h *harness, id string) *JobRegisterRequest {
	return &JobRegisterRequest{Job: newJob(id, api.JobTypeBatch, h.now()), EvalID: "ev-" + id, Now: h.now()}
}

// assertJobs checks which of the given jobs exist, each with exactly one
// history event and its evaluation.
func assertJobs(t *testing.T, h *harness, present, absent []string) {
	t.Helper()
	txn := h.txn()
	for _, id := range present {
		if _, err := txn.Job(id); err != nil {
			t.Fatalf("job %s: %v", id, err)
		}
		if evs, _, _ := txn.History(id, HistoryQuery{}); len(evs) != 1 {
			t.Fatalf("job %s has %d events, want 1", id, len(evs))
		}
	}
	for _, id := range absent {
		if _, err := txn.Job(id); !errors.Is(err, api.ErrNotFound) {
			t.Fatalf("job %s exists: %v", id, err)
		}
		if _, err := txn.Eval("ev-" + id); !errors.Is(err, api.ErrNotFound) {
			t.Fatalf("eval of %s exists", id)
		}
		if evs, _ := txn.EvalsByJob(id); len(evs) != 0 {
			t.Fatalf("job %s has evals %v", id, evs)
		}
	}
	jobs, _, evals, _ := txn.Counts()
	if jobs != len(present) || evals != len(present) {
		t.Fatalf("counts: %d jobs, %d evals, want %d of each", jobs, evals, len(present))
	}
}

func TestBatchIsolatesFailingCommands(t *testing.T) {
	h := newHarness(t)
	garbage := []byte{byte(MsgJobRegister), '{', 'x'}
	var entries [][]byte
	for _, c := range []Command{
		registerCmd(h, "j-1"),
		registerCmd(h, "j-1"), // conflict
		registerCmd(h, "j-2"),
		&JobStopRequest{JobID: "j-404", EvalID: "ev-x"},
	} {
		b, _ := Encode(c)
		entries = append(entries, b)
	}
	entries = slices.Insert(entries, 3, garbage)
	rs, isBatch := h.applyRaw(EncodeBatch(entries)).([]Result)
	if !isBatch || len(rs) != 5 {
		t.Fatalf("batch answered %#v", rs)
	}
	wantErr := []error{nil, api.ErrConflict, nil, ErrUnknownCommand, api.ErrNotFound}
	for i, want := range wantErr {
		if want == nil && rs[i].Err != nil || want != nil && !errors.Is(rs[i].Err, want) {
			t.Fatalf("command %d: err = %v, want %v", i, rs[i].Err, want)
		}
		if (rs[i].Value != nil) != (want == nil) {
			t.Fatalf("command %d: value %v", i, rs[i].Value)
		}
	}
	assertJobs(t, h, []string{"j-1", "j-2"}, nil)
	if got := h.fsm.State().Index(); got != h.index {
		t.Fatalf("applied index %d, want %d", got, h.index)
	}
	evals, _, _ := h.obs.take()
	if len(evals) != 2 {
		t.Fatalf("observer heard %d evals, want 2", len(evals))
	}
}

// A command that fails after it wrote (no real command does; tests inject
// it) is rolled back alone: the batch is re-applied command by command.
func TestBatchRollsBackCommandFailingAfterWrite(t *testing.T) {
	h := newHarness(t)
	failRegisterOf(h, "j-2")
	rs := h.applyBatch(registerCmd(h, "j-1"), registerCmd(h, "j-2"), registerCmd(h, "j-3"))
	for i, wantErr := range []bool{false, true, false} {
		if (rs[i].Err != nil) != wantErr {
			t.Fatalf("command %d: err = %v", i, rs[i].Err)
		}
	}
	assertJobs(t, h, []string{"j-1", "j-3"}, []string{"j-2"})
	evals, _, _ := h.obs.take()
	var ids []string
	for _, e := range evals {
		ids = append(ids, e.ID)
	}
	if !slices.Equal(ids, []string{"ev-j-1", "ev-j-3"}) {
		t.Fatalf("observer heard %v", ids)
	}

	// The same failure on a single-command entry leaves nothing either, but
	// the index moves.
	r := h.apply(registerCmd(h, "j-2"))
	if r.Err == nil {
		t.Fatal("injected failure not reported")
	}
	assertJobs(t, h, []string{"j-1", "j-3"}, []string{"j-2"})
	if got := h.fsm.State().Index(); got != h.index {
		t.Fatalf("applied index %d, want %d", got, h.index)
	}
}

func TestApplyUndecodableEntries(t *testing.T) {
	tests := []struct {
		name  string
		entry []byte
	}{
		{"empty", nil},
		{"unknown type", []byte{99, '{', '}'}},
		{"bad json", []byte{byte(MsgNodeRegister), '['}},
		{"truncated batch", []byte{byte(MsgBatch), 0x10, 'a'}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			digest := h.digest()
			r, isResult := h.applyRaw(tt.entry).(Result)
			if !isResult || !errors.Is(r.Err, ErrUnknownCommand) {
				t.Fatalf("answer %#v, want a Result wrapping ErrUnknownCommand", r)
			}
			if got := h.fsm.State().Index(); got != 1 {
				t.Fatalf("applied index %d, want 1", got)
			}
			// The index moved; the replicated content did not.
			if h.digest() != digest {
				t.Fatal("an undecodable entry changed the state")
			}
		})
	}
}

func TestBatchOfManyCommandsSeesEarlierOnes(t *testing.T) {
	h := newHarness(t)
	h.registerNode("n-1", cpu(2))
	var cmds []Command
	for i := range 5 {
		cmds = append(cmds, registerCmd(h, fmt.Sprintf("j-%d", i)))
	}
	// Later commands in the entry build on earlier ones.
	cmds = append(cmds,
		&Plan{JobID: "j-0", JobRevision: 1, NewExecutions: []*api.Execution{newExec("e-1", "j-0", "n-1", 1.5, api.ExecutionStateBidAccepted)}, Now: h.now()},
		&Plan{JobID: "j-1", JobRevision: 1, NewExecutions: []*api.Execution{newExec("e-2", "j-1", "n-1", 1, api.ExecutionStateBidAccepted)}, Now: h.now()},
		&JobStopRequest{JobID: "j-2", EvalID: "ev-stop", Now: h.now()},
	)
	rs := h.applyBatch(cmds...)
	for i, r := range rs {
		if r.Err != nil {
			t.Fatalf("command %d: %v", i, r.Err)
		}
	}
	if rej := rs[6].Value.(*PlanResult).RejectedPlacements; len(rej) != 1 {
		t.Fatalf("second plan should not fit beside the first: %v", rej)
	}
	if h.job("j-2").State.StateType != api.JobStateTypeStopped {
		t.Fatal("stop in the same batch as the create did not apply")
	}
}

// failRegisterOf makes the register of jobID fail after it has written, as
// no real command does, to exercise the rollback path.
func failRegisterOf(h *harness, jobID string) {
	h.fsm.ac.injectFailure = func(c Command) error {
		if r, isReg := c.(*JobRegisterRequest); isReg && r.Job.ID == jobID {
			return errors.New("injected failure")
		}
		return nil
	}
}
