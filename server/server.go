package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"
	"github.com/shoal-io/shoal/api"
	"github.com/shoal-io/shoal/fsm"
	"github.com/shoal-io/shoal/membership"
	"github.com/shoal-io/shoal/peerid"
	"github.com/shoal-io/shoal/scheduler"
)

// leaderComponent is a part that runs only on the leader. establishLeadership
// enables them all in order once the leader has applied every entry of
// earlier terms; revokeLeadership disables them in reverse order.
type leaderComponent interface {
	SetEnabled(enabled bool)
}

// defaultSchedulerWorkers is many more workers than CPUs on purpose: a
// worker spends most of its time waiting for its plan to commit, and plans
// submitted together share Raft entries, so concurrency, not CPU, sets the
// scheduling rate.
const defaultSchedulerWorkers = 64

// Server is one orchestrator replica.
type Server struct {
	cfg    Config
	logger *slog.Logger

	fsm      *fsm.FSM
	timedFSM *timedFSM
	parts    *raftParts
	raft     *raft.Raft
	batcher  *batcher
	sched    *scheduler.Scheduler
	pool     *membership.Pool
	net      transports
	peers    *http.Client // to other replicas
	nodes    *http.Client // to compute nodes' results and logs
	metrics  *metrics
	ui       *uiState
	// apiRequests counts the API requests served (instrument), so the
	// memory watch can tell an idle replica from one serving reads.
	apiRequests atomic.Uint64
	// quietSnapshots counts the snapshots taken once writes quietened
	// (snapshots.go): each leaves garbage the size of the state, which the
	// memory watch hands back (memory.go).
	quietSnapshots atomic.Uint64
	// peerID is this replica's libp2p peer ID (package peerid), reported
	// in its NodeInfo.
	peerID string

	leaderCh         chan bool
	leaderReady      atomic.Bool
	leaderMu         sync.Mutex
	leaderComponents []leaderComponent

	listener   net.Listener
	httpServer *http.Server

	bootstrapped atomic.Bool
	wg           sync.WaitGroup
	// stopping is cancelled when the replica begins to shut down: blocking
	// queries answer at once instead of holding the API drain for minutes.
	stopping     context.Context
	stopBlocking context.CancelFunc
}

// New opens the replica's state (Raft log, snapshots) and its listeners. Call
// Run to serve.
func New(cfg Config) (*Server, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	s := &Server{
		cfg:      cfg,
		logger:   cfg.Logger,
		pool:     cfg.Pool,
		net:      transports{tls: cfg.TLS, logger: cfg.Logger.With("component", "transport")},
		leaderCh: make(chan bool, 8),
		ui:       newUIState(),
	}
	s.stopping, s.stopBlocking = context.WithCancel(context.Background())
	s.peers, s.nodes = s.net.peerClient(), s.net.nodeClient()
	s.metrics = newMetrics(s)
	peerID, err := peerid.LoadOrCreate(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	s.peerID = peerID
	s.fsm = fsm.New(fsm.Config{Logger: s.logger.With("component", "fsm")})
	s.timedFSM = &timedFSM{BatchingFSM: s.fsm, observe: s.metrics.fsmApply.Observe, digests: &digestChecker{
		every: digestCheckEvery, view: func() digestView { return s.fsm.State().Txn() }, log: s.logger.With("component", "metrics"),
		report: s.metrics.observeDigest,
	}}

	workers := cfg.SchedulerWorkers
	if workers <= 0 {
		workers = defaultSchedulerWorkers
	}
	sched, err := scheduler.New(scheduler.Config{
		Logger:               s.logger.With("component", "scheduler"),
		Snapshot:             func() scheduler.State { return s.fsm.State().Txn() },
		WaitForIndex:         s.fsm.State().WaitForIndex,
		Planner:              &planner{s: s},
		Workers:              workers,
		DefaultTaskResources: cfg.DefaultTaskResources,
	})
	if err != nil {
		return nil, fmt.Errorf("scheduler: %w", err)
	}
	s.sched = sched
	s.fsm.SetObserver(sched)

	s.parts, err = s.openRaft()
	if err != nil {
		return nil, err
	}
	s.raft = s.parts.raft
	s.batcher = newBatcher(s.raft, cfg.Raft.MaxInflightApplies, cfg.Raft.MaxBatch, s.metrics.observeBatch)
	s.batcher.observeCommit = s.metrics.raftCommit.Observe
	s.leaderComponents = []leaderComponent{
		sched,
		newNodeMonitor(s),
		newReplicaMonitor(s),
		newGarbageCollector(s),
	}

	s.listener, err = s.net.listenAPI(cfg.APIAddr)
	if err != nil {
		s.parts.close()
		return nil, err
	}
	s.httpServer = newHTTPServer(s.router())
	return s, nil
}

// Addr is the address the API listens on (useful with port 0).
func (s *Server) Addr() net.Addr { return s.listener.Addr() }

// Run serves until ctx ends, then shuts the replica down.
func (s *Server) Run(ctx context.Context) error {
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()

	s.wg.Add(6)
	go func() { defer s.wg.Done(); s.returnMemory(runCtx) }()
	go func() { defer s.wg.Done(); s.snapshotLoop(runCtx) }()
	go func() { defer s.wg.Done(); s.batcher.run(runCtx) }()
	go func() { defer s.wg.Done(); s.leadershipLoop(runCtx) }()
	go func() { defer s.wg.Done(); s.bootstrapLoop(runCtx) }()
	go func() { defer s.wg.Done(); s.metrics.collect(runCtx) }()

	serveErr := make(chan error, 1)
	go func() {
		err := s.httpServer.Serve(s.listener)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		serveErr <- err
	}()
	s.logger.Info("replica serving", "api", s.net.url(s.listener.Addr().String()), "raft", s.cfg.RaftAddr, "tls", s.cfg.TLS != nil)

	var err error
	select {
	case <-ctx.Done():
	case err = <-serveErr:
		err = fmt.Errorf("API server: %w", err)
	}
	s.shutdown()
	cancel()
	s.wg.Wait()
	return err
}

func (s *Server) shutdown() {
	if s.stopBlocking != nil {
		s.stopBlocking()
	}
	// A leader that leaves on purpose hands over first, so the cluster does
	// not wait for an election timeout.
	if s.raft.State() == raft.Leader {
		if err := s.raft.LeadershipTransfer().Error(); err != nil {
			s.logger.Info("leadership transfer before shutdown failed", "error", err)
		}
	}
	shutCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.httpServer.Shutdown(shutCtx); err != nil {
		s.logger.Warn("API shutdown", "error", err)
	}
	s.revokeLeadership()
	s.snapshotBeforeShutdown()
	s.parts.close()
}

// isLeader reports whether this replica is the Raft leader now.
func (s *Server) isLeader() bool { return s.raft.State() == raft.Leader }

// leader returns the current leader's ID and API address, if known.
func (s *Server) leader() (id string, apiAddr string, ok bool) {
	raftAddr, lid := s.raft.LeaderWithID()
	if lid == "" {
		return "", "", false
	}
	if string(lid) == s.cfg.NodeID {
		return s.cfg.NodeID, s.cfg.AdvertiseAPIAddr, true
	}
	if m, found := s.pool.Member(string(lid)); found && m.APIAddr != "" {
		return string(lid), m.APIAddr, true
	}
	for _, m := range s.pool.Members() {
		if m.RaftAddr == string(raftAddr) && m.APIAddr != "" {
			return string(lid), m.APIAddr, true
		}
	}
	return string(lid), "", false
}

// apply puts one command through Raft on this replica, which must be the
// leader. A nil error means the command was applied; its own failure (not
// found, conflict, …) comes back as the error of the returned value.
func (s *Server) apply(ctx context.Context, cmd fsm.Command) (any, uint64, error) {
	data, err := fsm.Encode(cmd)
	if err != nil {
		return nil, 0, err
	}
	res, index, err := s.batcher.apply(ctx, data)
	if err != nil {
		return nil, index, err
	}
	if res.Err != nil {
		return nil, index, res.Err
	}
	return res.Value, index, nil
}

// applyAs is apply with the result's type checked.
func applyAs[T any](ctx context.Context, s *Server, cmd fsm.Command) (T, uint64, error) {
	var zero T
	v, index, err := s.apply(ctx, cmd)
	if err != nil {
		return zero, index, err
	}
	t, ok := v.(T)
	if !ok {
		return zero, index, fmt.Errorf("%s answered %T, want %T", cmd.MessageType(), v, zero)
	}
	return t, index, nil
}

// now is the leader's clock, read once per command so Apply never reads it.
func now() int64 { return time.Now().UnixNano() }

// planner submits the scheduler's plans through Raft.
type planner struct{ s *Server }

func (p *planner) SubmitPlan(ctx context.Context, plan *fsm.Plan) (*fsm.PlanResult, uint64, error) {
	plan.Now = now()
	observed := p.s.observeSchedulingLag(plan)
	res, index, err := applyAs[*fsm.PlanResult](ctx, p.s, plan)
	observed(err)
	return res, index, err
}

func (p *planner) UpdateEvals(ctx context.Context, evals []*api.Evaluation) error {
	_, _, err := p.s.apply(ctx, &fsm.EvalUpdateRequest{Evals: evals, Now: now()})
	return err
}
