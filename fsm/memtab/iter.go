package memtab

import "github.com/tidwall/btree"

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
	reverse bool
	it      btree.IterG[item]
	// positioned: the first Next returns the item the seek found.
	positioned, ok bool
}

func (it *iterator) Next() any {
	if !it.ok {
		return nil
	}
	if it.positioned {
		it.positioned = false
	} else if it.reverse {
		it.ok = it.it.Prev()
	} else {
		it.ok = it.it.Next()
	}
	if !it.ok {
		return nil
	}
	cur := it.it.Item()
	if it.bounded && !hasPrefix(cur.key, it.prefix) {
		it.ok = false
		return nil
	}
	return cur.obj
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

func (t *Txn) newIter(ti, ii int, prefix string, bounded, reverse bool) *iterator {
	return &iterator{t: t, ti: ti, ii: ii, prefix: prefix, bounded: bounded, reverse: reverse,
		it: t.treeFor(ti, ii).Iter()}
}

// Get walks the rows whose key in index starts with args' key, in key order.
func (t *Txn) Get(table, index string, args ...any) (ResultIterator, error) {
	ti, ii, key, err := t.index(table, index, args)
	if err != nil {
		return nil, err
	}
	it := t.newIter(ti, ii, key, true, false)
	it.ok = it.it.Seek(item{key: key})
	it.positioned = it.ok
	return it, nil
}

// GetReverse is Get in descending key order.
func (t *Txn) GetReverse(table, index string, args ...any) (ResultIterator, error) {
	ti, ii, key, err := t.index(table, index, args)
	if err != nil {
		return nil, err
	}
	it := t.newIter(ti, ii, key, true, true)
	if succ, ok := successor(key); ok && it.it.Seek(item{key: succ}) {
		it.ok = it.it.Prev()
	} else {
		it.ok = it.it.Last()
	}
	it.positioned = it.ok
	return it, nil
}

// LowerBound walks every row from the first key ≥ args' key to the end.
func (t *Txn) LowerBound(table, index string, args ...any) (ResultIterator, error) {
	ti, ii, key, err := t.index(table, index, args)
	if err != nil {
		return nil, err
	}
	it := t.newIter(ti, ii, "", false, false)
	it.ok = it.it.Seek(item{key: key})
	it.positioned = it.ok
	return it, nil
}

// ReverseLowerBound walks every row from the last key ≤ args' key down to
// the first.
func (t *Txn) ReverseLowerBound(table, index string, args ...any) (ResultIterator, error) {
	ti, ii, key, err := t.index(table, index, args)
	if err != nil {
		return nil, err
	}
	it := t.newIter(ti, ii, "", false, true)
	switch {
	case !it.it.Seek(item{key: key}):
		it.ok = it.it.Last()
	case it.it.Item().key == key:
		it.ok = true
	default:
		it.ok = it.it.Prev()
	}
	it.positioned = it.ok
	return it, nil
}

// First returns the first row Get would, or nil. It reads the Txn's trees in
// place: nothing is written while it looks, so a write Txn need not copy.
func (t *Txn) First(table, index string, args ...any) (any, error) {
	ti, ii, key, err := t.index(table, index, args)
	if err != nil {
		return nil, err
	}
	it := t.root.trees[ti][ii].Iter()
	defer it.Release()
	if !it.Seek(item{key: key}) || !hasPrefix(it.Item().key, key) {
		return nil, nil
	}
	return it.Item().obj, nil
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
