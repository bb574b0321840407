package fsm

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"

	"github.com/hashicorp/raft"
	"github.com/shoal-io/shoal/api"
)

// Config configures an FSM.
type Config struct {
	Logger *slog.Logger
}

// Observer hears about committed changes that leader-only parts react to.
// Calls come from Apply and must not block. The slices and objects passed are
// owned by the store: read them, never modify them.
type Observer interface {
	EvalsCommitted(evals []*api.Evaluation) // evaluations created or updated (any status)
	NodesChanged(nodeIDs []string)          // registered, reconnected, lost, or description changed
	CapacityFreed(nodeIDs []string)         // an active execution on each of these nodes ended (an ID once per ended execution)
}

// Result is Apply's answer to one command: Value is the command's *XxxResult
// (nil for EvalUpdate), Err an *api.Error of the right kind, an error wrapping
// ErrUnknownCommand, or an internal failure. A single-command entry answers a
// Result, a MsgBatch entry a []Result in command order (a batch whose framing
// is broken answers a single Result wrapping ErrUnknownCommand).
type Result struct {
	Value any
	Err   error
}

// IdempotencyPruneResult is Apply's answer to an IdempotencyPruneRequest.
type IdempotencyPruneResult struct {
	Pruned int
}

// FSM is the Raft state machine. raft calls Apply, Snapshot and Restore from
// one goroutine; reads go through State() concurrently.
type FSM struct {
	logger   *slog.Logger
	store    *Store
	observer atomic.Pointer[observerBox]
	// ac is reused across Apply calls, which raft never runs concurrently.
	ac applyCtx
	// commands counts the commands applied; atSnapshot is its value when
	// the state was last captured for a snapshot or restored from one. The
	// difference is what a restart would replay (CommandsSinceSnapshot).
	commands, atSnapshot atomic.Uint64
	// jobsRemoved counts the jobs retention passes removed since start.
	jobsRemoved atomic.Uint64
}

type observerBox struct{ o Observer }

var _ raft.BatchingFSM = (*FSM)(nil)

// New returns an FSM with an empty store.
func New(cfg Config) *FSM {
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	f := &FSM{logger: logger, store: newStore()}
	f.ac.codec, f.ac.arena, f.ac.tokens = f.store.codec, &arena{}, &arena{}
	f.ac.maxTokens = maxIdempotencyTokens
	f.ac.keepKeys = f.ac.keep
	return f
}

// State returns the store Apply writes to.
func (f *FSM) State() *Store { return f.store }

// Compact repacks the state's indexes densely (memtab's Compact), for a
// replica whose writes have quietened after a burst: see the server's
// memory watch.
func (f *FSM) Compact() { f.store.db().Compact() }

// SetObserver installs (or, with nil, removes) the observer. Safe at any
// time, concurrently with Apply; the next Apply uses it.
func (f *FSM) SetObserver(o Observer) {
	if o == nil {
		f.observer.Store(nil)
		return
	}
	f.observer.Store(&observerBox{o: o})
}

// Apply applies one committed log entry. It never panics on bad input: an
// entry it cannot decode is logged and answered with an error wrapping
// ErrUnknownCommand, and still counts as applied.
func (f *FSM) Apply(l *raft.Log) any {
	parts, batch, err := entryParts(l)
	if err != nil {
		f.logger.Error("cannot split batch entry", "index", l.Index, "error", err)
		f.applyEntries(l.Index, nil)
		return Result{Err: err}
	}
	f.commands.Add(uint64(len(parts)))
	return answer(batch, f.applyEntries(l.Index, parts))
}

// CommandsSinceSnapshot is how many commands were applied after the state
// the last snapshot (taken or restored) holds: the work a replica restarted
// now would replay on top of it. Raft's own snapshot threshold counts log
// entries, and one entry may carry hundreds of commands.
func (f *FSM) CommandsSinceSnapshot() uint64 {
	return f.commands.Load() - f.atSnapshot.Load()
}

// entryParts returns the encoded commands of a log entry: a MsgBatch entry's
// parts, or the entry itself.
func entryParts(l *raft.Log) (parts [][]byte, batch bool, err error) {
	if len(l.Data) > 0 && MessageType(l.Data[0]) == MsgBatch {
		parts, err = SplitBatch(l.Data)
		return parts, true, err
	}
	return [][]byte{l.Data}, false, nil
}

// answer is what Apply returns for an entry: a MsgBatch entry's results, or
// a single entry's one result.
func answer(batch bool, results []Result) any {
	if batch {
		return results
	}
	return results[0]
}

// applyEntries applies the encoded commands of one log entry. They share one
// write transaction; a command that fails must have written nothing (each
// handler checks before it writes), so the others are unaffected. If a
// command fails after writing (an internal error), the shared transaction is
// dropped and every command is applied again in its own transaction.
func (f *FSM) applyEntries(index uint64, entries [][]byte) []Result {
	p := f.decode(index, entries)
	ac := &f.ac
	ac.begin(f.store.db(), index)
	clean := f.applyPending(p)
	if clean {
		if err := ac.commit(); err != nil {
			clean = false
		}
	}
	if !clean {
		ac.abort()
		f.applyOneByOne(index, entries, p.cmds, p.results)
	}
	f.logRejected(p)
	f.countRemoved(p)
	f.store.setApplied(index)
	f.notify(ac.takeEvents())
	return p.results
}

// pending is one log entry's commands, decoded, and their results.
type pending struct {
	index   uint64
	entries [][]byte
	cmds    []Command // nil where an entry could not be decoded
	results []Result
	// For ApplyBatch: the entry's place among the logs, whether it is a
	// MsgBatch, and why it could not be split.
	at       int
	batch    bool
	splitErr error
}

func (f *FSM) decode(index uint64, entries [][]byte) *pending {
	p := &pending{index: index, entries: entries, cmds: make([]Command, len(entries)), results: make([]Result, len(entries))}
	for i, e := range entries {
		cmd, err := Decode(e)
		if err != nil {
			if !errors.Is(err, ErrUnknownCommand) {
				err = fmt.Errorf("%w: %w", ErrUnknownCommand, err)
			}
			f.logger.Error("cannot decode log entry", "index", index, "position", i, "error", err)
			p.results[i].Err = err
			continue
		}
		p.cmds[i] = cmd
	}
	return p
}

// applyPending applies p's commands in the open transaction, as of p's
// index. It reports false when a command failed after writing: the
// transaction must then be dropped.
func (f *FSM) applyPending(p *pending) bool {
	ac := &f.ac
	ac.index = p.index
	for i, cmd := range p.cmds {
		if cmd == nil {
			continue
		}
		writes, mark := ac.writes, ac.ev.mark()
		v, err := ac.apply(i, cmd)
		if err != nil && ac.writes != writes {
			return false
		}
		if err != nil {
			ac.ev.reset(mark)
		}
		p.results[i] = Result{Value: v, Err: err}
	}
	return true
}

// JobsRemoved is how many jobs retention passes applied here have removed
// since the process started. A replica that goes from empty to a full store
// and back within seconds (a new replica catching up before a collection)
// shows it here, where a sampled job count would miss it.
func (f *FSM) JobsRemoved() uint64 { return f.jobsRemoved.Load() }

func (f *FSM) countRemoved(p *pending) {
	for i, r := range p.results {
		if res, ok := r.Value.(*JobGCResult); ok && r.Err == nil && p.cmds[i] != nil {
			f.jobsRemoved.Add(uint64(res.JobsRemoved))
		}
	}
}

func (f *FSM) logRejected(p *pending) {
	for i, r := range p.results {
		if r.Err != nil && p.cmds[i] != nil {
			f.logger.Debug("command rejected", "index", p.index, "position", i, "type", p.cmds[i].MessageType(), "error", r.Err)
		}
	}
}

// ApplyBatch applies several committed log entries (raft hands over what
// has piled up: a follower catching up, a replica replaying its log after a
// restart) in one write transaction, so the copy-on-write cost of the store's
// trees is paid once for all of them rather than once per entry. Every row
// still records the index of the entry that wrote it, so the state is the
// one Apply would build entry by entry. If any command fails after writing,
// the transaction is dropped and the entries are applied one by one.
func (f *FSM) ApplyBatch(logs []*raft.Log) []any {
	out := make([]any, len(logs))
	commands := 0
	for _, l := range logs {
		if l.Type == raft.LogCommand {
			commands++
		}
	}
	if commands <= 1 {
		for k, l := range logs {
			if l.Type == raft.LogCommand {
				out[k] = f.Apply(l)
			}
		}
		return out
	}
	var ps []*pending
	for k, l := range logs {
		if l.Type != raft.LogCommand {
			continue
		}
		parts, batch, err := entryParts(l)
		if err != nil {
			f.logger.Error("cannot split batch entry", "index", l.Index, "error", err)
			ps = append(ps, &pending{index: l.Index, at: k, splitErr: err})
			continue
		}
		p := f.decode(l.Index, parts)
		p.at, p.batch = k, batch
		ps = append(ps, p)
	}
	ac := &f.ac
	ac.begin(f.store.db(), ps[0].index)
	clean := true
	for _, p := range ps {
		if clean = f.applyPending(p); !clean {
			break
		}
	}
	if clean {
		if err := ac.commit(); err != nil {
			clean = false
		}
	}
	if !clean {
		ac.abort()
		ac.ev = events{}
		for k, l := range logs {
			if l.Type == raft.LogCommand {
				out[k] = f.Apply(l)
			}
		}
		return out
	}
	for _, p := range ps {
		f.commands.Add(uint64(len(p.cmds)))
		f.logRejected(p)
		f.countRemoved(p)
		if p.splitErr != nil {
			out[p.at] = Result{Err: p.splitErr}
			continue
		}
		out[p.at] = answer(p.batch, p.results)
	}
	f.store.setApplied(ps[len(ps)-1].index)
	f.notify(ac.takeEvents())
	return out
}

// applyOneByOne is the slow path: each command in its own transaction, so a
// command that failed halfway leaves nothing behind. Commands are decoded
// afresh, since handlers may have filled in defaults on the first attempt.
func (f *FSM) applyOneByOne(index uint64, entries [][]byte, cmds []Command, results []Result) {
	ac := &f.ac
	ac.ev = events{}
	committed := false
	for i := range cmds {
		if cmds[i] == nil {
			continue
		}
		cmd, err := Decode(entries[i])
		if err != nil {
			results[i] = Result{Err: fmt.Errorf("%w: %w", ErrUnknownCommand, err)}
			continue
		}
		cmds[i] = cmd
		ac.begin(f.store.db(), index)
		mark := ac.ev.mark()
		v, err := ac.apply(i, cmd)
		if err == nil {
			if err = ac.commit(); err == nil {
				committed = true
			}
		}
		if err != nil {
			ac.abort()
			ac.ev.reset(mark)
			if ac.writes > 0 {
				f.logger.Error("command failed after writing; rolled back", "index", index, "position", i,
					"type", cmd.MessageType(), "error", err)
			}
		}
		results[i] = Result{Value: v, Err: err}
		if err != nil {
			results[i].Value = nil
		}
	}
	if !committed {
		// The index still moves, so waiters for this entry return.
		ac.begin(f.store.db(), index)
		if err := ac.commit(); err != nil {
			ac.abort()
			f.logger.Error("cannot record applied index", "index", index, "error", err)
		}
	}
}

func (f *FSM) notify(ev events) {
	box := f.observer.Load()
	if box == nil {
		return
	}
	if len(ev.evals) > 0 {
		box.o.EvalsCommitted(ev.evals)
	}
	if len(ev.nodes) > 0 {
		box.o.NodesChanged(ev.nodes)
	}
	if len(ev.freed) > 0 {
		box.o.CapacityFreed(ev.freed)
	}
}

// Snapshot captures the current state in O(1); Persist streams it.
func (f *FSM) Snapshot() (raft.FSMSnapshot, error) {
	txn := f.store.db().Txn(false)
	applied, err := readIndexRecord(txn, appliedKey)
	if err != nil {
		return nil, err
	}
	f.atSnapshot.Store(f.commands.Load())
	return &snapshot{txn: txn, index: applied.Index}, nil
}

// CheckSnapshot reads a whole snapshot without installing it: nil when
// Restore would accept it. Operators' uploads are checked with it before they
// go through Raft, where a bad one would fail on every replica.
func (f *FSM) CheckSnapshot(r io.Reader) error {
	if _, _, err := readSnapshot(r, f.store.codec); err != nil {
		return fmt.Errorf("check snapshot: %w", err)
	}
	return nil
}

// Restore replaces the whole state with a snapshot's.
func (f *FSM) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	db, index, err := readSnapshot(rc, f.store.codec)
	if err != nil {
		return fmt.Errorf("restore snapshot: %w", err)
	}
	f.store.replace(db, index)
	f.atSnapshot.Store(f.commands.Load())
	f.logger.Info("restored state from snapshot", "index", index)
	return nil
}
