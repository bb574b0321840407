package fsm

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/shoal-io/shoal/fsm/memtab"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
)

// The label index holds one entry per label of every job, keyed
// key NUL value NUL create-time job-ID NUL. A selector with an equality
// requirement reads the jobs carrying that label in create order instead of
// scanning every job: a label that one job in 100,000 carries is found in
// one lookup.
const labelIndex = "label"

type labelIndexer struct{}

func labelIndexSchema() *memtab.IndexSchema {
	return &memtab.IndexSchema{Name: labelIndex, Unique: true, AllowMissing: true, Stable: true, Appended: true, Indexer: labelIndexer{}}
}

func (labelIndexer) FromObject(obj any) (bool, [][]byte, error) {
	r, ok := obj.(*jobRecord)
	if !ok {
		return false, nil, nil
	}
	j := r.head()
	var keys [][]byte
	r.eachLabel(func(k, v string) {
		b := make([]byte, 0, len(k)+len(v)+len(j.ID)+11)
		keys = append(keys, appendString(appendInt64(appendString(appendString(b, k), v), j.CreateTime), j.ID))
	})
	return len(keys) > 0, keys, nil
}

// FromArgs takes key, value and optionally create time and job ID (a start
// key for LowerBound).
func (labelIndexer) FromArgs(args ...any) ([]byte, error) {
	if len(args) < 2 || len(args) > 4 {
		return nil, fmt.Errorf("label index takes key, value[, create time[, job ID]], got %d arguments", len(args))
	}
	var b []byte
	for i, a := range args {
		switch i {
		case 0, 1, 3:
			s, ok := a.(string)
			if !ok {
				return nil, fmt.Errorf("argument %d: want string, got %T", i, a)
			}
			b = appendString(b, s)
		case 2:
			v, ok := a.(int64)
			if !ok {
				return nil, fmt.Errorf("argument %d: want int64, got %T", i, a)
			}
			b = appendInt64(b, v)
		}
	}
	return b, nil
}

// equalityLabel returns a key=value pair every job the selector matches
// must carry, if it has one.
func equalityLabel(sel labels.Selector) (key, value string, ok bool) {
	if sel == nil {
		return "", "", false
	}
	reqs, selectable := sel.Requirements()
	if !selectable {
		return "", "", false
	}
	for _, r := range reqs {
		switch r.Operator() {
		case selection.Equals, selection.DoubleEquals, selection.In:
			if vals := r.Values(); vals.Len() == 1 {
				return r.Key(), vals.UnsortedList()[0], true
			}
		}
	}
	return "", "", false
}

// labelScanCap bounds how many jobs a label lookup gathers to sort in
// another order than create time; a label that common is found faster by
// scanning the order's own index.
const labelScanCap = 20000

// labelIterator iterates the jobs carrying key=value in create order, from
// the cursor when one is given.
func (t *ReadTxn) labelIterator(key, value string, reverse bool, cur *jobCursor) (memtab.ResultIterator, error) {
	table := tableJobs.String()
	var it memtab.ResultIterator
	var err error
	switch {
	case cur == nil && !reverse:
		it, err = t.txn.Get(table, labelIndex, key, value)
	case cur == nil:
		it, err = t.txn.GetReverse(table, labelIndex, key, value)
	case reverse:
		it, err = t.txn.ReverseLowerBound(table, labelIndex, key, value, cur.Time, cur.ID)
	default:
		it, err = t.txn.LowerBound(table, labelIndex, key, value, cur.Time, cur.ID)
	}
	if err != nil {
		return nil, fmt.Errorf("list jobs by label %s=%s: %w", key, value, err)
	}
	if cur == nil {
		return it, nil // a prefix walk stays within the label
	}
	return &labelBound{it: it, key: key, value: value, reverse: reverse, time: cur.Time, id: cur.ID}, nil
}

// labelBound stops a walk started with (Reverse)LowerBound where the label's
// entries end. The iterator yields jobs, not keys, so the end is found by
// order: within the label, (create time, ID) moves strictly one way. A row
// past the label's entries either lacks the label, or carries it and so has
// its own entry in the label's range, which the walk has already passed
// (it lies behind the cursor or was yielded): either way it is not further
// along than the last row yielded.
type labelBound struct {
	it         memtab.ResultIterator
	key, value string
	reverse    bool
	time       int64
	id         string
}

func (b *labelBound) WatchCh() <-chan struct{} { return b.it.WatchCh() }

func (b *labelBound) Next() any {
	r, ok := b.it.Next().(*jobRecord)
	if !ok {
		return nil
	}
	j := r.head()
	c := cmp.Compare(j.CreateTime, b.time)
	if c == 0 {
		c = cmp.Compare(j.ID, b.id)
	}
	if b.reverse {
		c = -c
	}
	if c <= 0 {
		if v, has := r.labelSet().Lookup(b.key); c == 0 && has && v == b.value {
			return r // the cursor's own row: ListJobs skips it
		}
		return nil
	}
	if v, has := r.labelSet().Lookup(b.key); !has || v != b.value {
		return nil
	}
	b.time, b.id = j.CreateTime, j.ID
	return r
}

// jobsWithLabel gathers the jobs carrying key=value in order, from after the
// cursor, or reports false when more than labelScanCap carry the label.
func (t *ReadTxn) jobsWithLabel(key, value, order string, reverse bool, cur *jobCursor) (memtab.ResultIterator, bool, error) {
	it, err := t.labelIterator(key, value, false, nil)
	if err != nil {
		return nil, false, err
	}
	var rows []*jobRecord
	for raw := it.Next(); raw != nil; raw = it.Next() {
		if len(rows) == labelScanCap {
			return nil, false, nil
		}
		rows = append(rows, raw.(*jobRecord))
	}
	dir := 1
	if reverse {
		dir = -1
	}
	slices.SortFunc(rows, func(a, b *jobRecord) int { return dir * compareJobs(order, a.head(), b.head()) })
	if cur != nil {
		at := jobHead{ID: cur.ID, CreateTime: cur.Time, ModifyTime: cur.Time}
		n, _ := slices.BinarySearchFunc(rows, at, func(r *jobRecord, at jobHead) int { return dir * compareJobs(order, r.head(), at) })
		rows = rows[n:]
	}
	return &sliceIterator{rows: rows}, true, nil
}

// sliceIterator serves gathered rows as a memtab iterator.
type sliceIterator struct {
	rows []*jobRecord
}

func (s *sliceIterator) WatchCh() <-chan struct{} { return nil }

func (s *sliceIterator) Next() any {
	if len(s.rows) == 0 {
		return nil
	}
	r := s.rows[0]
	s.rows = s.rows[1:]
	return r
}

// compareJobs orders jobs as the list order's index does.
func compareJobs(order string, a, b jobHead) int {
	switch order {
	case orderCreate:
		if c := cmp.Compare(a.CreateTime, b.CreateTime); c != 0 {
			return c
		}
	case orderModify:
		if c := cmp.Compare(a.ModifyTime, b.ModifyTime); c != 0 {
			return c
		}
	}
	return cmp.Compare(a.ID, b.ID)
}
