package fsm

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"testing"
	"time"

	"github.com/shoal-io/shoal/api"
	"github.com/shoal-io/shoal/fsm/memtab"
	"k8s.io/apimachinery/pkg/labels"
)

// lifecycle runs jobs through creation, placement, completion and a late
// event after the end, on h.
func lifecycle(h *harness) {
	h.registerNode("n-1", cpu(8))
	for i, st := range []api.JobStateType{api.JobStateTypeCompleted, api.JobStateTypeFailed, api.JobStateTypeRunning} {
		id := fmt.Sprintf("j-%d", i)
		job := newJob(id, api.JobTypeBatch, h.now())
		job.Labels = map[string]string{"team": "data", "n": fmt.Sprint(i)}
		ok[JobRegisterResult](h, &JobRegisterRequest{Job: job, EvalID: "ev-" + id, Now: job.CreateTime})
		ex := fmt.Sprintf("e-%d", i)
		h.place(id, newExec(ex, id, "n-1", 1, api.ExecutionStateBidAccepted))
		if st == api.JobStateTypeRunning {
			continue
		}
		end := api.ExecutionStateCompleted
		if st == api.JobStateTypeFailed {
			end = api.ExecutionStateFailed
		}
		h.report("n-1", api.ExecutionUpdate{ExecutionID: ex, ComputeState: end, Message: "done",
			RunOutput: &api.RunCommandResult{STDOUT: "out\n"}})
		h.setJobState(id, st, "ended")
	}
	// A late report on an ended execution is ignored but must still read.
	h.report("n-1", api.ExecutionUpdate{ExecutionID: "e-0", ComputeState: api.ExecutionStateCompleted})
}

// reads is everything a client can read of the jobs, as JSON.
func reads(t *testing.T, h *harness) string {
	t.Helper()
	txn := h.txn()
	var out []any
	jobs, _, err := txn.ListJobs(JobQuery{})
	if err != nil {
		t.Fatal(err)
	}
	out = append(out, jobs)
	sel, _ := labels.Parse("n notin (1)")
	filtered, _, err := txn.ListJobs(JobQuery{Selector: sel, OrderBy: "modify_time"})
	if err != nil {
		t.Fatal(err)
	}
	out = append(out, filtered)
	for _, j := range jobs {
		execs, err := txn.ExecutionsByJob(j.ID)
		if err != nil {
			t.Fatal(err)
		}
		hist, _, err := txn.History(j.ID, HistoryQuery{})
		if err != nil {
			t.Fatal(err)
		}
		page, next, err := txn.History(j.ID, HistoryQuery{Limit: 2})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, execs, hist, page, next)
	}
	b, err := json.Marshal(out)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestFrozenRowsReadAsHotOnes(t *testing.T) {
	hot := newHarness(t)
	hot.fsm.ac.codec = nil // never freezes
	cold := newHarness(t)
	lifecycle(hot)
	lifecycle(cold)
	if a, b := reads(t, hot), reads(t, cold); a != b {
		t.Fatalf("frozen rows read differently:\nhot  %s\ncold %s", a, b)
	}

	txn := cold.txn()
	for _, tc := range []struct {
		id     string
		frozen bool
	}{{"j-0", true}, {"j-1", true}, {"j-2", false}} {
		j, _, _ := lookup[*jobRecord](txn.txn, tableJobs, "id", tc.id)
		h, _, _ := lookup[*historyRecord](txn.txn, tableHistory, "id", tc.id)
		if j.isFrozen() != tc.frozen || (h.frozen != nil) != tc.frozen {
			t.Errorf("%s: job frozen %t, history frozen %t, want %t", tc.id, j.isFrozen(), h.frozen != nil, tc.frozen)
		}
	}
	if e, _, _ := lookup[*execRecord](txn.txn, tableExecutions, "id", "e-0"); e.frozen == nil {
		t.Error("a completed execution is not frozen")
	}
	if e, _, _ := lookup[*execRecord](txn.txn, tableExecutions, "id", "e-2"); e.frozen != nil {
		t.Error("a running execution is frozen")
	}

	// Frozen rows survive a snapshot as they are, and every replica freezes
	// to the same bytes.
	again := newHarness(t)
	lifecycle(again)
	if cold.digest() != again.digest() {
		t.Fatal("two replicas applying the same commands disagree")
	}
	restored := New(Config{})
	if err := restored.Restore(io.NopCloser(bytes.NewReader(cold.snapshotBytes()))); err != nil {
		t.Fatal(err)
	}
	if _, d, _ := restored.State().Digest(); d != cold.digest() {
		t.Fatal("a restored state has another digest")
	}
	r := &harness{t: t, fsm: restored, obs: &recordingObserver{}}
	if reads(t, r) != reads(t, cold) {
		t.Fatal("a restored state reads differently")
	}

	// Collection removes frozen rows like any others.
	res := ok[JobGCResult](cold, &JobGCRequest{Before: cold.now() + 1, Limit: 10})
	if res.JobsRemoved != 2 {
		t.Fatalf("collected %d jobs, want 2", res.JobsRemoved)
	}
	if jobs, executions, _, _ := cold.txn().Counts(); jobs != 1 || executions != 1 {
		t.Fatalf("after collection: %d jobs, %d executions", jobs, executions)
	}
}

// A format 1 snapshot (a history row per event) still restores.
func TestRestoreFormat1History(t *testing.T) {
	h := newHarness(t)
	h.fsm.ac.codec = nil
	lifecycle(h)
	want := reads(t, h)

	var buf bytes.Buffer
	buf.WriteString(`{"Format":1,"Index":` + fmt.Sprint(h.index) + "}\n")
	txn := h.txn().txn
	for tb := tableJobs; tb < tableCount; tb++ {
		it, err := txn.Get(tb.String(), "id")
		if err != nil {
			t.Fatal(err)
		}
		for raw := it.Next(); raw != nil; raw = it.Next() {
			var rows []any
			if hr, isHist := raw.(*historyRecord); isHist {
				for i, ev := range hr.Events {
					rows = append(rows, map[string]any{"Seq": i + 1, "Event": ev})
				}
			} else {
				rows = append(rows, raw)
			}
			for _, row := range rows {
				b, err := json.Marshal(row)
				if err != nil {
					t.Fatal(err)
				}
				buf.WriteByte(byte(tb))
				buf.Write(binary.AppendUvarint(nil, uint64(len(b))))
				buf.Write(b)
			}
		}
	}
	buf.WriteByte(0)
	restored := New(Config{})
	if err := restored.Restore(io.NopCloser(&buf)); err != nil {
		t.Fatal(err)
	}
	if got := reads(t, &harness{t: t, fsm: restored}); got != want {
		t.Fatalf("format 1 restore reads differently:\n got %s\nwant %s", got, want)
	}
}

// TestFrozenRowsKeepTheirKeys: freezing replaces a row in its primary index
// only (memtab's Replace), so a frozen row must have the hot row's key in
// every index, or the secondary indexes would lead to rows that no longer
// match them.
func TestFrozenRowsKeepTheirKeys(t *testing.T) {
	c, a := newBlobCodec(), &arena{}
	now := int64(1_700_000_000_000_000_000)
	var jobs []*api.Job
	for i, st := range []api.JobStateType{api.JobStateTypeCompleted, api.JobStateTypeFailed, api.JobStateTypeStopped} {
		j := newJob(fmt.Sprintf("j-%d", i), []string{api.JobTypeBatch, api.JobTypeOps, api.JobTypeService}[i], now)
		j.State = api.State[api.JobStateType]{StateType: st}
		j.ModifyTime = now + int64(i)
		if i > 0 {
			j.Labels = map[string]string{"team": "data", "zone": fmt.Sprint(i), "empty": ""}
		}
		if i == 2 {
			j.Namespace = "team-a"
		}
		jobs = append(jobs, j)
	}
	type pair struct {
		table     tableID
		hot, cold any
	}
	var rows []pair
	for i, j := range jobs {
		hot := &jobRecord{Job: j, CreateIndex: 3, ModifyIndex: 9}
		cold, err := freezeJob(c, a, hot)
		if err != nil {
			t.Fatal(err)
		}
		rows = append(rows, pair{tableJobs, hot, cold})
		e := newExec(fmt.Sprintf("e-%d", i), j.ID, "n-1", 1, []api.ExecutionStateType{
			api.ExecutionStateCompleted, api.ExecutionStateFailed, api.ExecutionStateCancelled}[i])
		e.DesiredState = api.State[api.ExecutionDesiredStateType]{StateType: api.ExecutionDesiredStateStopped}
		hotExec := &execRecord{Execution: e, CreateIndex: 4, ModifyIndex: 8}
		coldExec, err := freezeExec(c, a, hotExec)
		if err != nil {
			t.Fatal(err)
		}
		rows = append(rows, pair{tableExecutions, hotExec, coldExec})
		hotHist := &historyRecord{JobID: j.ID, Events: []*api.JobHistory{{Type: api.JobHistoryTypeJobLevel, JobID: j.ID, Time: time.Unix(0, now).UTC()}}}
		coldHist, err := freezeHistory(c, a, hotHist)
		if err != nil {
			t.Fatal(err)
		}
		rows = append(rows, pair{tableHistory, hotHist, coldHist})
	}
	sch := schema()
	for _, r := range rows {
		for name, ix := range sch.Tables[r.table.String()].Indexes {
			// A row's keys in an index are a set: a hot job's labels come
			// in map order.
			hot, cold := indexKeys(t, ix, r.hot), indexKeys(t, ix, r.cold)
			slices.SortFunc(hot, bytes.Compare)
			slices.SortFunc(cold, bytes.Compare)
			if fmt.Sprintf("%q", hot) != fmt.Sprintf("%q", cold) {
				t.Errorf("%s index %s: hot keys %q, frozen keys %q", r.table, name, hot, cold)
			}
		}
	}
}

func indexKeys(t *testing.T, ix *memtab.IndexSchema, obj any) [][]byte {
	t.Helper()
	switch x := ix.Indexer.(type) {
	case memtab.SingleIndexer:
		ok, k, err := x.FromObject(obj)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			return nil
		}
		return [][]byte{k}
	case memtab.MultiIndexer:
		ok, ks, err := x.FromObject(obj)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			return nil
		}
		return ks
	}
	t.Fatalf("index %s reads no object", ix.Name)
	return nil
}
