package scheduler

// entryHeap is a container/heap of broker entries; an entry sits in at most
// one heap at a time, so one heapIdx field serves them all.
type entryHeap struct {
	items []*entry
	less  func(a, b *entry) bool
}

func (h entryHeap) Len() int           { return len(h.items) }
func (h entryHeap) Less(i, j int) bool { return h.less(h.items[i], h.items[j]) }
func (h entryHeap) Swap(i, j int) {
	h.items[i], h.items[j] = h.items[j], h.items[i]
	h.items[i].heapIdx = i
	h.items[j].heapIdx = j
}

func (h *entryHeap) Push(x any) {
	e := x.(*entry)
	e.heapIdx = len(h.items)
	h.items = append(h.items, e)
}

func (h *entryHeap) Pop() any {
	n := len(h.items) - 1
	e := h.items[n]
	h.items[n] = nil
	h.items = h.items[:n]
	e.heapIdx = -1
	return e
}

func (h entryHeap) peek() *entry {
	if len(h.items) == 0 {
		return nil
	}
	return h.items[0]
}

// readyLess orders by priority (higher first), then age.
func readyLess(a, b *entry) bool {
	if a.eval.Priority != b.eval.Priority {
		return a.eval.Priority > b.eval.Priority
	}
	if a.eval.CreateTime != b.eval.CreateTime {
		return a.eval.CreateTime < b.eval.CreateTime
	}
	return a.seq < b.seq
}

func dueLess(a, b *entry) bool {
	if a.due != b.due {
		return a.due < b.due
	}
	return a.seq < b.seq
}

// jobHeap orders blocked jobs by priority (higher first), then by how long
// they have been waiting since they last blocked.
type jobHeap []*jobQueue

func (h jobHeap) Len() int { return len(h) }
func (h jobHeap) Less(i, j int) bool {
	if h[i].blockedPriority != h[j].blockedPriority {
		return h[i].blockedPriority > h[j].blockedPriority
	}
	return h[i].blockedSeq < h[j].blockedSeq
}
func (h jobHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].blockedIdx = i
	h[j].blockedIdx = j
}

func (h *jobHeap) Push(x any) {
	q := x.(*jobQueue)
	q.blockedIdx = len(*h)
	*h = append(*h, q)
}

func (h *jobHeap) Pop() any {
	old := *h
	n := len(old) - 1
	q := old[n]
	old[n] = nil
	*h = old[:n]
	q.blockedIdx = -1
	return q
}
