// Shoal addition to the fork (not in google/btree).

package btree

import "unsafe"

// compactBlock is the size of the blocks Compact carves nodes from: each is
// a span of its own, so it fragments nothing.
const compactBlock = 64 << 10

// Compact returns a copy of t whose nodes are carved from a few large
// blocks, each node's arrays exactly as long as what it holds.
//
// Why: copy-on-write makes every write copy the nodes on its path, so the
// nodes that survive a burst of writes were each made among many copies
// that died, in the same small size classes; they are left scattered a few
// to a span, and those spans stay resident for as long as the nodes live.
// A compacted copy packs them densely and lets every old span go.
//
// The copy shares no node with t, and t is left as it was. Its nodes belong
// to no tree's copy-on-write context, so the first write to any of them
// copies it out of its block; a block lives while any node carved from it
// is still in use. Like Clone, it must not run concurrently with a write to t.
func (t *BTreeG[T]) Compact() *BTreeG[T] {
	cow := *t.cow
	out := &BTreeG[T]{degree: t.degree, length: t.length, cow: &cow}
	if t.root != nil {
		c := compactor[T]{cow: &copyOnWriteContext[T]{freelist: t.cow.freelist, less: t.cow.less, splitAtInsert: t.cow.splitAtInsert, carvedMax: t.maxItems()}}
		out.root = c.copy(t.root)
	}
	return out
}

// compactor carves a tree's copy from its current blocks.
type compactor[T any] struct {
	cow      *copyOnWriteContext[T] // owns the carved nodes; no tree writes with it
	nodes    []node[T]
	items    []T
	children []*node[T]
}

func (c *compactor[T]) copy(n *node[T]) *node[T] {
	if len(c.nodes) == cap(c.nodes) {
		c.nodes = make([]node[T], 0, compactBlock/unsafe.Sizeof(node[T]{}))
	}
	c.nodes = c.nodes[:len(c.nodes)+1]
	out := &c.nodes[len(c.nodes)-1]
	out.cow = c.cow
	out.items = carve(&c.items, len(n.items))
	copy(out.items, n.items)
	if len(n.children) > 0 {
		out.children = carve(&c.children, len(n.children))
		for i, child := range n.children {
			out.children[i] = c.copy(child)
		}
	}
	return out
}

// carve returns n elements of the block b, starting a new block when b has
// no room; their capacity is n, so an append cannot reach a neighbour.
func carve[E any](b *[]E, n int) []E {
	if n == 0 {
		return nil
	}
	if cap(*b)-len(*b) < n {
		var zero E
		size := compactBlock / int(unsafe.Sizeof(zero))
		if n > size {
			size = n
		}
		*b = make([]E, 0, size)
	}
	start := len(*b)
	*b = (*b)[:start+n]
	return (*b)[start : start+n : start+n]
}
