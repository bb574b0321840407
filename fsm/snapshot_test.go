package fsm

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/shoal-io/shoal/api"
)

func readCloser(b []byte) io.ReadCloser { return io.NopCloser(bytes.NewReader(b)) }

// richState builds a store touching every table.
func richState(t testing.TB) *harness {
	h := newHarness(t)
	h.registerNode("n-1", cpu(8))
	h.registerNode("n-2", api.Resources{})
	h.registerJob("j-daemon", api.JobTypeDaemon)
	for _, id := range []string{"j-1", "j-2", "j-3"} {
		ok[JobRegisterResult](h, &JobRegisterRequest{Job: newJob(id, api.JobTypeBatch, h.now()), EvalID: "ev-" + id,
			IdempotencyToken: "tok-" + id, TokenExpiry: h.now() + 1e12, Now: h.now()})
	}
	h.place("j-1", newExec("e-1", "j-1", "n-1", 1, api.ExecutionStateAskForBid), newExec("e-2", "j-1", "n-2", 1, api.ExecutionStateBidAccepted))
	h.report("n-1", api.ExecutionUpdate{ExecutionID: "e-1", ComputeState: api.ExecutionStateAskForBidAccepted})
	h.report("n-2", api.ExecutionUpdate{ExecutionID: "e-2", ComputeState: api.ExecutionStateCompleted,
		RunOutput:       &api.RunCommandResult{STDOUT: "hi\n", ExitCode: 0},
		PublishedResult: &api.SpecConfig{Type: "urlDownload", Params: map[string]any{"URL": "http://x", "Size": 12.5, "N": float64(3)}}})
	ok[JobStopResult](h, &JobStopRequest{JobID: "j-2", Reason: "bye", EvalID: "ev-stop", Now: h.now()})
	ok[NodeStatusResult](h, &NodeStatusRequest{NodeID: "n-1", Connection: api.NodeDisconnected, Now: h.now()})
	ok[NodeRegisterResult](h, &NodeRegisterRequest{Node: newNode("n-1", cpu(8)), Now: h.now()})
	return h
}

// queryAnswers renders what readers see, to compare two stores.
func queryAnswers(t testing.TB, txn *ReadTxn) string {
	t.Helper()
	s, err := answers(txn)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func answers(txn *ReadTxn) (string, error) {
	var out []any
	var firstErr error
	add := func(v any, err error) {
		if err != nil && firstErr == nil {
			firstErr = err
		}
		out = append(out, v)
	}
	jobs, next, err := txn.ListJobs(JobQuery{OrderBy: "modify_time", Reverse: true})
	add(jobs, err)
	out = append(out, next)
	for _, j := range jobs {
		evs, _, err := txn.History(j.ID, HistoryQuery{})
		add(evs, err)
		add(txn.ExecutionsByJob(j.ID))
		add(txn.EvalsByJob(j.ID))
	}
	add(txn.Nodes())
	add(txn.EvalsByStatus(api.EvalStatusPending))
	add(txn.ExecutionsByNodeSince("n-2", 0, nil))
	a, r, q, err := txn.NodeUsage("n-1")
	add([]any{a, r, q}, err)
	j, e, v, n := txn.Counts()
	jobID, evalID, found := txn.Idempotency("tok-j-1", 0)
	out = append(out, []any{j, e, v, n, txn.Index(), txn.NodesIndex(), txn.TableIndexes(), jobID, evalID, found})
	if firstErr != nil {
		return "", firstErr
	}
	b, err := json.Marshal(out)
	return string(b), err
}

func TestSnapshotRestoreRoundTrip(t *testing.T) {
	h := richState(t)
	data := h.snapshotBytes()
	if err := newHarness(t).fsm.CheckSnapshot(bytes.NewReader(data)); err != nil {
		t.Fatalf("CheckSnapshot rejected a good snapshot: %v", err)
	}

	restored := newHarness(t)
	restored.registerJob("j-leftover", api.JobTypeBatch) // Restore must drop it
	if err := restored.fsm.Restore(readCloser(data)); err != nil {
		t.Fatal(err)
	}
	restored.index = h.index
	if got := restored.fsm.State().Index(); got != h.index {
		t.Fatalf("restored index %d, want %d", got, h.index)
	}
	if restored.digest() != h.digest() {
		t.Fatal("digests differ after restore")
	}
	if a, b := queryAnswers(t, h.txn()), queryAnswers(t, restored.txn()); a != b {
		t.Fatalf("answers differ after restore:\n%s\n%s", a, b)
	}
	if _, err := restored.txn().Job("j-leftover"); !errors.Is(err, api.ErrNotFound) {
		t.Fatal("restore kept a job the snapshot does not have")
	}
	// Both keep agreeing as the log goes on, including derived IDs.
	for _, x := range []*harness{h, restored} {
		x.report("n-1", api.ExecutionUpdate{ExecutionID: "e-1", ComputeState: api.ExecutionStateFailed})
		x.registerJob("j-4", api.JobTypeBatch)
	}
	if restored.digest() != h.digest() {
		t.Fatal("digests differ after applying the same entries")
	}
	if !bytes.Equal(restored.snapshotBytes(), h.snapshotBytes()) {
		t.Fatal("snapshots differ")
	}
}

func TestSnapshotIsolatedFromLaterWrites(t *testing.T) {
	h := richState(t)
	digest := h.digest()
	snap, err := h.fsm.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	h.registerJob("j-after", api.JobTypeBatch)
	sink := &memorySink{}
	if err := snap.Persist(sink); err != nil {
		t.Fatal(err)
	}
	restored := newHarness(t)
	if err := restored.fsm.Restore(readCloser(sink.Bytes())); err != nil {
		t.Fatal(err)
	}
	if restored.digest() != digest {
		t.Fatal("the snapshot caught a write made after it was taken")
	}
}

func TestRestoreRejectsBadSnapshots(t *testing.T) {
	good := richState(t).snapshotBytes()
	header := good[:bytes.IndexByte(good, '\n')+1]
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "header"},
		{"future format", []byte(strings.Replace(string(good), `"Format":2`, `"Format":3`, 1)), "unknown snapshot format 3"},
		{"truncated", good[:len(good)-10], "truncated"},
		{"no end mark", good[:len(good)-1], "truncated"},
		{"unknown table", append(append([]byte{}, header...), 99, 2, '{', '}', 0), "unknown table"},
		{"empty row", append(append([]byte{}, header...), byte(tableJobs), 2, '{', '}', 0), "empty row"},
		{"bad row", append(append([]byte{}, header...), byte(tableJobs), 1, '[', 0), "decode jobs row"},
		{"huge row", append(append([]byte{}, header...), byte(tableJobs), 0xff, 0xff, 0xff, 0xff, 0x0f), "limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := richState(t)
			digest := h.digest()
			if err := h.fsm.CheckSnapshot(bytes.NewReader(tt.data)); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("CheckSnapshot: err = %v, want one mentioning %q", err, tt.want)
			}
			err := h.fsm.Restore(readCloser(tt.data))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one mentioning %q", err, tt.want)
			}
			if h.digest() != digest {
				t.Fatal("a failed restore changed the state")
			}
		})
	}
}

// failingSink fails every write.
type failingSink struct{ memorySink }

func (*failingSink) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestPersistCancelsOnError(t *testing.T) {
	h := richState(t)
	snap, _ := h.fsm.Snapshot()
	sink := &failingSink{}
	if err := snap.Persist(sink); err == nil || !sink.cancelled || sink.closed {
		t.Fatalf("err = %v, cancelled %t, closed %t", err, sink.cancelled, sink.closed)
	}
}

func TestRestoreEmptyState(t *testing.T) {
	empty := newHarness(t)
	h := richState(t)
	if err := h.fsm.Restore(readCloser(empty.snapshotBytes())); err != nil {
		t.Fatal(err)
	}
	if h.digest() != empty.digest() || h.fsm.State().Index() != 0 {
		t.Fatal("restoring an empty snapshot did not empty the store")
	}
	if !reflect.DeepEqual(queryAnswers(t, h.txn()), queryAnswers(t, empty.txn())) {
		t.Fatal("answers differ")
	}
}

func TestRebaseSnapshot(t *testing.T) {
	h := richState(t)
	data := h.snapshotBytes()
	tests := []struct {
		name      string
		minIndex  uint64
		wantIndex uint64
	}{
		{"behind the snapshot keeps its index", h.index - 1, h.index},
		{"equal keeps it", h.index, h.index},
		{"ahead moves it up", h.index + 1000, h.index + 1000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, index, err := RebaseSnapshot(data, tt.minIndex)
			if err != nil {
				t.Fatal(err)
			}
			if index != tt.wantIndex {
				t.Fatalf("index %d, want %d", index, tt.wantIndex)
			}
			restored := newHarness(t)
			if err := restored.fsm.Restore(readCloser(out)); err != nil {
				t.Fatal(err)
			}
			if got := restored.fsm.State().Index(); got != tt.wantIndex {
				t.Fatalf("restored index %d, want %d", got, tt.wantIndex)
			}
			if restored.digest() != h.digest() {
				t.Fatal("rebasing changed the state")
			}
		})
	}
	if _, _, err := RebaseSnapshot([]byte("not a snapshot"), 1); err == nil {
		t.Fatal("accepted garbage")
	}
}
