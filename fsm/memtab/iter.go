package memtab

// ResultIterator walks query results; Next returns nil at the end.
// WatchCh returns a channel closed when a later commit changes a key in the
// iterator's range (or the state has already moved on since the Txn was
// opened): a blocking query waits on it, then reads again.
type ResultIterator interface {
	WatchCh() <-chan struct{}
	Next() any
}

type iterator struct {
	t      *Txn
	ti, ii int
	// prefix bounds the walk (Get, GetReverse); a LowerBound walk has none.
	prefix  string
	bounded bool
	cur     cursor
	ended   bool
}

func (it *iterator) Next() any {
	if it.ended {
		return nil
	}
	for {
		cur, ok := it.cur.next()
		if !ok || (it.bounded && !hasPrefix(cur.key, it.prefix)) {
			it.ended = true
			return nil
		}
		// A row a write Txn removed after the walk began is passed over.
		if obj, ok := it.t.row(it.ti, it.ii, cur); ok {
			return obj
		}
	}
}

func (it *iterator) WatchCh() <-chan struct{} {
	return it.t.db.watch.register(&it.t.db.published, it.t.root, it.ti, it.ii, it.prefix)
}

func hasPrefix(s, p string) bool { return len(s) >= len(p) && s[:len(p)] == p }

// treeFor is the tree a query reads: a write Txn walks a copy of its own, so
// it may write while it iterates.
func (t *Txn) treeFor(ti, ii int) *tree {
	tr := t.root.trees[ti][ii]
	if t.write && !t.done {
		return t.mutable(ti, ii).Copy()
	}
	return tr
}

// newIter starts at from (excluded when skip), or at the end when fromEnd.
func (t *Txn) newIter(ti, ii int, prefix string, bounded, reverse bool, from string, skip, fromEnd bool) *iterator {
	return &iterator{t: t, ti: ti, ii: ii, prefix: prefix, bounded: bounded,
		cur: cursor{tr: t.treeFor(ti, ii), reverse: reverse, from: from, skip: skip, fromEnd: fromEnd}}
}

// Get walks the rows whose key in index starts with args' key, in key order.
func (t *Txn) Get(table, index string, args ...any) (ResultIterator, error) {
	ti, ii, key, err := t.index(table, index, args)
	if err != nil {
		return nil, err
	}
	return t.newIter(ti, ii, key, true, false, key, false, false), nil
}

// GetReverse is Get in descending key order.
func (t *Txn) GetReverse(table, index string, args ...any) (ResultIterator, error) {
	ti, ii, key, err := t.index(table, index, args)
	if err != nil {
		return nil, err
	}
	if succ, ok := successor(key); ok {
		return t.newIter(ti, ii, key, true, true, succ, true, false), nil
	}
	return t.newIter(ti, ii, key, true, true, "", false, true), nil
}

// LowerBound walks every row from the first key ≥ args' key to the end.
func (t *Txn) LowerBound(table, index string, args ...any) (ResultIterator, error) {
	ti, ii, key, err := t.index(table, index, args)
	if err != nil {
		return nil, err
	}
	return t.newIter(ti, ii, "", false, false, key, false, false), nil
}

// ReverseLowerBound walks every row from the last key ≤ args' key down to
// the first.
func (t *Txn) ReverseLowerBound(table, index string, args ...any) (ResultIterator, error) {
	ti, ii, key, err := t.index(table, index, args)
	if err != nil {
		return nil, err
	}
	return t.newIter(ti, ii, "", false, true, key, false, false), nil
}

// First returns the first row Get would, or nil. It reads the Txn's trees in
// place: nothing is written while it looks, so a write Txn need not copy.
func (t *Txn) First(table, index string, args ...any) (any, error) {
	ti, ii, key, err := t.index(table, index, args)
	if err != nil {
		return nil, err
	}
	var first item
	found := false
	t.root.trees[ti][ii].bt.AscendGreaterOrEqual(item{key: key}, func(it item) bool {
		first, found = it, hasPrefix(it.key, key)
		return false
	})
	if !found {
		return nil, nil
	}
	obj, _ := t.row(ti, ii, first)
	return obj, nil
}

// FirstWatch is First with the watch channel of its range.
func (t *Txn) FirstWatch(table, index string, args ...any) (<-chan struct{}, any, error) {
	it, err := t.Get(table, index, args...)
	if err != nil {
		return nil, nil, err
	}
	return it.WatchCh(), it.Next(), nil
}

// successor is the smallest key greater than every key starting with p;
// false when none exists (p empty or all 0xff).
func successor(p string) (string, bool) {
	b := []byte(p)
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] < 0xff {
			b[i]++
			return string(b[:i+1]), true
		}
	}
	return "", false
}
