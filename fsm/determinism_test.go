package fsm

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/google/uuid"
	"github.com/shoal-io/shoal/api"
)

// scenario returns a fixed, varied sequence of log entries (some batched)
// touching every command, including ones that raise derived evaluations and
// ones that fail.
func scenario() [][]byte {
	rng := rand.New(rand.NewPCG(1, 2))
	var entries [][]byte
	now := t0
	enc := func(c Command) []byte {
		b, err := Encode(c)
		if err != nil {
			panic(err)
		}
		return b
	}
	add := func(cmds ...Command) {
		now += 1_000_000
		if len(cmds) == 1 {
			entries = append(entries, enc(cmds[0]))
			return
		}
		var parts [][]byte
		for _, c := range cmds {
			parts = append(parts, enc(c))
		}
		entries = append(entries, EncodeBatch(parts))
	}
	nodes := []string{"n-a", "n-b", "n-c"}
	for _, n := range nodes {
		add(&NodeRegisterRequest{Node: newNode(n, cpu(4)), Now: now})
	}
	types := []string{api.JobTypeBatch, api.JobTypeService, api.JobTypeDaemon, api.JobTypeOps}
	revision := map[string]uint64{}
	var execs []*api.Execution
	for i := range 12 {
		var batch []Command
		for k := range 3 {
			id := fmt.Sprintf("j-%d-%d", i, k)
			job := newJob(id, types[(i+k)%len(types)], now)
			job.Labels = map[string]string{"a": "1", "b": "2", "c": fmt.Sprint(k)}
			batch = append(batch, &JobRegisterRequest{Job: job, EvalID: "ev-" + id, IdempotencyToken: "t" + id, TokenExpiry: now + 5e6, Now: now})
			revision[id] = 1
		}
		batch = append(batch, &JobRegisterRequest{Job: newJob(fmt.Sprintf("j-%d-0", i), api.JobTypeBatch, now), EvalID: "dup", Now: now})
		add(batch...)

		jobID := fmt.Sprintf("j-%d-%d", i, rng.IntN(3))
		var placed []*api.Execution
		for k := range 1 + rng.IntN(3) {
			e := newExec(fmt.Sprintf("e-%d-%d", i, k), jobID, nodes[rng.IntN(len(nodes))], 0.5+float64(rng.IntN(3)), api.ExecutionStateAskForBid)
			e.AllocatedResources.Tasks["side"] = &api.Resources{CPU: 0.1 * float64(k)}
			placed = append(placed, e)
		}
		add(&Plan{EvalID: "ev-" + jobID, JobID: jobID, JobRevision: revision[jobID], NewExecutions: placed,
			JobState: &api.State[api.JobStateType]{StateType: api.JobStateTypeRunning}, EvalStatus: api.EvalStatusComplete, Now: now})
		revision[jobID]++
		execs = append(execs, placed...)

		// Reports for a random mix of executions, grouped by node.
		byNode := map[string][]api.ExecutionUpdate{}
		for _, e := range execs {
			if rng.IntN(2) == 0 {
				continue
			}
			state := []api.ExecutionStateType{api.ExecutionStateAskForBidAccepted, api.ExecutionStateBidAccepted,
				api.ExecutionStateCompleted, api.ExecutionStateFailed}[rng.IntN(4)]
			byNode[e.NodeID] = append(byNode[e.NodeID], api.ExecutionUpdate{ExecutionID: e.ID, ComputeState: state})
		}
		var reports []Command
		for _, n := range nodes {
			if len(byNode[n]) > 0 {
				reports = append(reports, &ExecutionReportRequest{NodeID: n, Updates: byNode[n], Now: now})
			}
		}
		if len(reports) > 0 {
			add(reports...)
		}
		if i%4 == 3 {
			n := nodes[rng.IntN(len(nodes))]
			add(&NodeStatusRequest{NodeID: n, Connection: api.NodeDisconnected, Reason: "gone", Now: now})
			add(&NodeRegisterRequest{Node: newNode(n, cpu(4)), Now: now})
		}
		if i%5 == 4 {
			add(&JobStopRequest{JobID: jobID, Reason: "enough", EvalID: "stop-" + jobID, Now: now},
				&IdempotencyPruneRequest{Now: now}, &EvalGCRequest{Before: now, Limit: 3, Now: now})
		}
	}
	entries = append(entries, []byte{77}) // unknown: still an applied index
	return entries
}

func TestDeterminism(t *testing.T) {
	entries := scenario()
	const replicas = 8
	hs := make([]*harness, replicas)
	for i := range hs {
		hs[i] = newHarness(t)
	}
	seenEvalIDs := map[string]bool{}
	derived := 0
	for n, entry := range entries {
		var first any
		for i, h := range hs {
			// Odd replicas repack their indexes now and then, as an idle
			// replica does (FSM.Compact): nothing a reader sees may change.
			if i%2 == 1 && n%(3+i) == 0 {
				h.fsm.Compact()
			}
			res := h.applyRaw(entry)
			if i == 0 {
				first = res
				continue
			}
			if !reflect.DeepEqual(res, first) {
				t.Fatalf("entry %d: replica %d answered %#v, replica 0 %#v", n, i, res, first)
			}
		}
		d := hs[0].digest()
		for i, h := range hs[1:] {
			if h.digest() != d {
				t.Fatalf("entry %d: replica %d digest differs", n, i+1)
			}
		}
		for _, e := range evalsFrom(first) {
			if seenEvalIDs[e] {
				t.Fatalf("entry %d: derived eval ID %s reused", n, e)
			}
			if _, err := uuid.Parse(e); err != nil {
				t.Fatalf("derived eval ID %q: %v", e, err)
			}
			seenEvalIDs[e] = true
			derived++
		}
	}
	if derived < 10 {
		t.Fatalf("scenario derived only %d evaluation IDs", derived)
	}
	if a, b := queryAnswers(t, hs[0].txn()), queryAnswers(t, hs[1].txn()); a != b {
		t.Fatal("answers differ")
	}
}

func evalsFrom(res any) []string {
	var rs []Result
	switch r := res.(type) {
	case Result:
		rs = []Result{r}
	case []Result:
		rs = r
	}
	var ids []string
	for _, r := range rs {
		switch v := r.Value.(type) {
		case *ExecutionReportResult:
			ids = append(ids, v.EvalIDs...)
		case *NodeRegisterResult:
			ids = append(ids, v.EvalIDs...)
		case *NodeStatusResult:
			ids = append(ids, v.EvalIDs...)
		}
	}
	return ids
}

func TestDigestTracksState(t *testing.T) {
	h := newHarness(t)
	h.registerJob("j-1", api.JobTypeBatch)
	before := h.digest()
	idx, again, err := h.fsm.State().Digest()
	if err != nil || again != before || idx != h.index {
		t.Fatalf("digest not stable: %s vs %s at %d, %v", before, again, idx, err)
	}
	h.registerJob("j-2", api.JobTypeBatch)
	if h.digest() == before {
		t.Fatal("digest did not change with the state")
	}
}
