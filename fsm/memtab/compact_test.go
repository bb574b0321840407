package memtab

import (
	"fmt"
	"slices"
	"testing"
)

// TestCompact checks that a repack changes nothing a reader or writer can
// see: every index answers as before, a read Txn opened before it keeps its
// version, no watch fires, and writes after it land as usual.
func TestCompact(t *testing.T) {
	db := testDB(t)
	var rows []*row
	for i := range 3000 {
		r := &row{ID: fmt.Sprintf("r%05d", i), Group: fmt.Sprintf("g%d", i%7), Live: i%3 == 0}
		if i%5 == 0 {
			r.Tags = []string{"five"}
		}
		rows = append(rows, r)
	}
	// Many small transactions, as the fsm's applies are.
	for i := 0; i < len(rows); i += 10 {
		load(t, db, rows[i:i+10]...)
	}
	queries := map[string]func(txn *Txn) (ResultIterator, error){
		"id":       func(txn *Txn) (ResultIterator, error) { return txn.Get("rows", "id") },
		"group g3": func(txn *Txn) (ResultIterator, error) { return txn.Get("rows", "group", "g3") },
		"live":     func(txn *Txn) (ResultIterator, error) { return txn.Get("rows", "live") },
		"tag five": func(txn *Txn) (ResultIterator, error) { return txn.Get("rows", "tag", "five") },
		"id reverse": func(txn *Txn) (ResultIterator, error) {
			return txn.GetReverse("rows", "id")
		},
	}
	before := db.Txn(false)
	want := map[string][]string{}
	for name, q := range queries {
		it, err := q(before)
		want[name] = ids(t, it, err)
	}
	it, _ := before.Get("rows", "group", "g1")
	watch := it.WatchCh()

	db.Compact()

	select {
	case <-watch:
		t.Fatal("a repack fired a watch")
	default:
	}
	after := db.Txn(false)
	for name, q := range queries {
		if it, err := q(after); !slices.Equal(ids(t, it, err), want[name]) {
			t.Fatalf("%s differs after the repack", name)
		}
	}
	// Writes after the repack: an update that moves a row between groups,
	// a delete and an insert; the read Txn from before sees none of them.
	w := db.Txn(true)
	moved := *rows[3]
	moved.Group = "g1"
	if err := w.Insert("rows", &moved); err != nil {
		t.Fatal(err)
	}
	if err := w.Delete("rows", rows[1]); err != nil {
		t.Fatal(err)
	}
	if err := w.Insert("rows", &row{ID: "zzz", Group: "g1"}); err != nil {
		t.Fatal(err)
	}
	w.Commit()
	select {
	case <-watch:
	default:
		t.Fatal("a write after the repack did not fire the watch")
	}
	it, err := db.Txn(false).Get("rows", "group", "g1")
	got := ids(t, it, err)
	if !slices.Contains(got, moved.ID) || !slices.Contains(got, "zzz") || slices.Contains(got, rows[1].ID) {
		t.Fatalf("group g1 after writes: %v", got)
	}
	if it, err := db.Txn(false).Get("rows", "group", "g3"); slices.Contains(ids(t, it, err), moved.ID) {
		t.Fatal("the moved row is still in its old group")
	}
	for name, q := range queries {
		if it, err := q(before); !slices.Equal(ids(t, it, err), want[name]) {
			t.Fatalf("%s changed for a read Txn opened before the repack", name)
		}
	}
}
