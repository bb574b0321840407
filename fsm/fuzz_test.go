package fsm_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"testing"

	"github.com/shoal-io/shoal/api"
	"github.com/shoal-io/shoal/fsm"
	"github.com/shoal-io/shoal/fsm/fsmtest"
)

// The fuzz targets of the state machine: whatever bytes reach it (a log
// entry, a snapshot, a client's next_token), it answers with an error or a
// result, never a panic, and never leaves half a change behind.

// FuzzDecodeCommand feeds arbitrary log entries to Decode and to Apply on a
// state with something of everything in it. A decoded command encodes to
// bytes that decode to the same command. Apply never panics; a command it
// refuses changes nothing; and what it accepts can still be snapshotted and
// restored to the same state, so a replica that catches up from a snapshot
// agrees with one that applied the log.
func FuzzDecodeCommand(f *testing.F) {
	seed := fsmtest.Seeded(f)
	now := seed.Now()
	for _, cmd := range []fsm.Command{
		&fsm.JobStopRequest{JobID: fsmtest.JobBatch, Reason: "stop", EvalID: "ev-stop", Now: now},
		&fsm.ExecutionReportRequest{NodeID: fsmtest.Node1, Now: now, Updates: []api.ExecutionUpdate{
			{ExecutionID: fsmtest.ExecRunning, ComputeState: api.ExecutionStateFailed, Message: "boom"}}},
		&fsm.NodeStatusRequest{NodeID: fsmtest.Node2, Connection: "DISCONNECTED", Reason: "gone", Now: now},
		&fsm.EvalUpdateRequest{Now: now, Evals: []*api.Evaluation{{ID: "ev-x", JobID: fsmtest.JobOps, Status: api.EvalStatusPending}}},
		&fsm.EvalGCRequest{Before: now, Limit: 10, Now: now},
		&fsm.IdempotencyPruneRequest{Now: now + 2e12},
		&fsm.Plan{EvalID: "ev-" + fsmtest.JobService, JobID: fsmtest.JobService, JobRevision: 1, EvalStatus: api.EvalStatusComplete, Now: now,
			ExecutionUpdates: []*fsm.ExecutionUpdate{{ExecutionID: fsmtest.ExecAsk, ExpectedComputeState: api.ExecutionStateAskForBid,
				ComputeState: &api.State[api.ExecutionStateType]{StateType: api.ExecutionStateBidAccepted}}},
			JobState: &api.State[api.JobStateType]{StateType: api.JobStateTypeRunning}},
		&fsm.JobRegisterRequest{EvalID: "ev-new", Now: now, Job: &api.Job{ID: "j-new", Name: "n", Namespace: "default", Type: "batch", Count: 1,
			Tasks: []*api.Task{{Name: "main", Engine: &api.SpecConfig{Type: "noop"}}}, Revision: 1, CreateTime: now, ModifyTime: now}},
		&fsm.NodeRegisterRequest{Now: now, Node: &api.NodeInfo{NodeID: "n-3", NodeType: api.NodeTypeCompute, ComputeNodeInfo: &api.ComputeNodeInfo{}}},
	} {
		b, err := fsm.Encode(cmd)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		f.Add(fsm.EncodeBatch([][]byte{b, b}))
	}
	f.Add([]byte{})
	f.Add([]byte{byte(fsm.MsgBatch)})
	f.Add([]byte{byte(fsm.MsgPlanApply), 'n', 'u', 'l', 'l'})
	f.Add([]byte{byte(fsm.MsgNodeRegister), '{', '}'})
	f.Add([]byte{byte(fsm.MsgExecutionReport), '{', '"', 'U', 'p', 'd', 'a', 't', 'e', 's', '"', ':', '[', 'n', 'u', 'l', 'l', ']', '}'})
	f.Add([]byte{0xff, '{', '}'})

	base := seed.Snapshot(f)
	f.Fuzz(func(t *testing.T, entry []byte) {
		if cmd, err := fsm.Decode(entry); err == nil {
			again, err := fsm.Encode(cmd)
			if err != nil {
				t.Fatalf("a decoded %T does not encode: %v", cmd, err)
			}
			back, err := fsm.Decode(again)
			if err != nil {
				t.Fatalf("a re-encoded %T does not decode: %v", cmd, err)
			}
			if third, _ := fsm.Encode(back); !bytes.Equal(again, third) {
				t.Fatalf("%T changes through encode/decode:\n%s\n%s", cmd, again, third)
			}
		} else if !errors.Is(err, fsm.ErrUnknownCommand) {
			t.Fatalf("Decode error %v does not wrap ErrUnknownCommand", err)
		}
		if len(entry) > 0 && fsm.MessageType(entry[0]) == fsm.MsgBatch {
			if parts, err := fsm.SplitBatch(entry); err == nil && !bytes.Equal(fsm.EncodeBatch(parts), entry) {
				// Non-minimal varints may split fine and re-encode shorter;
				// the parts themselves must survive.
				again, err := fsm.SplitBatch(fsm.EncodeBatch(parts))
				if err != nil || len(again) != len(parts) {
					t.Fatalf("a split batch does not join and split again: %v", err)
				}
			}
		}

		m := restoreMachine(t, base, seed.Index)
		before := m.Digest(t)
		results := applyAll(t, m, entry)
		if m.FSM.State().Index() != m.Index {
			t.Fatalf("applied index %d after entry %d", m.FSM.State().Index(), m.Index)
		}
		if !slices.ContainsFunc(results, func(r fsm.Result) bool { return r.Err == nil }) {
			if after := m.Digest(t); after != before {
				t.Fatalf("an entry whose commands all failed (%v) changed the state", results)
			}
			return
		}
		// What Apply accepted must make a snapshot a new replica can load.
		m.CheckRestores(t, fmt.Sprintf("%q", entry))
	})
}

func restoreMachine(t *testing.T, snap []byte, index uint64) *fsmtest.Machine {
	t.Helper()
	m := fsmtest.New()
	if err := m.FSM.Restore(io.NopCloser(bytes.NewReader(snap))); err != nil {
		t.Fatal(err)
	}
	m.Index = index
	return m
}

func applyAll(t *testing.T, m *fsmtest.Machine, entry []byte) []fsm.Result {
	switch v := m.ApplyRaw(entry).(type) {
	case fsm.Result:
		return []fsm.Result{v}
	case []fsm.Result:
		return v
	default:
		t.Fatalf("Apply answered %T", v)
		return nil
	}
}

// FuzzRestore loads arbitrary bytes as a snapshot into a replica that holds
// state. A refused snapshot leaves that state exactly as it was (and
// CheckSnapshot, which guards operators' uploads, refuses it too); an
// accepted one is a state whose own snapshot restores to the same digest.
func FuzzRestore(f *testing.F) {
	seed := fsmtest.Seeded(f)
	full := seed.Snapshot(f)
	f.Add(full)
	f.Add(fsmtest.New().Snapshot(f))
	f.Add(full[:len(full)/2])
	f.Add(full[:bytes.IndexByte(full, '\n')+1])
	f.Add([]byte("{\"Format\":1,\"Index\":5}\n\x00"))
	f.Add([]byte("{\"Format\":99}\n"))
	f.Add([]byte("not a snapshot"))
	f.Add([]byte{})
	if rebased, _, err := fsm.RebaseSnapshot(full, seed.Index+100); err == nil {
		f.Add(rebased)
	}

	f.Fuzz(func(t *testing.T, data []byte) {
		m := restoreMachine(t, full, seed.Index)
		before, index := m.Digest(t), m.FSM.State().Index()
		checkErr := m.FSM.CheckSnapshot(bytes.NewReader(data))
		err := m.FSM.Restore(io.NopCloser(bytes.NewReader(data)))
		if (err == nil) != (checkErr == nil) {
			t.Fatalf("Restore says %v but CheckSnapshot says %v", err, checkErr)
		}
		if err != nil {
			if m.Digest(t) != before || m.FSM.State().Index() != index {
				t.Fatalf("a refused snapshot (%v) changed the state", err)
			}
			return
		}
		snap := m.Snapshot(t)
		other := fsm.New(fsm.Config{})
		if err := other.Restore(io.NopCloser(bytes.NewReader(snap))); err != nil {
			t.Fatalf("a restored state does not restore from its own snapshot: %v", err)
		}
		if _, d, _ := other.State().Digest(); d != m.Digest(t) {
			t.Fatal("a restored state's own snapshot restores to a different digest")
		}
		// It must also be a state reads work on.
		txn := m.FSM.State().Txn()
		if _, _, err := txn.ListJobs(fsm.JobQuery{Limit: 10}); err != nil {
			t.Fatalf("listing jobs of a restored state: %v", err)
		}
		if _, err := txn.Nodes(); err != nil {
			t.Fatalf("listing nodes of a restored state: %v", err)
		}
	})
}

// FuzzNextToken pages jobs and history with arbitrary next_token values. A
// token the server did not issue is a 400 in the API's error shape, never a
// panic; whatever a token decodes to, a page holds at most limit rows and no
// row twice; and paging from the start with the tokens the server hands out
// returns every job exactly once, in every order.
func FuzzNextToken(f *testing.F) {
	m := fsmtest.Seeded(f)
	txn := m.FSM.State().Txn()
	for _, order := range []string{"", "create_time", "modify_time", "id"} {
		for _, reverse := range []bool{false, true} {
			_, next, err := txn.ListJobs(fsm.JobQuery{OrderBy: order, Reverse: reverse, Limit: 1})
			if err != nil {
				f.Fatal(err)
			}
			f.Add(next, order, reverse, uint8(1))
		}
	}
	if _, next, err := txn.History(fsmtest.JobDone, fsm.HistoryQuery{Limit: 1}); err == nil {
		f.Add(next, "", false, uint8(2))
	}
	f.Add("", "", false, uint8(0))
	f.Add("eyJvIjoiaWQiLCJpIjoiIn0", "id", true, uint8(3))
	f.Add("!!", "bogus", false, uint8(1))
	f.Add("e30", "modify_time", false, uint8(200))

	var all []string
	jobs, _, err := txn.ListJobs(fsm.JobQuery{})
	if err != nil {
		f.Fatal(err)
	}
	for _, j := range jobs {
		all = append(all, j.ID)
	}
	slices.Sort(all)

	f.Fuzz(func(t *testing.T, token, order string, reverse bool, limit uint8) {
		lim := int(limit % 8)
		page, next, err := txn.ListJobs(fsm.JobQuery{OrderBy: order, Reverse: reverse, Limit: lim, After: token})
		if err != nil {
			check4xx(t, err)
		} else {
			checkPage(t, page, lim)
			_ = next
		}
		for _, jobID := range []string{fsmtest.JobDone, "j-missing"} {
			events, _, err := txn.History(jobID, fsm.HistoryQuery{Limit: lim, After: token})
			if err != nil {
				if !errors.Is(err, api.ErrNotFound) {
					check4xx(t, err)
				}
			} else if lim > 0 && len(events) > lim {
				t.Fatalf("history page of %d events, limit %d", len(events), lim)
			}
		}
		if lim == 0 {
			return
		}
		// Paging from the start with the server's own tokens.
		var seen []string
		after := ""
		for pages := 0; ; pages++ {
			if pages > len(all)+1 {
				t.Fatalf("paging with order %q reverse %t limit %d does not end", order, reverse, lim)
			}
			page, next, err := txn.ListJobs(fsm.JobQuery{OrderBy: order, Reverse: reverse, Limit: lim, After: after})
			if err != nil {
				check4xx(t, err) // an order the server does not know
				return
			}
			checkPage(t, page, lim)
			for _, j := range page {
				seen = append(seen, j.ID)
			}
			if next == "" {
				break
			}
			after = next
		}
		slices.Sort(seen)
		if !slices.Equal(seen, all) {
			t.Fatalf("order %q reverse %t limit %d: pages gave %v, want %v", order, reverse, lim, seen, all)
		}
	})
}

func checkPage(t *testing.T, page []*api.Job, limit int) {
	t.Helper()
	if limit > 0 && len(page) > limit {
		t.Fatalf("page of %d jobs, limit %d", len(page), limit)
	}
	ids := map[string]bool{}
	for _, j := range page {
		if ids[j.ID] {
			t.Fatalf("job %s twice in one page", j.ID)
		}
		ids[j.ID] = true
	}
}

func check4xx(t *testing.T, err error) {
	t.Helper()
	status, body := api.StatusFor(err)
	if status < http.StatusBadRequest || status >= http.StatusInternalServerError {
		t.Fatalf("error %v is answered %d, want a 4xx", err, status)
	}
	if body.Code == "" || body.Message == "" {
		t.Fatalf("error %v has body %+v, not the API's error shape", err, body)
	}
}
