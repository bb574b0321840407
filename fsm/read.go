package fsm

import (
	"errors"
	"fmt"
	"strings"

	"github.com/shoal-io/shoal/api"
	"github.com/shoal-io/shoal/fsm/memtab"
)

// ReadTxn is a consistent, read-only view of the state at one applied index.
// Every object it returns is shared with the store: never modify one (copy
// it first). A ReadTxn only reads, so goroutines may share one.
type ReadTxn struct {
	txn *memtab.Txn
	// abandon is closed when a snapshot restore replaces the state this view
	// reads, so watchers wake and read the new state.
	abandon <-chan struct{}
}

// Index returns the raft index of the last entry applied in this view.
func (t *ReadTxn) Index() uint64 {
	r, err := readIndexRecord(t.txn, appliedKey)
	if err != nil {
		return 0
	}
	return r.Index
}

// NodesIndex returns the raft index of the last change to the nodes table, a
// cache key for anything derived from the node list.
func (t *ReadTxn) NodesIndex() uint64 { return t.tableIndex(tableNodes) }

// JobsIndex returns the raft index of the last change to the jobs table.
func (t *ReadTxn) JobsIndex() uint64 { return t.tableIndex(tableJobs) }

// TableIndexes returns, per table name, the raft index of its last change.
func (t *ReadTxn) TableIndexes() map[string]uint64 {
	out := make(map[string]uint64, tableIndex-tableJobs)
	for tab := tableJobs; tab < tableCount; tab++ {
		if tab == tableIndex {
			continue
		}
		out[tab.String()] = t.tableIndex(tab)
	}
	return out
}

func (t *ReadTxn) tableIndex(tab tableID) uint64 {
	r, err := readIndexRecord(t.txn, tab.String())
	if err != nil {
		return 0
	}
	return r.Index
}

// Counts returns the number of rows of the main tables, for metrics.
func (t *ReadTxn) Counts() (jobs, executions, evals, nodes int) {
	rows := func(tab tableID) int {
		r, err := readIndexRecord(t.txn, tab.String())
		if err != nil {
			return 0
		}
		return r.Rows
	}
	return rows(tableJobs), rows(tableExecutions), rows(tableEvals), rows(tableNodes)
}

// Job returns the job with exactly this ID (api.ErrNotFound when missing).
func (t *ReadTxn) Job(id string) (*api.Job, error) {
	r, ok, err := lookup[*jobRecord](t.txn, tableJobs, "id", id)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, jobNotFound(id)
	}
	return r.job(), nil
}

// ResolveJob returns the job with this ID or, failing that, the only job
// whose ID starts with it. No match is api.ErrNotFound; several are
// api.ErrAmbiguousID naming some of them.
func (t *ReadTxn) ResolveJob(idOrPrefix string) (*api.Job, error) {
	if idOrPrefix == "" {
		return nil, api.BadRequestf("missing job ID")
	}
	rec, err := resolve[*jobRecord](t.txn, tableJobs, idOrPrefix, func(r *jobRecord) string { return r.head().ID })
	if err != nil {
		var amb *ambiguousError
		if errors.As(err, &amb) {
			return nil, ambiguousID("jobs", "job", amb, api.ComponentJobStore)
		}
		return nil, err
	}
	if rec == nil {
		return nil, jobNotFound(idOrPrefix)
	}
	return rec.job(), nil
}

// Node returns the node with exactly this ID (api.ErrNotFound when missing).
func (t *ReadTxn) Node(id string) (*api.NodeInfo, error) {
	r, ok, err := lookup[*nodeRecord](t.txn, tableNodes, "id", id)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, nodeNotFound(id)
	}
	return r.Node, nil
}

// ResolveNode is ResolveJob for nodes.
func (t *ReadTxn) ResolveNode(idOrPrefix string) (*api.NodeInfo, error) {
	if idOrPrefix == "" {
		return nil, api.BadRequestf("missing node ID")
	}
	rec, err := resolve[*nodeRecord](t.txn, tableNodes, idOrPrefix, func(r *nodeRecord) string { return r.Node.NodeID })
	if err != nil {
		var amb *ambiguousError
		if errors.As(err, &amb) {
			return nil, ambiguousID("nodes", "node", amb, api.ComponentNodeStore)
		}
		return nil, err
	}
	if rec == nil {
		return nil, nodeNotFound(idOrPrefix)
	}
	return rec.Node, nil
}

// Nodes returns every node, by ID.
func (t *ReadTxn) Nodes() ([]*api.NodeInfo, error) {
	it, err := t.txn.Get(tableNodes.String(), "id")
	if err != nil {
		return nil, fmt.Errorf("list nodes: %w", err)
	}
	return collect(it, func(r *nodeRecord) *api.NodeInfo { return r.Node }, nil), nil
}

// Eval returns an evaluation (api.ErrNotFound when missing).
func (t *ReadTxn) Eval(id string) (*api.Evaluation, error) {
	e, ok, err := lookup[*api.Evaluation](t.txn, tableEvals, "id", id)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, api.NotFoundf(api.ComponentJobStore, "evaluation not found: %s", id)
	}
	return e, nil
}

// EvalsByStatus returns the evaluations in a status, oldest first.
func (t *ReadTxn) EvalsByStatus(status string) ([]*api.Evaluation, error) {
	return t.evalsBy("status", status)
}

// EvalsByJob returns a job's evaluations, oldest first.
func (t *ReadTxn) EvalsByJob(jobID string) ([]*api.Evaluation, error) {
	return t.evalsBy("job", jobID)
}

func (t *ReadTxn) evalsBy(index, key string) ([]*api.Evaluation, error) {
	it, err := t.txn.Get(tableEvals.String(), index, key)
	if err != nil {
		return nil, fmt.Errorf("list evaluations by %s: %w", index, err)
	}
	return collect(it, func(e *api.Evaluation) *api.Evaluation { return e }, nil), nil
}

// Idempotency returns the IDs a create with this token produced, while the
// token has not expired at now (Unix ns).
func (t *ReadTxn) Idempotency(token string, now int64) (jobID, evalID string, ok bool) {
	if token == "" {
		return "", "", false
	}
	r, found, err := lookup[*tokenRecord](t.txn, tableTokens, "id", token)
	if err != nil || !found || r.Expiry <= now {
		return "", "", false
	}
	return r.jobID(), r.evalID(), true
}

// maxCandidates is how many matches an ambiguous-ID error names.
const maxCandidates = 5

type ambiguousError struct {
	prefix     string
	candidates []string
	more       bool
}

func (e *ambiguousError) Error() string { return "ambiguous prefix " + e.prefix }

// resolve finds the row whose ID is id, or the only one starting with it (nil
// when none).
func resolve[T any](txn *memtab.Txn, tab tableID, id string, idOf func(T) string) (T, error) {
	var zero T
	if r, ok, err := lookup[T](txn, tab, "id", id); err != nil || ok {
		return r, err
	}
	it, err := txn.Get(tab.String(), "id_prefix", id)
	if err != nil {
		return zero, fmt.Errorf("resolve %s prefix: %w", tab, err)
	}
	var found T
	var ids []string
	for raw := it.Next(); raw != nil; raw = it.Next() {
		r, ok := raw.(T)
		if !ok {
			continue
		}
		if len(ids) == maxCandidates {
			return zero, &ambiguousError{prefix: id, candidates: ids, more: true}
		}
		found = r
		ids = append(ids, idOf(r))
	}
	switch len(ids) {
	case 0:
		return zero, nil
	case 1:
		return found, nil
	}
	return zero, &ambiguousError{prefix: id, candidates: ids}
}

func ambiguousID(plural, singular string, amb *ambiguousError, component string) *api.Error {
	list := strings.Join(amb.candidates, ", ")
	if amb.more {
		list += ", ..."
	}
	return (&api.Error{
		Kind:      api.ErrAmbiguousID,
		Code:      api.CodeMultipleFound,
		Component: component,
		Message:   fmt.Sprintf("multiple %s found for ID prefix %s: %s", plural, amb.prefix, list),
	}).WithHint("use the full " + singular + " ID")
}
