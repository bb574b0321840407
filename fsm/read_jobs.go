package fsm

import (
	"fmt"

	"github.com/shoal-io/shoal/api"
	"github.com/shoal-io/shoal/fsm/memtab"
	"k8s.io/apimachinery/pkg/labels"
)

// JobQuery selects and orders a page of jobs.
type JobQuery struct {
	Namespace string          // "" or "*" = all
	Selector  labels.Selector // nil = all; matched against Job.Labels
	// OrderBy is "create_time" (default, also "created_at"), "modify_time"
	// (also "modified_at") or "id". With After set and OrderBy empty, the
	// cursor's order is used.
	OrderBy string
	Reverse bool
	Limit   int    // 0 = no limit
	After   string // the next token of the previous page
}

// Job list orders, as they appear in cursors.
const (
	orderCreate = "create_time"
	orderModify = "modify_time"
	orderID     = "id"
)

func parseJobOrder(s string) (string, error) {
	switch s {
	case "", "create_time", "created_at":
		return orderCreate, nil
	case "modify_time", "modified_at":
		return orderModify, nil
	case "id":
		return orderID, nil
	}
	return "", api.BadRequestf("invalid order_by %q: want create_time, modify_time or id", s)
}

// ListJobs returns a page of jobs and the token of the next page ("" when no
// rows remain). Pages are cut by sort key, not offset: across pages every job
// is returned once, even while jobs are created between pages (a job modified
// between pages can move in modify_time order).
func (t *ReadTxn) ListJobs(q JobQuery) ([]*api.Job, string, error) {
	order, err := parseJobOrder(q.OrderBy)
	if err != nil {
		return nil, "", err
	}
	if q.Limit < 0 {
		return nil, "", api.BadRequestf("invalid limit %d: must not be negative", q.Limit)
	}
	var cur *jobCursor
	if q.After != "" {
		cur = new(jobCursor)
		if err := decodeCursor(q.After, cur); err != nil {
			return nil, "", err
		}
		if q.OrderBy == "" && (cur.Order == orderCreate || cur.Order == orderModify || cur.Order == orderID) {
			order = cur.Order
		}
		if cur.Order != order || cur.Reverse != q.Reverse {
			return nil, "", api.BadRequestf("next_token was issued for another order: order_by %s, reverse %t",
				cur.Order, cur.Reverse)
		}
	}
	ns := q.Namespace
	if ns == "*" {
		ns = ""
	}

	matchAll := q.Selector == nil || q.Selector.Empty()
	// nsGrouped: the iterator holds the namespace's rows together, so the
	// first row of another namespace ends the page.
	nsGrouped := order == orderCreate
	var it memtab.ResultIterator
	if key, value, ok := equalityLabel(q.Selector); ok && !matchAll {
		nsGrouped = false
		if order == orderCreate {
			it, err = t.labelIterator(key, value, q.Reverse, cur)
		} else {
			var gathered bool
			if it, gathered, err = t.jobsWithLabel(key, value, order, q.Reverse, cur); err == nil && !gathered {
				it, err = t.jobIterator(order, ns, q.Reverse, cur)
			}
		}
	} else {
		it, err = t.jobIterator(order, ns, q.Reverse, cur)
	}
	if err != nil {
		return nil, "", err
	}
	jobs := make([]*api.Job, 0, min(max(q.Limit, 0)+1, 64))
	more := false
	for raw := it.Next(); raw != nil; raw = it.Next() {
		r, ok := raw.(*jobRecord)
		if !ok {
			continue
		}
		j := r.head()
		if ns != "" && j.Namespace != ns {
			if nsGrouped {
				break // ns_create holds the namespace's rows together: we are past them
			}
			continue
		}
		if cur != nil && cur.isAt(order, j) {
			continue
		}
		if !matchAll && !q.Selector.Matches(r.labelSet()) {
			continue
		}
		if q.Limit > 0 && len(jobs) == q.Limit {
			more = true
			break
		}
		jobs = append(jobs, r.job())
	}
	next := ""
	if more {
		last := jobs[len(jobs)-1]
		c := jobCursor{Order: order, Reverse: q.Reverse, ID: last.ID}
		switch order {
		case orderCreate:
			c.Time = last.CreateTime
		case orderModify:
			c.Time = last.ModifyTime
		}
		next = encodeCursor(c)
	}
	return jobs, next, nil
}

// isAt reports whether j sits exactly at the cursor's key (the last row of
// the previous page).
func (c *jobCursor) isAt(order string, j jobHead) bool {
	switch order {
	case orderCreate:
		return j.CreateTime == c.Time && j.ID == c.ID
	case orderModify:
		return j.ModifyTime == c.Time && j.ID == c.ID
	}
	return j.ID == c.ID
}

// jobIterator positions an iterator on the index of the order (namespaced
// when ns is set) at the start of the page.
func (t *ReadTxn) jobIterator(order, ns string, reverse bool, cur *jobCursor) (memtab.ResultIterator, error) {
	index := order
	switch order {
	case orderCreate:
		index = "create"
	case orderModify:
		index = "modify"
	}
	var args []any
	if ns != "" && order == orderCreate {
		index = "ns_" + index
		args = append(args, ns)
	}
	table := tableJobs.String()
	var it memtab.ResultIterator
	var err error
	switch {
	case cur == nil && !reverse:
		it, err = t.txn.Get(table, index, args...)
	case cur == nil:
		it, err = t.txn.GetReverse(table, index, args...)
	default:
		if order != orderID {
			args = append(args, cur.Time)
		}
		args = append(args, cur.ID)
		if reverse {
			it, err = t.txn.ReverseLowerBound(table, index, args...)
		} else {
			it, err = t.txn.LowerBound(table, index, args...)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("list jobs by %s: %w", index, err)
	}
	return it, nil
}
