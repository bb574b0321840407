package fsm

import (
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/shoal-io/shoal/api"
	"github.com/shoal-io/shoal/fsm/memtab"
)

// derivedIDSpace namespaces the IDs Apply invents (evaluations raised by
// reports and node events). They are name-based UUIDs of the raft index and
// the command's position, so every replica invents the same ones.
var derivedIDSpace = uuid.MustParse("5b0f3c52-8a4e-4c1e-9d57-2f6e0a1c7b39")

// applyCtx is the state of one write transaction. It is reused across Apply
// calls (raft applies from one goroutine).
type applyCtx struct {
	txn *memtab.Txn
	// base is the state before this transaction. Point lookups read base
	// plus written (the rows this transaction wrote), not txn: a range read
	// in a write transaction makes memtab copy the tree it walks, and the
	// next insert then copies its path again.
	base    *memtab.Txn
	written map[rowKey]any // nil value: deleted
	index   uint64

	// Per command: its position in the entry, its clock, and a counter for
	// derived IDs.
	cmdPos int
	now    int64
	idSeq  int

	// Per transaction: how many writes were made (a failing command must have
	// made none), which tables changed and how their row counts moved.
	writes  int
	changed [tableCount]bool
	rows    [tableCount]int
	// changedAt is the index of the entry that last changed each table: a
	// transaction may span several entries (ApplyBatch).
	changedAt [tableCount]uint64

	// ev collects what the observer hears once the entry is committed.
	ev events

	// codec freezes the rows that end in this transaction (frozen.go), into
	// arena's chunks (nil: allocations of their own). Idempotency tokens
	// have chunks of their own (tokens): they outlive the rows of their
	// jobs by up to a day under retention, and one token would keep a
	// chunk of collected rows alive with it.
	codec  *blobCodec
	arena  *arena
	tokens *arena
	// keepKeys is keep as a func value, made once (New) rather than per
	// transaction.
	keepKeys func(table, key string) string
	// maxTokens bounds the idempotency tokens kept (maxIdempotencyTokens;
	// tests lower it).
	maxTokens int

	// injectFailure, set only by tests, fails a command after it has
	// written, to exercise the rollback path no real command reaches.
	injectFailure func(Command) error
}

type rowKey struct {
	table tableID
	id    string
}

type events struct {
	evals []*api.Evaluation
	nodes []string
	freed []string
}

type eventMark struct{ evals, nodes, freed int }

func (e *events) mark() eventMark { return eventMark{len(e.evals), len(e.nodes), len(e.freed)} }

func (e *events) reset(m eventMark) {
	e.evals, e.nodes, e.freed = e.evals[:m.evals], e.nodes[:m.nodes], e.freed[:m.freed]
}

func (ac *applyCtx) begin(db *memtab.MemDB, index uint64) {
	ac.txn = db.Txn(true)
	ac.txn.KeepKeys(ac.keepKeys)
	ac.base = db.Txn(false)
	clear(ac.written)
	ac.index = index
	ac.writes = 0
	ac.changed = [tableCount]bool{}
	ac.changedAt = [tableCount]uint64{}
	ac.rows = [tableCount]int{}
}

// keep copies a key that lives as long as its row (a stable index's) into
// the arena of the row's table. A job's, execution's or history's keys are
// made when the row is first written, among that write's garbage, and
// stayed there one or two to a span for the row's life: at 100,000 jobs,
// 50 MB of keys held about twice that in partly used spans.
func (ac *applyCtx) keep(table, key string) string {
	switch table {
	case tableNames[tableJobs], tableNames[tableExecutions], tableNames[tableHistory]:
		return ac.arena.str(key)
	case tableNames[tableTokens]:
		return ac.tokens.str(key)
	}
	return key
}

func (ac *applyCtx) abort() {
	if ac.txn != nil {
		ac.txn.Abort()
		ac.txn = nil
	}
	ac.base = nil // as after a commit: no version kept until the next apply
}

// commit records the applied index (and, per changed table, its index and
// row count) and commits.
func (ac *applyCtx) commit() error {
	if err := ac.freeze(); err != nil {
		return err
	}
	for t := tableJobs; t < tableCount; t++ {
		if t == tableIndex || !ac.changed[t] {
			continue
		}
		old, err := readIndexRecord(ac.base, t.String())
		if err != nil {
			return err
		}
		rec := &indexRecord{Table: old.Table, Index: ac.changedAt[t], Rows: old.Rows + ac.rows[t]}
		if err := ac.txn.Insert(tableIndex.String(), rec); err != nil {
			return fmt.Errorf("record index of %s: %w", t, err)
		}
	}
	if err := ac.txn.Insert(tableIndex.String(), &indexRecord{Table: appliedKey, Index: ac.index}); err != nil {
		return fmt.Errorf("record applied index: %w", err)
	}
	ac.txn.Commit()
	ac.txn = nil
	// base would otherwise keep the version before this one (every node
	// this transaction copied) alive until the next apply.
	ac.base = nil
	return nil
}

// freeze replaces the rows written in this transaction that have ended
// with their frozen form: terminal jobs with their history (and history
// written later to an ended job), terminal executions. It depends only on
// the rows' final state, so every replica freezes the same rows. A row that
// cannot be encoded stays hot.
func (ac *applyCtx) freeze() error {
	if ac.codec == nil {
		return nil
	}
	for k, v := range ac.written {
		var err error
		var frozen any
		switch r := v.(type) {
		case *jobRecord:
			if r.frozen != nil || !r.Job.State.StateType.IsTerminal() {
				continue
			}
			if err := ac.freezeHistoryOf(k.id); err != nil {
				return err
			}
			frozen, err = freezeJob(ac.codec, ac.arena, r)
		case *execRecord:
			if r.frozen != nil || !r.Execution.IsTerminal() {
				continue
			}
			frozen, err = freezeExec(ac.codec, ac.arena, r)
		case *historyRecord:
			if r.frozen != nil {
				continue
			}
			job, ok, jerr := ac.job(r.JobID)
			if jerr != nil {
				return jerr
			}
			if !ok || !job.head().State.IsTerminal() {
				continue
			}
			frozen, err = freezeHistory(ac.codec, ac.arena, r)
		default:
			continue
		}
		if err != nil {
			continue // stays hot; reads and snapshots handle both forms
		}
		// The frozen form has the row's keys (TestFrozenRowsKeepTheirKeys).
		if err := ac.txn.Replace(k.table.String(), frozen); err != nil {
			return fmt.Errorf("freeze %s row %s: %w", k.table, k.id, err)
		}
		ac.written[k] = frozen
	}
	return nil
}

// freezeHistoryOf freezes the history of a job that ends in this
// transaction, unless it was written here (the loop in freeze reaches it).
func (ac *applyCtx) freezeHistoryOf(jobID string) error {
	if _, ok := ac.written[rowKey{tableHistory, jobID}]; ok {
		return nil
	}
	h, ok, err := lookup[*historyRecord](ac.base, tableHistory, "id", jobID)
	if err != nil || !ok || h.frozen != nil {
		return err
	}
	frozen, err := freezeHistory(ac.codec, ac.arena, h)
	if err != nil {
		return nil
	}
	if err := ac.txn.Replace(tableHistory.String(), frozen); err != nil {
		return fmt.Errorf("freeze history of %s: %w", jobID, err)
	}
	return nil
}

// takeEvents hands the collected events over; the observer may keep them.
func (ac *applyCtx) takeEvents() events {
	ev := ac.ev
	ac.ev = events{}
	return ev
}

func (ac *applyCtx) apply(pos int, cmd Command) (any, error) {
	v, err := ac.dispatch(pos, cmd)
	if err == nil && ac.injectFailure != nil {
		if err := ac.injectFailure(cmd); err != nil {
			return nil, err
		}
	}
	return v, err
}

func (ac *applyCtx) dispatch(pos int, cmd Command) (any, error) {
	ac.cmdPos, ac.idSeq, ac.now = pos, 0, cmd.IssuedAt()
	switch c := cmd.(type) {
	case *JobRegisterRequest:
		return nilOnError(ac.jobRegister(c))
	case *JobStopRequest:
		return nilOnError(ac.jobStop(c))
	case *Plan:
		return nilOnError(ac.planApply(c))
	case *ExecutionReportRequest:
		return nilOnError(ac.executionReport(c))
	case *NodeRegisterRequest:
		return nilOnError(ac.nodeRegister(c))
	case *NodeStatusRequest:
		return nilOnError(ac.nodeStatus(c))
	case *EvalUpdateRequest:
		return nil, ac.evalUpdate(c)
	case *IdempotencyPruneRequest:
		return nilOnError(ac.idempotencyPrune(c))
	case *EvalGCRequest:
		return nilOnError(ac.evalGC(c))
	case aclCommand:
		return c.apply(ac)
	case *JobGCRequest:
		return nilOnError(ac.jobGC(c))
	}
	return nil, fmt.Errorf("%w: %T", ErrUnknownCommand, cmd)
}

// nilOnError keeps a typed nil pointer out of Result.Value.
func nilOnError[T any](v *T, err error) (any, error) {
	if err != nil || v == nil {
		return nil, err
	}
	return v, nil
}

// put writes a row; id is its primary key, or "" for rows never looked up
// by key within a transaction (history).
func (ac *applyCtx) put(t tableID, id string, obj any, isNew bool) error {
	ac.writes++
	if id != "" {
		if ac.written == nil {
			ac.written = make(map[rowKey]any)
		}
		ac.written[rowKey{t, id}] = obj
	}
	ac.touch(t)
	if isNew {
		ac.rows[t]++
	}
	if err := ac.txn.Insert(t.String(), obj); err != nil {
		return fmt.Errorf("write %s: %w", t, err)
	}
	return nil
}

func (ac *applyCtx) remove(t tableID, id string, obj any) error {
	ac.writes++
	if ac.written == nil {
		ac.written = make(map[rowKey]any)
	}
	ac.written[rowKey{t, id}] = nil
	ac.touch(t)
	ac.rows[t]--
	if err := ac.txn.Delete(t.String(), obj); err != nil {
		return fmt.Errorf("delete from %s: %w", t, err)
	}
	return nil
}

// touch marks t changed by the entry being applied.
func (ac *applyCtx) touch(t tableID) {
	ac.changed[t] = true
	ac.changedAt[t] = ac.index
}

// derivedID returns the next ID this command invents.
func (ac *applyCtx) derivedID() string {
	ac.idSeq++
	name := fmt.Appendf(nil, "%d/%d/%d", ac.index, ac.cmdPos, ac.idSeq)
	return uuid.NewSHA1(derivedIDSpace, name).String()
}

func (ac *applyCtx) nowTime() time.Time { return time.Unix(0, ac.now).UTC() }

// row returns the current version of a row by primary key.
func row[T any](ac *applyCtx, t tableID, id string) (T, bool, error) {
	if v, ok := ac.written[rowKey{t, id}]; ok {
		r, isT := v.(T)
		return r, isT, nil
	}
	return lookup[T](ac.base, t, "id", id)
}

func (ac *applyCtx) job(id string) (*jobRecord, bool, error) {
	return row[*jobRecord](ac, tableJobs, id)
}

func (ac *applyCtx) execution(id string) (*execRecord, bool, error) {
	return row[*execRecord](ac, tableExecutions, id)
}

func (ac *applyCtx) node(id string) (*nodeRecord, bool, error) {
	return row[*nodeRecord](ac, tableNodes, id)
}

func (ac *applyCtx) eval(id string) (*api.Evaluation, bool, error) {
	return row[*api.Evaluation](ac, tableEvals, id)
}

func (ac *applyCtx) putJob(r *jobRecord, isNew bool) error {
	r.ModifyIndex = ac.index
	if isNew {
		r.CreateIndex = ac.index
	}
	return ac.put(tableJobs, r.head().ID, r, isNew)
}

// putExecution writes an execution and notes capacity it frees.
func (ac *applyCtx) putExecution(r *execRecord, old *execRecord) error {
	r.ModifyIndex = ac.index
	if old == nil {
		r.CreateIndex = ac.index
	} else if !old.head().Terminal && r.Execution.IsTerminal() {
		ac.ev.freed = append(ac.ev.freed, r.Execution.NodeID)
	}
	var before *api.Execution
	if old != nil {
		before = old.exec()
	}
	if err := adjustUsage(ac.txn, before, r.Execution); err != nil {
		return err
	}
	return ac.put(tableExecutions, r.Execution.ID, r, old == nil)
}

// putEval upserts an evaluation and tells the observer.
func (ac *applyCtx) putEval(e *api.Evaluation) error {
	_, exists, err := ac.eval(e.ID)
	if err != nil {
		return err
	}
	return ac.writeEval(e, !exists)
}

func (ac *applyCtx) writeEval(e *api.Evaluation, isNew bool) error {
	if err := ac.put(tableEvals, e.ID, e, isNew); err != nil {
		return err
	}
	ac.ev.evals = append(ac.ev.evals, e)
	return nil
}

// newEval raises a pending evaluation for job with a derived ID.
func (ac *applyCtx) newEval(job *api.Job, trigger string) (*api.Evaluation, error) {
	e := pendingEval(ac.derivedID(), job, trigger, ac.now)
	return e, ac.putEval(e)
}

// pendingEval is a new evaluation of job, ready for the broker.
func pendingEval(id string, job *api.Job, trigger string, now int64) *api.Evaluation {
	return &api.Evaluation{
		ID:          id,
		Namespace:   job.Namespace,
		JobID:       job.ID,
		TriggeredBy: trigger,
		Priority:    job.Priority,
		Type:        job.Type,
		Status:      api.EvalStatusPending,
		CreateTime:  now,
		ModifyTime:  now,
	}
}

// newHistory notes that a job created in this transaction has no events
// yet (job IDs are never reused), sparing appendHistory its lookup.
func (ac *applyCtx) newHistory(jobID string) {
	if ac.written == nil {
		ac.written = make(map[rowKey]any)
	}
	ac.written[rowKey{tableHistory, jobID}] = nil
}

// appendHistory stores ev as the job's next event: the job's history row is
// replaced by one with the event appended (readers may hold the old slice).
func (ac *applyCtx) appendHistory(ev *api.JobHistory) error {
	old, ok, err := row[*historyRecord](ac, tableHistory, ev.JobID)
	if err != nil {
		return err
	}
	var prev []*api.JobHistory
	if ok {
		if prev, err = old.events(); err != nil {
			return err
		}
	}
	events := make([]*api.JobHistory, len(prev), len(prev)+1)
	copy(events, prev)
	return ac.put(tableHistory, ev.JobID, &historyRecord{JobID: ev.JobID, Events: append(events, ev)}, !ok)
}

func (ac *applyCtx) jobEvent(job *api.Job, prev api.JobStateType, comment string) error {
	return ac.appendHistory(&api.JobHistory{
		Type:        api.JobHistoryTypeJobLevel,
		JobID:       job.ID,
		JobState:    &api.StateChange[api.JobStateType]{Previous: prev, New: job.State.StateType},
		NewRevision: job.Revision,
		Comment:     comment,
		Time:        ac.nowTime(),
	})
}

func (ac *applyCtx) execEvent(e *api.Execution, prev api.ExecutionStateType, comment string) error {
	return ac.appendHistory(&api.JobHistory{
		Type:           api.JobHistoryTypeExecutionLevel,
		JobID:          e.JobID,
		NodeID:         e.NodeID,
		ExecutionID:    e.ID,
		ExecutionState: &api.StateChange[api.ExecutionStateType]{Previous: prev, New: e.ComputeState.StateType},
		NewRevision:    e.Revision,
		Comment:        comment,
		Time:           ac.nowTime(),
	})
}

// setComputeState moves e (a private copy) to state with a history event.
func (ac *applyCtx) setComputeState(e *api.Execution, state api.State[api.ExecutionStateType]) error {
	prev := e.ComputeState.StateType
	e.ComputeState = state
	e.Revision++
	e.ModifyTime = ac.now
	return ac.execEvent(e, prev, state.Message)
}

// allocatedTotal sums an execution's task resources in task-name order:
// float sums depend on order, and Apply's capacity checks must come out the
// same on every replica (AllocatedResources.Total ranges over a map).
func allocatedTotal(a *api.AllocatedResources) api.Resources {
	if a == nil || len(a.Tasks) == 0 {
		return api.Resources{}
	}
	if len(a.Tasks) == 1 {
		return a.Total()
	}
	names := make([]string, 0, len(a.Tasks))
	for name := range a.Tasks {
		names = append(names, name)
	}
	slices.Sort(names)
	var r api.Resources
	for _, name := range names {
		if t := a.Tasks[name]; t != nil {
			r = r.Add(*t)
		}
	}
	return r
}
