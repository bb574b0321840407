package btree

import (
	"maps"
	"math/rand/v2"
	"slices"
	"testing"
)

// leafFill returns the items in the tree's leaves over the room they have.
func leafFill[T any](t *BTreeG[T]) float64 {
	var items, room int
	var walk func(n *node[T])
	walk = func(n *node[T]) {
		if len(n.children) == 0 {
			items += len(n.items)
			room += t.maxItems()
			return
		}
		for _, c := range n.children {
			walk(c)
		}
	}
	if t.root != nil {
		walk(t.root)
	}
	return float64(items) / float64(room)
}

func TestAppendsFillLeaves(t *testing.T) {
	tests := []struct {
		name     string
		keys     func(i int) int
		atInsert bool
		minFill  float64
	}{
		{"ascending", func(i int) int { return i }, false, 0.9},
		// Appends per group (a node's executions, a label's jobs): each
		// group's leaves fill too, though the group sits mid-tree.
		{"ascending within groups", func(i int) int { return (i%8)*1_000_000 + i }, true, 0.85},
		// Random keys (IDs): what a middle split gives, about three quarters.
		{"random", func(i int) int { return int(uint64(i) * 0x9E3779B97F4A7C15 >> 1) }, false, 0.7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := NewG(16, Less[int]())
			if tt.atInsert {
				tr.SplitAtInsert()
			}
			for i := range 100_000 {
				tr.ReplaceOrInsert(tt.keys(i))
				if i%100 == 0 {
					tr = tr.Clone() // as memtab does once per transaction
				}
			}
			if f := leafFill(tr); f < tt.minFill {
				t.Fatalf("leaves %.0f%% full, want at least %.0f%%", 100*f, 100*tt.minFill)
			} else {
				t.Logf("leaves %.0f%% full", 100*f)
			}
		})
	}
}

// TestRandomOperationsAfterAppends checks the tree against a sorted slice
// through appends (which leave one-item leaves behind skewed splits), then
// random inserts and deletes, with clones kept and checked unchanged.
func TestRandomOperationsAfterAppends(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	tr := NewG(4, Less[int]())
	tr.SplitAtInsert()
	ref := map[int]bool{}
	for i := range 5000 {
		tr.ReplaceOrInsert(i * 10)
		ref[i*10] = true
	}
	old := tr.Clone()
	oldWant := slices.Sorted(maps.Keys(ref))
	for range 50_000 {
		k := rng.IntN(60_000)
		if rng.IntN(2) == 0 {
			_, had := tr.ReplaceOrInsert(k)
			if had != ref[k] {
				t.Fatalf("insert %d: had = %v, want %v", k, had, ref[k])
			}
			ref[k] = true
		} else {
			_, had := tr.Delete(k)
			if had != ref[k] {
				t.Fatalf("delete %d: had = %v, want %v", k, had, ref[k])
			}
			delete(ref, k)
		}
	}
	check := func(name string, tr *BTreeG[int], want []int) {
		t.Helper()
		var got []int
		tr.Ascend(func(k int) bool { got = append(got, k); return true })
		if !slices.Equal(got, want) || tr.Len() != len(want) {
			t.Fatalf("%s: %d keys in order (Len %d), want %d", name, len(got), tr.Len(), len(want))
		}
		var back []int
		tr.Descend(func(k int) bool { back = append(back, k); return true })
		slices.Reverse(back)
		if !slices.Equal(back, want) {
			t.Fatalf("%s: descending walk differs", name)
		}
	}
	check("after random operations", tr, slices.Sorted(maps.Keys(ref)))
	check("clone taken before them", old, oldWant)
}
