package fsm

import (
	"testing"

	"github.com/hashicorp/raft"
)

// TestCommandsSinceSnapshot counts the commands a restart would replay: one
// per single entry, every command of a batch entry and of a raft batch, and
// none once the state is captured for a snapshot or restored from one.
func TestCommandsSinceSnapshot(t *testing.T) {
	h := newHarness(t)
	want := func(n uint64) {
		t.Helper()
		if got := h.fsm.CommandsSinceSnapshot(); got != n {
			t.Fatalf("CommandsSinceSnapshot = %d, want %d", got, n)
		}
	}
	want(0)
	h.registerJob("j-1", "batch")
	want(1)
	h.applyBatch(registerCmd(h, "j-2"), registerCmd(h, "j-3"), registerCmd(h, "j-4"))
	want(4)
	h.applyRaw([]byte{0xff}) // undecodable, still applied
	want(5)

	encoded := func(id string) []byte {
		b, err := Encode(registerCmd(h, id))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	logs := []*raft.Log{
		{Index: h.index + 1, Term: 1, Type: raft.LogCommand, Data: encoded("j-5")},
		{Index: h.index + 1, Term: 1, Type: raft.LogConfiguration},
		{Index: h.index + 2, Term: 1, Type: raft.LogCommand, Data: EncodeBatch([][]byte{encoded("j-6"), encoded("j-7")})},
	}
	h.index += 2
	h.fsm.ApplyBatch(logs)
	want(8)

	snap := h.snapshotBytes()
	want(0)
	h.registerJob("j-8", "batch")
	want(1)
	if err := h.fsm.Restore(readCloser(snap)); err != nil {
		t.Fatal(err)
	}
	want(0)
}
