package memtab

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
)

// root is one version of every index of every table. A published root is
// never written again; the writer works on copies (copy-on-write nodes).
type root struct {
	trees [][]*tree // [table][index]
}

// MemDB is a set of tables. Writes are serialised (one write Txn at a time);
// reads run on the last committed version and never block.
type MemDB struct {
	schema *compiled

	writer sync.Mutex // held by the open write Txn
	// working is the writer's own version: the last committed one, but
	// trees readers never see, so the writer may copy from them freely.
	working *root

	published atomic.Pointer[root]
	watch     watchRegistry
}

// NewMemDB returns an empty database with the schema.
func NewMemDB(s *DBSchema) (*MemDB, error) {
	c, err := compile(s)
	if err != nil {
		return nil, fmt.Errorf("memtab: %w", err)
	}
	r := &root{trees: make([][]*tree, len(c.tables))}
	for i, t := range c.tables {
		r.trees[i] = make([]*tree, len(t.indexes))
		for j := range t.indexes {
			r.trees[i][j] = newTree(t.indexes[j].appended)
		}
	}
	db := &MemDB{schema: c, working: r}
	db.published.Store(r.publish())
	return db, nil
}

// publish returns a version for readers: a copy of every tree.
func (r *root) publish() *root {
	out := &root{trees: make([][]*tree, len(r.trees))}
	for i, ts := range r.trees {
		out.trees[i] = copyTrees(ts)
	}
	return out
}

// copyTrees returns readers' copies of one table's trees.
func copyTrees(ts []*tree) []*tree {
	out := make([]*tree, len(ts))
	for i, t := range ts {
		out[i] = t.Copy()
	}
	return out
}

// Txn opens a transaction. A read Txn sees the last committed version for as
// long as it is used; a write Txn holds the writer lock until Commit or
// Abort.
func (db *MemDB) Txn(write bool) *Txn {
	if !write {
		return &Txn{db: db, root: db.published.Load()}
	}
	db.writer.Lock()
	r := &root{trees: make([][]*tree, len(db.working.trees))}
	for i, ts := range db.working.trees {
		r.trees[i] = append([]*tree(nil), ts...)
	}
	return &Txn{db: db, root: r, write: true, base: db.published.Load(),
		copied: make([][]bool, len(r.trees))}
}

// Txn is a read or write transaction. Not safe for concurrent use.
type Txn struct {
	db    *MemDB
	root  *root
	write bool
	done  bool
	// base is the published version the write Txn started from; copied
	// marks the trees this Txn has taken a private copy of.
	base   *root
	copied [][]bool
	// changes lists the keys written or removed, for watchers; nil until
	// the first write.
	changes   []change
	unwatched bool
	// unrecorded is set when a change was left out of changes because no
	// reader was waiting then: Commit fires every watch registered since.
	unrecorded bool
	// keep, when set, copies the keys a stable index stores (KeepKeys).
	keep func(table, key string) string
}

// KeepKeys has the write Txn store every new key of a stable index as
// keep's copy of it. The caller's copier can pack
// keys that live as long as their rows densely: a key made while a write's
// garbage is made beside it otherwise pins a span of that garbage for the
// row's whole life. keep may return the key itself (a table whose rows die
// young). It is called on the writer's goroutine only, unless the caller
// inserts into different tables at once (then it must be safe for that).
func (t *Txn) KeepKeys(keep func(table, key string) string) { t.keep = keep }

// kept is the copy of key k an index entry keeps.
func (t *Txn) kept(td *tableDef, d *indexDef, k string) string {
	if t.keep == nil || !d.stable {
		return k
	}
	return t.keep(td.name, k)
}

type change struct {
	table, index int
	key          string
}

func (t *Txn) table(name string) (int, *tableDef, error) {
	i, ok := t.db.schema.byName[name]
	if !ok {
		return 0, nil, fmt.Errorf("memtab: no table %q", name)
	}
	return i, t.db.schema.tables[i], nil
}

// mutable returns the write Txn's private copy of a tree.
func (t *Txn) mutable(ti, ii int) *tree {
	if t.copied[ti] == nil {
		t.copied[ti] = make([]bool, len(t.root.trees[ti]))
	}
	if !t.copied[ti][ii] {
		t.root.trees[ti][ii] = t.root.trees[ti][ii].Copy()
		t.copied[ti][ii] = true
	}
	return t.root.trees[ti][ii]
}

func (t *Txn) checkWrite() error {
	if !t.write {
		return fmt.Errorf("memtab: write in a read transaction")
	}
	if t.done {
		return fmt.Errorf("memtab: write in a finished transaction")
	}
	return nil
}

// Insert adds obj, or replaces the row with the same primary key.
func (t *Txn) Insert(table string, obj any) error {
	if err := t.checkWrite(); err != nil {
		return err
	}
	ti, td, err := t.table(table)
	if err != nil {
		return err
	}
	newKeys := make([][]string, len(td.indexes))
	for ii, d := range td.indexes {
		if newKeys[ii], err = d.keys(obj); err != nil {
			return fmt.Errorf("memtab: insert into %s: %w", table, err)
		}
	}
	id := newKeys[0][0]
	old, exists := t.root.trees[ti][0].Get(item{key: id})
	var oldKeys [][]string
	if exists {
		oldKeys = make([][]string, len(td.indexes))
		for ii, d := range td.indexes {
			if oldKeys[ii], err = d.keys(old.obj); err != nil {
				return fmt.Errorf("memtab: insert into %s: old row: %w", table, err)
			}
		}
	}
	if exists {
		id = old.key // one copy of the key for every version and every rowRef
	} else {
		id = t.kept(td, td.indexes[0], id)
	}
	t.mutable(ti, 0).Set(item{key: id, obj: obj})
	t.note(ti, 0, id)
	// Secondary entries lead to the primary key, not to the row: an update
	// that leaves an entry's key as it was leaves its tree untouched (no
	// node copied on write), and only tells the entry's watchers.
	var ref *rowRef
	for ii := 1; ii < len(td.indexes); ii++ {
		if exists {
			for _, k := range oldKeys[ii] {
				if !contains(newKeys[ii], k) {
					t.mutable(ti, ii).Delete(item{key: k})
					t.note(ti, ii, k)
				}
			}
		}
		for _, k := range newKeys[ii] {
			if !exists || !contains(oldKeys[ii], k) {
				if ref == nil {
					ref = t.oldRef(ti, len(td.indexes), oldKeys, newKeys, id)
				}
				t.mutable(ti, ii).Set(item{key: t.kept(td, td.indexes[ii], k), obj: ref})
			}
			t.note(ti, ii, k)
		}
	}
	return nil
}

// Replace puts obj in place of the stored row with the same primary key,
// for a row stored in another form whose key in every index is the row's
// (a job frozen when it ends): only the primary index is written, and no
// secondary key is computed. Insert would compute every key twice to find
// them unchanged. ErrNotFound if there is no such row.
func (t *Txn) Replace(table string, obj any) error {
	if err := t.checkWrite(); err != nil {
		return err
	}
	ti, _, old, err := t.stored("replace in", table, obj)
	if err != nil {
		return err
	}
	t.mutable(ti, 0).Set(item{key: old.key, obj: obj})
	t.note(ti, 0, old.key)
	return nil
}

// rowRef is what a secondary index entry holds: the row's primary key.
type rowRef struct{ id string }

// oldRef returns the rowRef an entry the update keeps already holds (so a
// row has one however often it changes), or a new one.
func (t *Txn) oldRef(ti, n int, oldKeys, newKeys [][]string, id string) *rowRef {
	for ii := 1; ii < n && oldKeys != nil; ii++ {
		for _, k := range newKeys[ii] {
			if !contains(oldKeys[ii], k) {
				continue
			}
			if it, ok := t.root.trees[ti][ii].Get(item{key: k}); ok {
				if ref, ok := it.obj.(*rowRef); ok && ref.id == id {
					return ref
				}
			}
		}
	}
	return &rowRef{id: id}
}

// row returns the row an entry of index ii leads to, read from the Txn's
// current version of the primary index (a write Txn's own writes included),
// or false when the row is gone.
func (t *Txn) row(ti, ii int, it item) (any, bool) {
	if ii == 0 {
		return it.obj, true
	}
	ref, ok := it.obj.(*rowRef)
	if !ok {
		return nil, false
	}
	r, ok := t.root.trees[ti][0].Get(item{key: ref.id})
	return r.obj, ok
}

func contains(keys []string, k string) bool {
	for _, x := range keys {
		if x == k {
			return true
		}
	}
	return false
}

// note records a change for the watchers. With none registered (a
// follower nobody long-polls) it records nothing: the list was a tenth of
// what a replica allocated per write.
func (t *Txn) note(ti, ii int, key string) {
	if t.unwatched {
		return
	}
	if !t.db.watch.waiting() {
		t.unrecorded = true
		return
	}
	t.changes = append(t.changes, change{table: ti, index: ii, key: key})
}

// Unwatched stops the write Txn from recording what it changes for
// watchers. Only for filling a database no reader has seen yet (a snapshot
// restore): there a record per index entry is a million entries of garbage.
// An unwatched Txn also takes Inserts into different tables from different
// goroutines at once (each table's trees are its own), so a restore fills
// its tables in parallel; one table still takes one goroutine at a time.
func (t *Txn) Unwatched() { t.unwatched = true }

// Delete removes the row with obj's primary key (ErrNotFound if none).
func (t *Txn) Delete(table string, obj any) error {
	if err := t.checkWrite(); err != nil {
		return err
	}
	ti, td, old, err := t.stored("delete from", table, obj)
	if err != nil {
		return err
	}
	return t.deleteRow(ti, td, old.obj)
}

// stored finds the primary entry of the row with obj's primary key
// (ErrNotFound if none), for the operation op names in errors.
func (t *Txn) stored(op, table string, obj any) (int, *tableDef, item, error) {
	ti, td, err := t.table(table)
	if err != nil {
		return 0, nil, item{}, err
	}
	ids, err := td.indexes[0].keys(obj)
	if err != nil {
		return 0, nil, item{}, fmt.Errorf("memtab: %s %s: %w", op, table, err)
	}
	old, ok := t.root.trees[ti][0].Get(item{key: ids[0]})
	if !ok {
		return 0, nil, item{}, fmt.Errorf("memtab: %s %s: %w", op, table, ErrNotFound)
	}
	return ti, td, old, nil
}

func (t *Txn) deleteRow(ti int, td *tableDef, obj any) error {
	for ii, d := range td.indexes {
		keys, err := d.keys(obj)
		if err != nil {
			return fmt.Errorf("memtab: delete from %s: %w", td.name, err)
		}
		tr := t.mutable(ti, ii)
		for _, k := range keys {
			tr.Delete(item{key: k})
			t.note(ti, ii, k)
		}
	}
	return nil
}

// DeleteAll removes every row whose key in index starts with args' key, and
// returns how many.
func (t *Txn) DeleteAll(table, index string, args ...any) (int, error) {
	if err := t.checkWrite(); err != nil {
		return 0, err
	}
	it, err := t.Get(table, index, args...)
	if err != nil {
		return 0, err
	}
	var rows []any
	for obj := it.Next(); obj != nil; obj = it.Next() {
		rows = append(rows, obj)
	}
	ti, td, _ := t.table(table)
	for _, obj := range rows {
		if err := t.deleteRow(ti, td, obj); err != nil {
			return 0, err
		}
	}
	return len(rows), nil
}

// Commit publishes the write Txn's changes to new readers and wakes the
// watchers of what it changed. A read Txn's Commit does nothing.
func (t *Txn) Commit() {
	if !t.write || t.done {
		return
	}
	t.done = true
	db := t.db
	pub := &root{trees: make([][]*tree, len(t.root.trees))}
	for ti, ts := range t.root.trees {
		if t.copied[ti] == nil {
			pub.trees[ti] = t.base.trees[ti]
			continue
		}
		pub.trees[ti] = make([]*tree, len(ts))
		for ii, tr := range ts {
			if t.copied[ti][ii] {
				// The copy for readers; the Txn's tree becomes the writer's
				// working one, and its next writes copy the nodes they touch.
				pub.trees[ti][ii] = tr.Copy()
			} else {
				pub.trees[ti][ii] = t.base.trees[ti][ii]
			}
		}
	}
	db.working = t.root
	db.watch.publish(&db.published, pub, t.changes, t.unrecorded)
	t.changes = nil
	db.writer.Unlock()
}

// Compact repacks every index's nodes densely (the B-tree's Compact), one
// table at a time under the writer lock, and publishes the result: the
// content is unchanged, so no watch fires. After a burst of writes the
// surviving nodes sit a few to a span among the dead copies copy-on-write
// made (100-150 MB of resident spans beside 60 MB of nodes at 100,000
// jobs); after Compact and a collection those spans are free. A write waits
// for at most one table's repack.
func (db *MemDB) Compact() {
	for ti := range db.schema.tables {
		db.compactTable(ti)
	}
}

func (db *MemDB) compactTable(ti int) {
	db.writer.Lock()
	defer db.writer.Unlock()
	// The working root's slices are the writer's own (a write Txn copies
	// them, and publish makes the readers' own), so this table's may be
	// replaced in place.
	ts := make([]*tree, len(db.working.trees[ti]))
	for ii, t := range db.working.trees[ti] {
		ts[ii] = &tree{bt: t.bt.Compact()}
	}
	db.working.trees[ti] = ts
	pub := db.published.Load()
	next := &root{trees: append([][]*tree(nil), pub.trees...)}
	next.trees[ti] = copyTrees(ts)
	db.watch.publish(&db.published, next, nil, false)
}

// Abort drops a write Txn's changes. Safe to call after Commit.
func (t *Txn) Abort() {
	if !t.write || t.done {
		return
	}
	t.done = true
	t.changes = nil
	t.db.writer.Unlock()
}

// index resolves a table and index for a query; a name ending in "_prefix"
// uses the indexer's open-ended prefix form.
func (t *Txn) index(table, index string, args []any) (ti, ii int, key string, err error) {
	ti, td, err := t.table(table)
	if err != nil {
		return 0, 0, "", err
	}
	name, open := strings.CutSuffix(index, "_prefix")
	ii, ok := td.byName[name]
	if !ok {
		return 0, 0, "", fmt.Errorf("memtab: table %s has no index %q", table, index)
	}
	d := td.indexes[ii]
	var b []byte
	switch {
	case open && d.prefix == nil:
		return 0, 0, "", fmt.Errorf("memtab: index %s.%s has no prefix form", table, name)
	case open:
		b, err = d.prefix.PrefixFromArgs(args...)
	default:
		b, err = d.args.FromArgs(args...)
	}
	if err != nil {
		return 0, 0, "", fmt.Errorf("memtab: %s.%s: %w", table, name, err)
	}
	return ti, ii, string(b), nil
}

// Release tells the database that the reader which filled ws from this
// Txn's reads (WatchCh, FirstWatch) no longer waits on them: a channel no
// reader waits on is dropped instead of kept until it fires or ages out.
// Call it once per filled WatchSet, whether or not the reader waited.
func (t *Txn) Release(ws WatchSet) { t.db.watch.release(ws) }

// Releaser returns Release bound to the database alone, for a reader that
// lets go of its Txn, and the version the Txn keeps alive, before it waits.
func (t *Txn) Releaser() func(WatchSet) { return t.db.watch.release }
