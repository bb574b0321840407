package workload

import (
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/shoal-io/shoal/api"
)

// at builds an operation spanning [from, to] milliseconds after t0.
func at(from, to int, op Op) Op {
	t0 := time.Unix(1000, 0)
	op.Call = t0.Add(time.Duration(from) * time.Millisecond)
	op.Return = t0.Add(time.Duration(to) * time.Millisecond)
	if op.Token == "" {
		op.Token = "t1"
	}
	return op
}

func create(outcome Outcome, jobID string) Op {
	return Op{Kind: KindCreate, Outcome: outcome, JobID: jobID}
}

func stop(outcome Outcome, status int) Op {
	return Op{Kind: KindStop, Outcome: outcome, JobID: "j1", Status: status}
}

func describe(found bool, state api.JobStateType) Op {
	return Op{Kind: KindDescribe, Outcome: OK, JobID: "j1", Found: found, JobState: state, Linearizable: true}
}

func TestJobModel(t *testing.T) {
	pending, stopped := api.JobStateTypePending, api.JobStateTypeStopped
	tests := []struct {
		name string
		ops  []Op
		want porcupine.CheckResult
	}{
		{"create then read", []Op{
			at(0, 10, create(OK, "j1")),
			at(11, 12, describe(true, pending)),
		}, porcupine.Ok},
		{"stale read after an acknowledged create", []Op{
			at(0, 10, create(OK, "j1")),
			at(11, 12, describe(false, 0)),
		}, porcupine.Illegal},
		{"read concurrent with the create may miss it", []Op{
			at(0, 10, create(OK, "j1")),
			at(5, 12, describe(false, 0)),
		}, porcupine.Ok},
		{"stale read after an acknowledged stop", []Op{
			at(0, 10, create(OK, "j1")),
			at(20, 30, stop(OK, 200)),
			at(31, 32, describe(true, pending)),
		}, porcupine.Illegal},
		{"read goes back in time", []Op{
			at(0, 10, create(OK, "j1")),
			at(20, 40, stop(Unknown, 0)),
			at(21, 22, describe(true, stopped)),
			at(23, 24, describe(true, pending)),
		}, porcupine.Illegal},
		{"unknown stop may apply later", []Op{
			at(0, 10, create(OK, "j1")),
			at(20, 30, stop(Unknown, 0)),
			at(31, 32, describe(true, pending)),
			at(40, 41, describe(true, stopped)),
		}, porcupine.Ok},
		{"unknown stop may never apply", []Op{
			at(0, 10, create(OK, "j1")),
			at(20, 30, stop(Unknown, 0)),
			at(40, 41, describe(true, pending)),
		}, porcupine.Ok},
		{"retry after an unknown create returns the same job", []Op{
			at(0, 10, create(Unknown, "")),
			at(11, 20, create(OK, "j1")),
			at(21, 30, create(OK, "j1")),
		}, porcupine.Ok},
		{"retry answers a different job", []Op{
			at(0, 10, create(OK, "j1")),
			at(11, 20, create(OK, "j2")),
		}, porcupine.Illegal},
		{"stop 404 after an acknowledged create", []Op{
			at(0, 10, create(OK, "j1")),
			at(11, 20, stop(Failed, 404)),
		}, porcupine.Illegal},
		{"failed create leaves nothing, so a 404 is fine", []Op{
			at(0, 10, create(Failed, "")),
			at(11, 20, describe(false, 0)),
		}, porcupine.Ok},
		{"stopped read before any stop", []Op{
			at(0, 10, create(OK, "j1")),
			at(11, 12, describe(true, stopped)),
		}, porcupine.Illegal},
		{"jobs are independent", []Op{
			at(0, 10, create(OK, "j1")),
			at(0, 10, Op{Token: "t2", Kind: KindCreate, Outcome: OK, JobID: "j9"}),
			at(11, 12, Op{Token: "t2", Kind: KindDescribe, Outcome: OK, JobID: "j9", Found: true, JobState: pending}),
			at(11, 12, describe(true, pending)),
		}, porcupine.Ok},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, path, err := CheckLinearizable(tt.ops, 10*time.Second, t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Fatalf("CheckLinearizable = %s, want %s", got, tt.want)
			}
			if (got != porcupine.Ok) != (path != "") {
				t.Fatalf("visualization %q for result %s", path, got)
			}
		})
	}
}

func TestHistoryDropsOperationsWithoutEffect(t *testing.T) {
	ops := []Op{
		at(0, 10, create(Failed, "")),
		at(0, 10, create(Unknown, "")),
		at(0, 10, stop(Failed, 409)),
		at(0, 10, stop(Failed, 404)),
		at(0, 10, Op{Kind: KindDescribe, Outcome: Unknown}),
		at(0, 10, Op{Kind: KindDescribe, Outcome: Failed}),
		at(5, 10, describe(true, api.JobStateTypePending)),
	}
	h := History(ops)
	if len(h) != 3 {
		t.Fatalf("history has %d operations, want 3: %+v", len(h), h)
	}
	if h[0].Return != 1<<63-1 {
		t.Errorf("unknown create returns at %d, want never", h[0].Return)
	}
	if h[2].Call != int64(5*time.Millisecond) {
		t.Errorf("describe called at %d", h[2].Call)
	}
}
