package memtab

import "github.com/shoal-io/shoal/fsm/memtab/internal/btree"

// item is one index entry: the key and the row it leads to. Secondary
// indexes hold the row too, so a read through them needs no second lookup.
type item struct {
	key string
	obj any
}

func less(a, b item) bool { return a.key < b.key }

// degree gives nodes of up to 63 entries: few levels, and a node copied on
// write costs a couple of kilobytes.
const degree = 16

// tree is one index: a copy-on-write B-tree of items.
//
// google/btree (a fork: internal/btree, whose leaves split where appends
// keep them full), not tidwall/btree: tidwall's split leaves the new right node
// sharing the left node's array, and once the right node is copied on write
// and its rows replaced, the left node's array still points at the old rows.
// Rows are appended in time order and then replaced by their frozen form, so
// half of every table's rows were kept twice, decoded. google/btree copies on
// split and clears what it drops.
type tree struct{ bt *btree.BTreeG[item] }

// newTree returns an empty index; appended says its keys arrive in
// ascending order within ranges (IndexSchema.Appended).
func newTree(appended bool) *tree {
	bt := btree.NewG(degree, less)
	if appended {
		bt.SplitAtInsert()
	}
	return &tree{bt: bt}
}

// Copy returns a version sharing every node; whichever of the two is written
// next copies the nodes it touches. Only the writer calls it.
func (t *tree) Copy() *tree { return &tree{bt: t.bt.Clone()} }

func (t *tree) Get(k item) (item, bool) { return t.bt.Get(k) }
func (t *tree) Set(it item)             { t.bt.ReplaceOrInsert(it) }
func (t *tree) Delete(k item)           { t.bt.Delete(k) }
func (t *tree) Len() int                { return t.bt.Len() }

// cursorChunk is how many entries a cursor takes from the tree at a time:
// google/btree walks with callbacks, so a cursor refills from where it
// stopped, a descent of three or four levels per chunk.
const cursorChunk = 32

// cursor walks a tree version (which never changes under it) in key order,
// either way, one entry at a time.
type cursor struct {
	tr      *tree
	reverse bool
	// from is where the next refill starts; skip excludes from itself (it was
	// returned already, or it is an exclusive bound); fromEnd starts at the
	// first (or, reverse, the last) entry.
	from          string
	skip, fromEnd bool
	buf           []item
	pos           int
	done          bool
}

func (c *cursor) next() (item, bool) {
	if c.pos == len(c.buf) {
		if c.done || !c.fill() {
			c.done = true
			return item{}, false
		}
	}
	it := c.buf[c.pos]
	c.buf[c.pos] = item{}
	c.pos++
	c.from, c.skip, c.fromEnd = it.key, true, false
	return it, true
}

func (c *cursor) fill() bool {
	if c.buf == nil {
		c.buf = make([]item, 0, cursorChunk)
	}
	c.buf, c.pos = c.buf[:0], 0
	collect := func(it item) bool {
		if c.skip && it.key == c.from {
			return true
		}
		c.buf = append(c.buf, it)
		return len(c.buf) < cursorChunk
	}
	switch {
	case c.fromEnd && c.reverse:
		c.tr.bt.Descend(collect)
	case c.fromEnd:
		c.tr.bt.Ascend(collect)
	case c.reverse:
		c.tr.bt.DescendLessOrEqual(item{key: c.from}, collect)
	default:
		c.tr.bt.AscendGreaterOrEqual(item{key: c.from}, collect)
	}
	return len(c.buf) > 0
}
