package memtab

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync/atomic"
	"testing"
	"time"
)

type row struct {
	ID    string
	Group string
	Tags  []string
	Live  bool
	N     int // in no index
}

type fn struct {
	one  func(r *row) (bool, string)
	many func(r *row) []string
}

func (f fn) FromArgs(args ...any) ([]byte, error) {
	var b []byte
	for _, a := range args {
		s, ok := a.(string)
		if !ok {
			return nil, fmt.Errorf("want string, got %T", a)
		}
		b = append(append(b, s...), 0)
	}
	return b, nil
}

func (f fn) PrefixFromArgs(args ...any) ([]byte, error) {
	b, err := f.FromArgs(args...)
	if len(b) > 0 {
		b = b[:len(b)-1]
	}
	return b, err
}

type single struct{ fn }

func (s single) FromObject(obj any) (bool, []byte, error) {
	ok, k := s.one(obj.(*row))
	return ok, []byte(k), nil
}

type multi struct{ fn }

func (m multi) FromObject(obj any) (bool, [][]byte, error) {
	ks := m.many(obj.(*row))
	out := make([][]byte, len(ks))
	for i, k := range ks {
		out[i] = []byte(k)
	}
	return len(ks) > 0, out, nil
}

func testDB(t *testing.T) *MemDB {
	t.Helper()
	db, err := NewMemDB(&DBSchema{Tables: map[string]*TableSchema{
		"rows": {Name: "rows", Indexes: map[string]*IndexSchema{
			"id": {Name: "id", Unique: true, Indexer: single{fn{one: func(r *row) (bool, string) { return true, r.ID + "\x00" }}}},
			"group": {Name: "group", Unique: true, Indexer: single{fn{one: func(r *row) (bool, string) {
				return true, r.Group + "\x00" + r.ID + "\x00"
			}}}},
			"live": {Name: "live", Unique: true, AllowMissing: true, Indexer: single{fn{one: func(r *row) (bool, string) {
				return r.Live, r.ID + "\x00"
			}}}},
			"tag": {Name: "tag", Unique: true, AllowMissing: true, Indexer: multi{fn{many: func(r *row) []string {
				var out []string
				for _, t := range r.Tags {
					out = append(out, t+"\x00"+r.ID+"\x00")
				}
				return out
			}}}},
		}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func ids(t *testing.T, it ResultIterator, err error) []string {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for o := it.Next(); o != nil; o = it.Next() {
		out = append(out, o.(*row).ID)
	}
	return out
}

func load(t *testing.T, db *MemDB, rows ...*row) {
	t.Helper()
	txn := db.Txn(true)
	defer txn.Abort()
	for _, r := range rows {
		if err := txn.Insert("rows", r); err != nil {
			t.Fatal(err)
		}
	}
	txn.Commit()
}

func TestQueries(t *testing.T) {
	db := testDB(t)
	load(t, db,
		&row{ID: "a1", Group: "g1", Tags: []string{"x"}, Live: true},
		&row{ID: "a2", Group: "g1", Tags: []string{"x", "y"}},
		&row{ID: "b1", Group: "g2", Live: true},
		&row{ID: "b10", Group: "g2", Tags: []string{"y"}},
		&row{ID: "c", Group: "g3"},
	)
	txn := db.Txn(false)
	tests := []struct {
		name string
		run  func() (ResultIterator, error)
		want []string
	}{
		{"all by id", func() (ResultIterator, error) { return txn.Get("rows", "id") }, []string{"a1", "a2", "b1", "b10", "c"}},
		{"exact id is not a prefix of a longer one", func() (ResultIterator, error) { return txn.Get("rows", "id", "b1") }, []string{"b1"}},
		{"open prefix", func() (ResultIterator, error) { return txn.Get("rows", "id_prefix", "b") }, []string{"b1", "b10"}},
		{"group", func() (ResultIterator, error) { return txn.Get("rows", "group", "g2") }, []string{"b1", "b10"}},
		{"group reverse", func() (ResultIterator, error) { return txn.GetReverse("rows", "group", "g1") }, []string{"a2", "a1"}},
		{"reverse of last group", func() (ResultIterator, error) { return txn.GetReverse("rows", "group", "g3") }, []string{"c"}},
		{"reverse all", func() (ResultIterator, error) { return txn.GetReverse("rows", "id") }, []string{"c", "b10", "b1", "a2", "a1"}},
		{"missing group", func() (ResultIterator, error) { return txn.Get("rows", "group", "g0") }, nil},
		{"allow missing", func() (ResultIterator, error) { return txn.Get("rows", "live") }, []string{"a1", "b1"}},
		{"multi", func() (ResultIterator, error) { return txn.Get("rows", "tag", "y") }, []string{"a2", "b10"}},
		{"lower bound", func() (ResultIterator, error) { return txn.LowerBound("rows", "id", "b") }, []string{"b1", "b10", "c"}},
		{"lower bound past end", func() (ResultIterator, error) { return txn.LowerBound("rows", "id", "d") }, nil},
		{"reverse lower bound between", func() (ResultIterator, error) { return txn.ReverseLowerBound("rows", "id", "b") }, []string{"a2", "a1"}},
		{"reverse lower bound exact", func() (ResultIterator, error) { return txn.ReverseLowerBound("rows", "id", "b1") }, []string{"b1", "a2", "a1"}},
		{"reverse lower bound past end", func() (ResultIterator, error) { return txn.ReverseLowerBound("rows", "id", "z") }, []string{"c", "b10", "b1", "a2", "a1"}},
		{"reverse lower bound before start", func() (ResultIterator, error) { return txn.ReverseLowerBound("rows", "id", "0") }, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			it, err := tc.run()
			if got := ids(t, it, err); !slices.Equal(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
	if o, err := txn.First("rows", "id", "b10"); err != nil || o.(*row).ID != "b10" {
		t.Fatalf("First = %v, %v", o, err)
	}
	if o, err := txn.First("rows", "id", "zz"); err != nil || o != nil {
		t.Fatalf("First of missing = %v, %v", o, err)
	}
	if _, err := txn.Get("rows", "nope"); err == nil {
		t.Fatal("unknown index accepted")
	}
	if _, err := txn.Get("nope", "id"); err == nil {
		t.Fatal("unknown table accepted")
	}
	if err := txn.Insert("rows", &row{ID: "x"}); err == nil {
		t.Fatal("insert in a read txn accepted")
	}
}

func TestUpdateMovesSecondaryKeys(t *testing.T) {
	db := testDB(t)
	load(t, db, &row{ID: "a", Group: "g1", Tags: []string{"x", "y"}, Live: true})
	load(t, db, &row{ID: "a", Group: "g2", Tags: []string{"y"}})
	txn := db.Txn(false)
	for _, tc := range []struct {
		index, arg string
		want       []string
	}{{"group", "g1", nil}, {"group", "g2", []string{"a"}}, {"tag", "x", nil}, {"tag", "y", []string{"a"}}} {
		it, err := txn.Get("rows", tc.index, tc.arg)
		if got := ids(t, it, err); !slices.Equal(got, tc.want) {
			t.Errorf("%s=%s: got %v, want %v", tc.index, tc.arg, got, tc.want)
		}
	}
	if it, err := txn.Get("rows", "live"); len(ids(t, it, err)) != 0 {
		t.Error("row left in the live index after it stopped being live")
	}
}

// An update that leaves a secondary key as it was: readers through that
// index get the new row (old readers the old one), First too, and the
// index's watchers hear of it.
func TestUpdateKeepingSecondaryKeys(t *testing.T) {
	db := testDB(t)
	load(t, db, &row{ID: "a", Group: "g1", Tags: []string{"x"}})
	before := db.Txn(false)
	it, _ := before.Get("rows", "group", "g1")
	ch := it.WatchCh()
	load(t, db, &row{ID: "a", Group: "g1", Tags: []string{"x"}, Live: true})
	select {
	case <-ch:
	case <-time.After(time.Second):
		t.Fatal("an update in the range did not fire the watch")
	}
	now := db.Txn(false)
	for _, index := range []string{"group", "tag"} {
		arg := map[string]string{"group": "g1", "tag": "x"}[index]
		o, err := now.First("rows", index, arg)
		if err != nil || o == nil || !o.(*row).Live {
			t.Fatalf("First through %s: %v %v, want the updated row", index, o, err)
		}
		it, _ := now.Get("rows", index, arg)
		if o := it.Next(); o == nil || !o.(*row).Live {
			t.Fatalf("Get through %s: %v, want the updated row", index, o)
		}
		old, _ := before.Get("rows", index, arg)
		if o := old.Next(); o == nil || o.(*row).Live {
			t.Fatalf("an old reader through %s got %v, want the row as it was", index, o)
		}
	}
}

func TestSnapshotIsolationAndAbort(t *testing.T) {
	db := testDB(t)
	load(t, db, &row{ID: "a", Group: "g"})
	before := db.Txn(false)
	w := db.Txn(true)
	if err := w.Insert("rows", &row{ID: "b", Group: "g"}); err != nil {
		t.Fatal(err)
	}
	if err := w.Delete("rows", &row{ID: "a"}); err != nil {
		t.Fatal(err)
	}
	if it, err := w.Get("rows", "id"); !slices.Equal(ids(t, it, err), []string{"b"}) {
		t.Fatal("write txn does not see its own writes")
	}
	if it, err := db.Txn(false).Get("rows", "id"); !slices.Equal(ids(t, it, err), []string{"a"}) {
		t.Fatal("uncommitted writes are visible")
	}
	w.Abort()
	if it, err := db.Txn(false).Get("rows", "id"); !slices.Equal(ids(t, it, err), []string{"a"}) {
		t.Fatal("aborted writes are visible")
	}
	load(t, db, &row{ID: "c", Group: "g"})
	if it, err := before.Get("rows", "group", "g"); !slices.Equal(ids(t, it, err), []string{"a"}) {
		t.Fatal("an old read txn sees a later commit")
	}
	w = db.Txn(true)
	if err := w.Delete("rows", &row{ID: "zz"}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("delete of a missing row: %v", err)
	}
	n, err := w.DeleteAll("rows", "group", "g")
	if err != nil || n != 2 {
		t.Fatalf("DeleteAll = %d, %v", n, err)
	}
	w.Commit()
	if it, err := db.Txn(false).Get("rows", "id"); len(ids(t, it, err)) != 0 {
		t.Fatal("rows left after DeleteAll")
	}
}

func TestIterateWhileWriting(t *testing.T) {
	db := testDB(t)
	for i := range 200 {
		load(t, db, &row{ID: fmt.Sprintf("r%03d", i), Group: "g"})
	}
	w := db.Txn(true)
	it, err := w.Get("rows", "group", "g")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for o := it.Next(); o != nil; o = it.Next() {
		if err := w.Delete("rows", o); err != nil {
			t.Fatal(err)
		}
		n++
	}
	w.Commit()
	if n != 200 {
		t.Fatalf("walked %d rows while deleting, want 200", n)
	}
}

func TestWatch(t *testing.T) {
	db := testDB(t)
	load(t, db, &row{ID: "a", Group: "g1"}, &row{ID: "b", Group: "g2"})
	txn := db.Txn(false)
	it, _ := txn.Get("rows", "group", "g1")
	ch := it.WatchCh()
	load(t, db, &row{ID: "c", Group: "g2"})
	select {
	case <-ch:
		t.Fatal("a change outside the range fired the watch")
	default:
	}
	load(t, db, &row{ID: "d", Group: "g1"})
	select {
	case <-ch:
	case <-time.After(time.Second):
		t.Fatal("a change in the range did not fire the watch")
	}
	// A watch asked for on an outdated version fires at once.
	if ch := it.WatchCh(); ch == nil {
		t.Fatal("nil channel")
	} else {
		select {
		case <-ch:
		default:
			t.Fatal("watch on an outdated version did not fire")
		}
	}
	ws := NewWatchSet()
	it2, _ := db.Txn(false).Get("rows", "id", "zz")
	ws.Add(it2.WatchCh())
	go func() {
		w := db.Txn(true)
		_ = w.Insert("rows", &row{ID: "zz", Group: "g9"})
		w.Commit()
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := ws.WatchCtx(ctx); err != nil {
		t.Fatalf("WatchCtx: %v", err)
	}
	db.watch.mu.Lock()
	left := len(db.watch.watches)
	db.watch.mu.Unlock()
	if left != 0 {
		t.Fatalf("%d watches left after they fired", left)
	}
}

// TestWatchRegisteredDuringUnrecordedWrite: a transaction that began
// writing while nobody waited records no changes; a watch registered before
// it commits must fire all the same, and transactions with a waiter record.
func TestWatchRegisteredDuringUnrecordedWrite(t *testing.T) {
	db := testDB(t)
	load(t, db, &row{ID: "a", Group: "g1"})
	w := db.Txn(true)
	if err := w.Insert("rows", &row{ID: "b", Group: "g1"}); err != nil {
		t.Fatal(err)
	}
	if len(w.changes) != 0 || !w.unrecorded {
		t.Fatalf("recorded %d changes with nobody waiting", len(w.changes))
	}
	it, _ := db.Txn(false).Get("rows", "group", "g1")
	ch := it.WatchCh()
	w.Commit()
	select {
	case <-ch:
	case <-time.After(time.Second):
		t.Fatal("the watch registered during the write did not fire")
	}

	it, _ = db.Txn(false).Get("rows", "group", "g2")
	ch = it.WatchCh()
	w = db.Txn(true)
	if err := w.Insert("rows", &row{ID: "c", Group: "g3"}); err != nil {
		t.Fatal(err)
	}
	if w.unrecorded || len(w.changes) == 0 {
		t.Fatal("a write with a waiter did not record its changes")
	}
	w.Commit()
	select {
	case <-ch:
		t.Fatal("a recorded change outside the range fired the watch")
	default:
	}
}

// TestReplaceKeepsSecondaryEntries: Replace swaps the row its entries lead
// to without touching them, and refuses a row that is not there.
func TestReplaceKeepsSecondaryEntries(t *testing.T) {
	db := testDB(t)
	load(t, db, &row{ID: "a", Group: "g1"})
	before := db.Txn(false)
	w := db.Txn(true)
	if err := w.Replace("rows", &row{ID: "a", Group: "g1", N: 7}); err != nil {
		t.Fatal(err)
	}
	if err := w.Replace("rows", &row{ID: "b", Group: "g1"}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("replace of a missing row: %v, want ErrNotFound", err)
	}
	w.Commit()
	obj, err := db.Txn(false).First("rows", "group", "g1")
	if err != nil || obj == nil || obj.(*row).N != 7 {
		t.Fatalf("read through the secondary index: %+v, %v", obj, err)
	}
	if obj, _ := before.First("rows", "id", "a"); obj.(*row).N != 0 {
		t.Fatal("an earlier reader saw the replacement")
	}
}

// TestReplacedRowsAreReleased: rows inserted in key order and replaced a
// little later, one commit each (jobs are created in time order and frozen
// when they end), must not stay reachable from the trees. tidwall/btree kept
// a quarter of them alive here through the arrays its node splits shared.
func TestReplacedRowsAreReleased(t *testing.T) {
	db := testDB(t)
	const n, lag = 4000, 8
	var released atomic.Int64
	id := func(i int) string { return fmt.Sprintf("r%06d", i) }
	for i := range n + lag {
		txn := db.Txn(true)
		if i < n {
			r := &row{ID: id(i), Group: "g"}
			runtime.SetFinalizer(r, func(*row) { released.Add(1) })
			if err := txn.Insert("rows", r); err != nil {
				t.Fatal(err)
			}
		}
		if i >= lag {
			if err := txn.Insert("rows", &row{ID: id(i - lag), Group: "g"}); err != nil {
				t.Fatal(err)
			}
		}
		txn.Commit()
	}
	for range 50 {
		runtime.GC()
		if released.Load() == n {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if got := released.Load(); got != n {
		t.Fatalf("%d of %d replaced rows were released; the rest are still reachable", got, n)
	}
	runtime.KeepAlive(db)
}

// An unwatched write Txn takes inserts into different tables from different
// goroutines at once (a restore's parallel load); run with -race.
func TestUnwatchedTablesLoadInParallel(t *testing.T) {
	idx := func(f func(r *row) (bool, string)) *IndexSchema {
		return &IndexSchema{Unique: true, Indexer: single{fn{one: f}}}
	}
	tables := map[string]*TableSchema{}
	names := []string{"a", "b", "c"}
	for _, name := range names {
		id, group := idx(func(r *row) (bool, string) { return true, r.ID + "\x00" }),
			idx(func(r *row) (bool, string) { return true, r.Group + "\x00" + r.ID + "\x00" })
		id.Name, group.Name = "id", "group"
		tables[name] = &TableSchema{Name: name, Indexes: map[string]*IndexSchema{"id": id, "group": group}}
	}
	db, err := NewMemDB(&DBSchema{Tables: tables})
	if err != nil {
		t.Fatal(err)
	}
	const n = 2000
	txn := db.Txn(true)
	txn.Unwatched()
	errs := make(chan error, len(names))
	for _, name := range names {
		go func() {
			for i := range n {
				if err := txn.Insert(name, &row{ID: fmt.Sprintf("%s-%05d", name, i), Group: fmt.Sprint(i % 7)}); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range names {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	txn.Commit()
	read := db.Txn(false)
	for _, name := range names {
		for _, index := range []string{"id", "group"} {
			it, err := read.Get(name, index)
			if got := len(ids(t, it, err)); got != n {
				t.Fatalf("table %s index %s holds %d rows, want %d", name, index, got, n)
			}
		}
	}
}

func TestWatchRelease(t *testing.T) {
	watches := func(db *MemDB) int {
		db.watch.mu.Lock()
		defer db.watch.mu.Unlock()
		if len(db.watch.byCh) != len(db.watch.watches) {
			t.Fatalf("%d channels indexed for %d watches", len(db.watch.byCh), len(db.watch.watches))
		}
		return len(db.watch.watches)
	}
	register := func(db *MemDB, group string) (*Txn, WatchSet) {
		txn := db.Txn(false)
		it, err := txn.Get("rows", "group", group)
		if err != nil {
			t.Fatal(err)
		}
		ws := NewWatchSet()
		ws.Add(it.WatchCh())
		return txn, ws
	}
	tests := []struct {
		name string
		want int // watches left
		run  func(t *testing.T, db *MemDB) (left int)
	}{
		{"a reader that did not wait leaves nothing", 0, func(t *testing.T, db *MemDB) int {
			txn, ws := register(db, "g1")
			txn.Release(ws)
			return watches(db)
		}},
		{"a channel stays while another reader waits on it", 0, func(t *testing.T, db *MemDB) int {
			t1, ws1 := register(db, "g1")
			_, ws2 := register(db, "g1")
			t1.Release(ws1)
			if watches(db) != 1 {
				t.Fatal("released while a reader still waits")
			}
			for ch := range ws2 {
				select {
				case <-ch:
					t.Fatal("the remaining reader's channel was closed")
				default:
				}
			}
			load(t, db, &row{ID: "x", Group: "g1"})
			for ch := range ws2 {
				select {
				case <-ch:
				case <-time.After(time.Second):
					t.Fatal("the remaining reader was not woken")
				}
			}
			return watches(db)
		}},
		{"releasing a fired channel is harmless", 1, func(t *testing.T, db *MemDB) int {
			txn, ws := register(db, "g1")
			load(t, db, &row{ID: "y", Group: "g1"})
			txn.Release(ws)
			_, _ = register(db, "g2") // a new entry is not touched by the late release
			txn.Release(ws)
			return watches(db)
		}},
		{"an outdated reader's closed channel is not registered", 0, func(t *testing.T, db *MemDB) int {
			txn := db.Txn(false)
			it, _ := txn.Get("rows", "group", "g1")
			load(t, db, &row{ID: "z", Group: "g5"})
			ws := NewWatchSet()
			ws.Add(it.WatchCh())
			txn.Release(ws)
			return watches(db)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := testDB(t)
			load(t, db, &row{ID: "a", Group: "g1"})
			if left := tt.run(t, db); left != tt.want {
				t.Fatalf("%d watches left, want %d", left, tt.want)
			}
			if got, w := db.watch.waiting(), tt.want > 0; got != w {
				t.Fatalf("waiting() = %v, want %v", got, w)
			}
		})
	}
}
