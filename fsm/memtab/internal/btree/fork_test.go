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

// TestCompact checks that a compacted tree holds what the original did,
// that writes to either (with and without clones, as memtab makes) never
// show in the other, and that nodes copied out of the blocks get a full
// node's room.
func TestCompact(t *testing.T) {
	for _, degree := range []int{2, 4, 16} {
		rng := rand.New(rand.NewPCG(uint64(degree), 7))
		tr := NewG(degree, Less[int]())
		ref := map[int]bool{}
		for range 20_000 {
			k := rng.IntN(50_000)
			tr.ReplaceOrInsert(k)
			ref[k] = true
		}
		want := slices.Sorted(maps.Keys(ref))
		c := tr.Compact()
		if c.Len() != tr.Len() {
			t.Fatalf("degree %d: compacted Len %d, want %d", degree, c.Len(), tr.Len())
		}
		if got := keys(c); !slices.Equal(got, want) {
			t.Fatalf("degree %d: compacted tree has %d keys, want %d", degree, len(got), len(want))
		}
		// Writes to the original do not reach the copy.
		for k := range 1000 {
			tr.ReplaceOrInsert(-1 - k)
			tr.Delete(want[k])
		}
		if got := keys(c); !slices.Equal(got, want) {
			t.Fatalf("degree %d: a write to the original changed the compacted copy", degree)
		}
		// Nor the other way round; and the copy keeps working through
		// clones, inserts and deletes.
		frozen := c.Clone()
		for i := range 30_000 {
			k := rng.IntN(60_000)
			if rng.IntN(2) == 0 {
				if _, had := c.ReplaceOrInsert(k); had != ref[k] {
					t.Fatalf("degree %d: insert %d: had = %v, want %v", degree, k, had, ref[k])
				}
				ref[k] = true
			} else {
				if _, had := c.Delete(k); had != ref[k] {
					t.Fatalf("degree %d: delete %d: had = %v, want %v", degree, k, had, ref[k])
				}
				delete(ref, k)
			}
			if i%50 == 0 {
				c = c.Clone()
			}
		}
		if got := keys(c); !slices.Equal(got, slices.Sorted(maps.Keys(ref))) || c.Len() != len(ref) {
			t.Fatalf("degree %d: after writes the compacted tree has %d keys (Len %d), want %d", degree, len(got), c.Len(), len(ref))
		}
		if got := keys(frozen); !slices.Equal(got, want) {
			t.Fatalf("degree %d: a clone of the compacted tree changed under writes", degree)
		}
		// The first write copies the root out of its block with a full
		// node's room, not an exact fit that its next insert would outgrow.
		d := tr.Compact()
		d.ReplaceOrInsert(-1_000_000)
		if d.root.cow != d.cow || cap(d.root.items) < d.maxItems() || cap(d.root.children) < d.maxItems()+1 {
			t.Fatalf("degree %d: the root copied out of its block has room for %d items and %d children, want %d and %d",
				degree, cap(d.root.items), cap(d.root.children), d.maxItems(), d.maxItems()+1)
		}
	}
}

func keys(tr *BTreeG[int]) []int {
	var got []int
	tr.Ascend(func(k int) bool { got = append(got, k); return true })
	return got
}
