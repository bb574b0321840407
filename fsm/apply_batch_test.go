package fsm

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/hashicorp/raft"
)

// TestApplyBatchMatchesApply applies the determinism scenario entry by entry
// on one replica and in raft batches of varied sizes (with configuration
// entries among them, as raft hands them over) on another: answers,
// snapshots (index table included) and digests must be the same.
func TestApplyBatchMatchesApply(t *testing.T) {
	entries := scenario()
	tests := []struct {
		name     string
		maxBatch int
		seed     uint64
	}{
		{"pairs", 2, 1},
		{"up to 5", 5, 2},
		{"up to 64", 64, 3},
		{"everything at once", len(entries) + 1, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			one, batched := newHarness(t), newHarness(t)
			var want []any
			for _, e := range entries {
				want = append(want, one.applyRaw(e))
			}
			rng := rand.New(rand.NewPCG(tt.seed, 7))
			var got []any
			index := uint64(0)
			for next := 0; next < len(entries); {
				n := min(1+rng.IntN(tt.maxBatch), len(entries)-next)
				var logs []*raft.Log
				var isCmd []bool
				for _, e := range entries[next : next+n] {
					if rng.IntN(4) == 0 {
						// A configuration entry, which the FSM skips. It
						// shares the previous index so that the commands'
						// indexes match the other replica's.
						logs = append(logs, &raft.Log{Index: index, Term: 1, Type: raft.LogConfiguration})
						isCmd = append(isCmd, false)
					}
					index++
					logs = append(logs, &raft.Log{Index: index, Term: 1, Type: raft.LogCommand, Data: e})
					isCmd = append(isCmd, true)
				}
				out := batched.fsm.ApplyBatch(logs)
				if len(out) != len(logs) {
					t.Fatalf("ApplyBatch answered %d results for %d logs", len(out), len(logs))
				}
				for k, r := range out {
					if !isCmd[k] {
						if r != nil {
							t.Fatalf("configuration entry answered %#v", r)
						}
						continue
					}
					got = append(got, r)
				}
				next += n
			}
			batched.index = index
			for i := range want {
				if !reflect.DeepEqual(got[i], want[i]) {
					t.Fatalf("entry %d: batched answered %#v, one by one %#v", i, got[i], want[i])
				}
			}
			if !bytes.Equal(one.snapshotBytes(), batched.snapshotBytes()) {
				t.Fatal("snapshots differ")
			}
			if one.digest() != batched.digest() {
				t.Fatal("digests differ")
			}
			if a, b := queryAnswers(t, one.txn()), queryAnswers(t, batched.txn()); a != b {
				t.Fatal("answers differ")
			}
		})
	}
}

// TestApplyBatchFallsBackWhenACommandFailsAfterWriting: one entry's command
// fails after it wrote; the whole transaction is dropped and every entry is
// applied on its own, so only that command is missing.
func TestApplyBatchFallsBackWhenACommandFailsAfterWriting(t *testing.T) {
	h := newHarness(t)
	failRegisterOf(h, "j-2")
	var logs []*raft.Log
	for i := 1; i <= 3; i++ {
		b, err := Encode(registerCmd(h, fmt.Sprintf("j-%d", i)))
		if err != nil {
			t.Fatal(err)
		}
		logs = append(logs, &raft.Log{Index: uint64(i), Term: 1, Type: raft.LogCommand, Data: b})
	}
	out := h.fsm.ApplyBatch(logs)
	h.index = 3
	for i, wantErr := range []bool{false, true, false} {
		r, isResult := out[i].(Result)
		if !isResult || (r.Err != nil) != wantErr {
			t.Fatalf("entry %d: answered %#v", i, out[i])
		}
	}
	assertJobs(t, h, []string{"j-1", "j-3"}, []string{"j-2"})
	if idx := h.fsm.State().Index(); idx != 3 {
		t.Fatalf("applied index %d, want 3", idx)
	}
}
