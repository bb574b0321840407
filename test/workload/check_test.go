package workload

import (
	"strings"
	"testing"

	"github.com/shoal-io/shoal/api"
)

func job(id, token string) *api.Job {
	return &api.Job{ID: id, Count: 2, Labels: map[string]string{LabelToken: token}}
}

func TestCheckCreates(t *testing.T) {
	ok := func(token, id string) Op { return Op{Kind: KindCreate, Token: token, Outcome: OK, JobID: id} }
	failed := func(token string) Op { return Op{Kind: KindCreate, Token: token, Outcome: Failed} }
	unknown := func(token string) Op { return Op{Kind: KindCreate, Token: token, Outcome: Unknown} }
	tests := []struct {
		name    string
		ops     []Op
		jobs    []*api.Job
		wantErr string // substring of the one expected error; "" for none
	}{
		{"all present", []Op{ok("a", "j1"), unknown("b"), ok("b", "j2")}, []*api.Job{job("j1", "a"), job("j2", "b")}, ""},
		{"acknowledged job lost", []Op{ok("a", "j1")}, nil, "is lost"},
		{"acknowledged job replaced by another", []Op{ok("a", "j1")}, []*api.Job{job("j7", "a")}, "is lost"},
		{"retry applied twice", []Op{unknown("a"), ok("a", "j1")}, []*api.Job{job("j1", "a"), job("j2", "a")}, "applied twice"},
		{"acknowledged with two IDs", []Op{ok("a", "j1"), ok("a", "j2")}, []*api.Job{job("j1", "a")}, "different jobs"},
		{"definitely failed create left a job", []Op{failed("a"), failed("a")}, []*api.Job{job("j1", "a")}, "failed for sure"},
		{"unknown create may have happened", []Op{unknown("a")}, []*api.Job{job("j1", "a")}, ""},
		{"unknown create may not have happened", []Op{unknown("a"), failed("a")}, nil, ""},
		{"job from nowhere", nil, []*api.Job{job("j1", "zz")}, "never sent"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errs := CheckCreates(tt.ops, tt.jobs)
			if tt.wantErr == "" {
				if len(errs) != 0 {
					t.Fatalf("unexpected errors: %v", errs)
				}
				return
			}
			if len(errs) != 1 || !strings.Contains(errs[0].Error(), tt.wantErr) {
				t.Fatalf("errors %v, want one containing %q", errs, tt.wantErr)
			}
		})
	}
}

func TestCheckBatchExecutions(t *testing.T) {
	exec := func(state api.ExecutionStateType) *api.Execution {
		return &api.Execution{ID: "e", ComputeState: api.State[api.ExecutionStateType]{StateType: state}}
	}
	completed := func(j *api.Job) *api.Job {
		j.State.StateType = api.JobStateTypeCompleted
		return j
	}
	tests := []struct {
		name         string
		job          *api.Job
		execs        []*api.Execution
		mustComplete bool
		wantErr      string
	}{
		{"complete", completed(job("j", "a")), []*api.Execution{exec(api.ExecutionStateCompleted), exec(api.ExecutionStateFailed), exec(api.ExecutionStateCompleted)}, true, ""},
		{"too many completed", completed(job("j", "a")), []*api.Execution{exec(api.ExecutionStateCompleted), exec(api.ExecutionStateCompleted), exec(api.ExecutionStateCompleted)}, false, "more than its Count"},
		{"not complete", job("j", "a"), []*api.Execution{exec(api.ExecutionStateBidAccepted)}, true, "want Completed"},
		{"still running is fine when not required", job("j", "a"), []*api.Execution{exec(api.ExecutionStateBidAccepted)}, false, ""},
		{"completed with too few", completed(job("j", "a")), []*api.Execution{exec(api.ExecutionStateCompleted)}, true, "want exactly Count"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckBatchExecutions(tt.job, tt.execs, tt.mustComplete)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestStaleReads(t *testing.T) {
	pending, stopped := api.JobStateTypePending, api.JobStateTypeStopped
	tests := []struct {
		name string
		ops  []Op
		want int
	}{
		{"fresh reads", []Op{at(0, 10, create(OK, "j1")), at(11, 12, describe(true, pending)),
			at(20, 30, stop(OK, 200)), at(31, 32, describe(true, stopped))}, 0},
		{"missed create", []Op{at(0, 10, create(OK, "j1")), at(11, 12, describe(false, 0))}, 1},
		{"missed stop", []Op{at(0, 10, create(OK, "j1")), at(20, 30, stop(OK, 200)), at(31, 32, describe(true, pending))}, 1},
		{"concurrent read may miss", []Op{at(0, 10, create(OK, "j1")), at(5, 12, describe(false, 0)),
			at(20, 30, stop(OK, 200)), at(25, 32, describe(true, pending))}, 0},
		{"unknown writes prove nothing", []Op{at(0, 10, create(Unknown, "")), at(11, 12, describe(false, 0))}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := StaleReads(tt.ops); len(got) != tt.want {
				t.Fatalf("StaleReads found %d (%v), want %d", len(got), got, tt.want)
			}
		})
	}
}
