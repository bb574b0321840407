package compute

import (
	"context"
	"sync"

	"github.com/shoal-io/shoal/api"
)

// phase is where an execution stands on this node.
type phase int

const (
	phaseUnknown  phase = iota // not known here
	phaseBid                   // we accepted the ask for a bid, waiting for approval
	phaseRunning               // started; cancel stops it
	phaseFinished              // ended; final holds the report we made
)

func (p phase) String() string {
	switch p {
	case phaseBid:
		return "bid"
	case phaseRunning:
		return "running"
	case phaseFinished:
		return "finished"
	}
	return "unknown"
}

// localExec is the node's own record of one execution.
type localExec struct {
	id    string
	phase phase
	// seenIndex is the watch index that last told us about it: a full
	// listing older than that cannot prove the cluster dropped it.
	seenIndex uint64

	cancel context.CancelFunc
	done   chan struct{} // closed when the run ends
	// abandoned: the cluster gave up on it; its end is not reported.
	abandoned bool
	output    *outputCapture // nil until running with captured output

	final    *api.ExecutionUpdate
	ackIndex uint64 // state index of the accepted final report; 0 while pending
}

// execStore holds the node's executions; the watch loop, the runs, the
// reporter and the logs handler share it.
type execStore struct {
	mu sync.Mutex
	m  map[string]*localExec
}

func newExecStore() *execStore { return &execStore{m: map[string]*localExec{}} }

// view returns what reconciling needs to know about an execution.
func (s *execStore) view(id string) localView {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.m[id]
	if e == nil {
		return localView{}
	}
	return localView{phase: e.phase, ackIndex: e.ackIndex}
}

func (s *execStore) put(e *localExec) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[e.id] = e
}

func (s *execStore) touch(id string, index uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.m[id]; e != nil && index > e.seenIndex {
		e.seenIndex = index
	}
}

func (s *execStore) forget(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.m[id]; e != nil && e.phase != phaseRunning {
		delete(s.m, id)
	}
}

// abandon cancels a running execution without reporting its end.
func (s *execStore) abandon(id string) {
	s.mu.Lock()
	e := s.m[id]
	if e == nil || e.phase != phaseRunning {
		s.mu.Unlock()
		return
	}
	e.abandoned = true
	cancel := e.cancel
	s.mu.Unlock()
	cancel()
}

// finish records how a run ended and reports whether to report it: not when
// the cluster abandoned it (then it is forgotten) or the node is stopping.
func (s *execStore) finish(e *localExec, final *api.ExecutionUpdate) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e.abandoned {
		if s.m[e.id] == e {
			delete(s.m, e.id)
		}
		return false
	}
	e.phase = phaseFinished
	e.final = final
	return final != nil
}

// acked records that the cluster accepted an execution's final report at
// index.
func (s *execStore) acked(id string, state api.ExecutionStateType, index uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.m[id]; e != nil && e.phase == phaseFinished && e.final != nil && e.final.ComputeState == state {
		e.ackIndex = index
	}
}

// resendFinal marks an acknowledged final report pending again and returns
// it, for when the cluster shows the execution still running.
func (s *execStore) resendFinal(id string) *api.ExecutionUpdate {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.m[id]
	if e == nil || e.final == nil || e.ackIndex == 0 {
		return nil
	}
	e.ackIndex = 0
	u := *e.final
	return &u
}

// sweepMissing handles a full listing of the node's active executions
// taken at index: what runs here but is not listed was given up on by the
// cluster (cancel it), bids and acknowledged results not listed are over.
func (s *execStore) sweepMissing(listed map[string]bool, index uint64) {
	var cancels []context.CancelFunc
	s.mu.Lock()
	for id, e := range s.m {
		if listed[id] || e.seenIndex > index {
			continue
		}
		switch {
		case e.phase == phaseRunning:
			e.abandoned = true
			cancels = append(cancels, e.cancel)
		case e.phase == phaseBid, e.ackIndex > 0:
			delete(s.m, id)
		}
	}
	s.mu.Unlock()
	for _, c := range cancels {
		c()
	}
}

// cancelAll stops every run (the node is shutting down); their ends are not
// reported, a restarted node reconciles them.
func (s *execStore) cancelAll() {
	s.mu.Lock()
	var cancels []context.CancelFunc
	for _, e := range s.m {
		if e.phase == phaseRunning {
			cancels = append(cancels, e.cancel)
		}
	}
	s.mu.Unlock()
	for _, c := range cancels {
		c()
	}
}

// running lists the executions running now.
func (s *execStore) running() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for id, e := range s.m {
		if e.phase == phaseRunning {
			out = append(out, id)
		}
	}
	return out
}
