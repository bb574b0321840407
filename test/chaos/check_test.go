package chaos

import (
	"slices"
	"testing"
	"time"

	"github.com/shoal-io/shoal/api"
	"github.com/shoal-io/shoal/test/workload"
)

func TestScheduleIsDrawnFromTheSeed(t *testing.T) {
	a := Schedule(42, AllNemeses, 10*time.Minute)
	b := Schedule(42, AllNemeses, 10*time.Minute)
	c := Schedule(43, AllNemeses, 10*time.Minute)
	if !slices.Equal(a, b) {
		t.Fatal("the same seed drew two schedules")
	}
	if slices.Equal(a, c) {
		t.Fatal("two seeds drew the same schedule")
	}
	var total time.Duration
	for _, s := range a {
		if !slices.Contains(AllNemeses, s.Nemesis) || s.Hold < 6*time.Second || s.Quiet < 3*time.Second {
			t.Fatalf("bad step %+v", s)
		}
		total += s.Quiet + s.Hold
	}
	if total < 10*time.Minute {
		t.Fatalf("schedule covers %s of 10m", total)
	}
}

func TestCheckTerms(t *testing.T) {
	at := time.Unix(0, 0)
	tests := []struct {
		name    string
		samples []TermSample
		ok      bool
	}{
		{"none", nil, true},
		{"one leader a term", []TermSample{
			{at, "o1", 2, "Leader"}, {at, "o2", 2, "Follower"}, {at, "o2", 3, "Leader"}, {at, "o1", 3, "Follower"}, {at, "o1", 2, "Leader"},
		}, true},
		{"candidates do not count", []TermSample{{at, "o1", 4, "Candidate"}, {at, "o2", 4, "Candidate"}, {at, "o3", 4, "Leader"}}, true},
		{"two leaders in term 5", []TermSample{{at, "o1", 5, "Leader"}, {at, "o3", 5, "Leader"}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if v := CheckTerms(tt.samples); v.OK != tt.ok {
				t.Fatalf("CheckTerms = %v, want ok=%v", v, tt.ok)
			}
		})
	}
}

func TestMaxAckGap(t *testing.T) {
	t0 := time.Unix(1000, 0)
	ack := func(s float64) workload.Op {
		ret := t0.Add(time.Duration(s * float64(time.Second)))
		return workload.Op{Kind: workload.KindCreate, Outcome: workload.OK, Call: ret.Add(-time.Millisecond), Return: ret}
	}
	failed := ack(5)
	failed.Outcome = workload.Failed
	tests := []struct {
		name string
		ops  []workload.Op
		want time.Duration
	}{
		{"no acks: the whole window", nil, 10 * time.Second},
		{"steady", []workload.Op{ack(1), ack(2), ack(3), ack(4), ack(5), ack(6), ack(7), ack(8), ack(9)}, time.Second},
		{"a stall, failures do not count", []workload.Op{ack(1), failed, ack(7)}, 6 * time.Second},
		{"stalled to the end", []workload.Op{ack(2)}, 8 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := maxAckGap(tt.ops, t0, t0.Add(10*time.Second)); got != tt.want {
				t.Fatalf("maxAckGap = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestCheckLocalReads(t *testing.T) {
	t0 := time.Unix(1000, 0)
	op := func(kind workload.Kind, target string, s int, found bool, state api.JobStateType) workload.Op {
		return workload.Op{Client: 1, Kind: kind, Target: target, Token: "r-c1-0", JobID: "j1", Outcome: workload.OK,
			Call: t0.Add(time.Duration(s) * time.Second), Return: t0.Add(time.Duration(s)*time.Second + time.Millisecond),
			Found: found, JobState: state}
	}
	create := op(workload.KindCreate, "o1", 0, false, 0)
	stop := op(workload.KindStop, "o1", 1, false, 0)
	kill := Window{Nemesis: NemKill, Detail: "kill -9 o1, restart at heal", Start: t0.Add(time.Second / 2), Healed: t0.Add(time.Second)}
	tests := []struct {
		name    string
		ops     []workload.Op
		windows []Window
		ok      bool
	}{
		{"sees its create", []workload.Op{create, op(workload.KindDescribe, "o1", 1, true, api.JobStateTypePending)}, nil, true},
		{"misses its create", []workload.Op{create, op(workload.KindDescribe, "o1", 1, false, 0)}, nil, false},
		{"misses its stop", []workload.Op{create, stop, op(workload.KindDescribe, "o1", 2, true, api.JobStateTypePending)}, nil, false},
		{"another replica may lag", []workload.Op{create, op(workload.KindDescribe, "o2", 1, false, 0)}, nil, true},
		{"a restart in between is not judged", []workload.Op{create, op(workload.KindDescribe, "o1", 2, false, 0)}, []Window{kill}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if v := CheckLocalReads(tt.ops, tt.windows); v.OK != tt.ok {
				t.Fatalf("CheckLocalReads = %v, want ok=%v", v, tt.ok)
			}
		})
	}
}
