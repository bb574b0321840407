package server

import (
	"context"
	"math"
	"runtime/debug"
	"time"

	"github.com/hashicorp/raft"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/shoal-io/shoal/api"
)

// metrics are the replica's Prometheus series, on a registry of its own (no
// global state), served at /metrics. Every name starts with shoal_, carries
// its unit, and counters end in _total, so promtool check metrics passes and
// deploy/prometheus/alerts.yml can rely on them.
type metrics struct {
	s        *Server
	registry *prometheus.Registry

	requests       *prometheus.CounterVec
	latency        *prometheus.HistogramVec
	creates        *prometheus.CounterVec
	createLatency  prometheus.Histogram
	fsmApply       prometheus.Histogram
	batchSize      prometheus.Histogram
	raftCommit     prometheus.Histogram
	logStore       prometheus.Histogram
	forwarded      prometheus.Counter
	forwardErrors  prometheus.Counter
	leaderChanges  prometheus.Counter
	nodesLost      prometheus.Counter
	digestIndex    prometheus.Gauge
	digestValue    prometheus.Gauge
	digestDuration prometheus.Histogram

	raftState    *prometheus.GaugeVec
	isLeader     prometheus.Gauge
	hasLeader    prometheus.Gauge
	term         prometheus.Gauge
	lastContact  prometheus.Gauge
	appliedIndex prometheus.Gauge
	commitIndex  prometheus.Gauge
	lastIndex    prometheus.Gauge
	objects      *prometheus.GaugeVec
	nodes        *prometheus.GaugeVec
	broker       *prometheus.GaugeVec
	oldestReady  prometheus.Gauge
}

func newMetrics(s *Server) *metrics {
	gauge := func(name, help string) prometheus.Gauge {
		return prometheus.NewGauge(prometheus.GaugeOpts{Name: name, Help: help})
	}
	m := &metrics{
		s:        s,
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "shoal_http_requests_total", Help: "HTTP requests by route, method and status code.",
		}, []string{"route", "method", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "shoal_http_request_duration_seconds", Help: "HTTP request latency by route and method.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
		}, []string{"route", "method"}),
		creates: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "shoal_job_create_requests_total",
			Help: "Job creates answered by this replica, by outcome: accepted (2xx), rejected (4xx, the client's fault) or failed (5xx).",
		}, []string{"outcome"}),
		createLatency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "shoal_job_create_duration_seconds", Help: "Time to answer a job create on this replica, forwarding and commit included.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
		}),
		fsmApply: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "shoal_fsm_apply_duration_seconds", Help: "Time to apply one Raft entry (a batch counts once).",
			Buckets: prometheus.ExponentialBuckets(0.00001, 2, 18),
		}),
		batchSize: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "shoal_raft_batch_commands", Help: "Commands packed into each Raft entry by the leader.",
			Buckets: prometheus.ExponentialBuckets(1, 2, 10),
		}),
		raftCommit: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "shoal_raft_commit_duration_seconds",
			Help:    "On the leader, time from proposing an entry to its commit and local apply (replication, fsync, apply).",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2, 18),
		}),
		logStore: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "shoal_raft_log_store_duration_seconds", Help: "Time to write entries to the Raft log on disk, fsync included.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2, 18),
		}),
		forwarded: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "shoal_forwarded_writes_total", Help: "Writes this replica forwarded to the leader and got an answer for.",
		}),
		forwardErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "shoal_forward_errors_total", Help: "Writes this replica failed to forward to the leader (not sent, or no answer).",
		}),
		leaderChanges: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "shoal_raft_leadership_changes_total", Help: "Times this replica gained or lost leadership.",
		}),
		nodesLost: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "shoal_compute_nodes_lost_total", Help: "Compute nodes this replica, as leader, declared lost.",
		}),
		digestIndex: gauge("shoal_state_digest_checkpoint_index",
			"Raft index of the last state digest checkpoint; replicas at the same checkpoint index must agree on shoal_state_digest_checkpoint."),
		digestValue: gauge("shoal_state_digest_checkpoint",
			"The first 48 bits of the state digest at shoal_state_digest_checkpoint_index, as a number."),
		digestDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "shoal_state_digest_duration_seconds", Help: "Time to hash the whole state at a checkpoint (off the apply path).",
			Buckets: prometheus.ExponentialBuckets(0.0001, 4, 10),
		}),
		raftState: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "shoal_raft_state", Help: "1 for this replica's current Raft state.",
		}, []string{"state"}),
		isLeader:     gauge("shoal_raft_is_leader", "1 while this replica is the Raft leader."),
		hasLeader:    gauge("shoal_raft_has_leader", "1 while this replica knows a Raft leader (itself included)."),
		term:         gauge("shoal_raft_term", "This replica's current Raft term; it moves with every election."),
		lastContact:  gauge("shoal_raft_last_contact_seconds", "Seconds since this follower last heard from the leader; 0 on the leader."),
		appliedIndex: gauge("shoal_raft_applied_index", "Last Raft index applied to the state store."),
		commitIndex:  gauge("shoal_raft_commit_index", "Last Raft index known committed."),
		lastIndex:    gauge("shoal_raft_last_index", "Last Raft index in the log."),
		objects: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "shoal_state_objects", Help: "Objects in the replicated state, by kind.",
		}, []string{"kind"}),
		nodes: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "shoal_compute_nodes", Help: "Registered compute nodes, by connection (CONNECTED, DISCONNECTED: declared lost).",
		}, []string{"connection"}),
		broker: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "shoal_eval_broker_evaluations", Help: "Evaluations in the leader's broker, by queue (0 on followers).",
		}, []string{"queue"}),
		oldestReady: gauge("shoal_scheduler_oldest_ready_seconds",
			"On the leader, how long the oldest evaluation ready for a worker has waited: the scheduling lag."),
	}
	memLimit := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "shoal_memory_limit_bytes",
		Help: "The Go runtime's soft memory limit (--memory-limit or GOMEMLIMIT); 9.2e18 when unset.",
	}, func() float64 { return float64(debug.SetMemoryLimit(-1)) })
	m.registry.MustRegister(m.requests, m.latency, m.creates, m.createLatency, m.fsmApply, m.batchSize,
		m.raftCommit, m.logStore, m.forwarded, m.forwardErrors, m.leaderChanges, m.nodesLost,
		m.digestIndex, m.digestValue, m.digestDuration,
		m.raftState, m.isLeader, m.hasLeader, m.term, m.lastContact, m.appliedIndex, m.commitIndex, m.lastIndex,
		m.objects, m.nodes, m.broker, m.oldestReady, memLimit)
	// The runtime and process series get the shoal_ prefix too, so every
	// series of a Shoal process is found under one name space.
	prometheus.WrapRegistererWithPrefix("shoal_", m.registry).MustRegister(
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	// Outcomes are known in advance: zero series from the start make rates
	// and ratios defined before the first error.
	for _, o := range []string{createAccepted, createRejected, createFailed} {
		m.creates.WithLabelValues(o)
	}
	for _, c := range []string{api.NodeConnected, api.NodeDisconnected} {
		m.nodes.WithLabelValues(c)
	}
	return m
}

// Job create outcomes (shoal_job_create_requests_total's outcome label).
const (
	createAccepted = "accepted"
	createRejected = "rejected"
	createFailed   = "failed"
)

// observeCreate records one answered job create.
func (m *metrics) observeCreate(status int, took time.Duration) {
	outcome := createAccepted
	switch {
	case status >= 500:
		outcome = createFailed
	case status >= 400:
		outcome = createRejected
	}
	m.creates.WithLabelValues(outcome).Inc()
	m.createLatency.Observe(took.Seconds())
}

func (m *metrics) observeBatch(n int) { m.batchSize.Observe(float64(n)) }

// collect refreshes the gauges every second until ctx ends.
func (m *metrics) collect(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		m.refresh()
	}
}

func (m *metrics) refresh() {
	r := m.s.raft
	state := r.State()
	for _, st := range []raft.RaftState{raft.Follower, raft.Candidate, raft.Leader, raft.Shutdown} {
		m.raftState.WithLabelValues(st.String()).Set(boolValue(st == state))
	}
	m.isLeader.Set(boolValue(state == raft.Leader))
	addr, _ := r.LeaderWithID()
	m.hasLeader.Set(boolValue(addr != ""))
	m.term.Set(float64(r.CurrentTerm()))
	if state == raft.Leader {
		m.lastContact.Set(0)
	} else if last := r.LastContact(); !last.IsZero() {
		m.lastContact.Set(time.Since(last).Seconds())
	} else {
		m.lastContact.Set(math.Inf(1))
	}
	m.appliedIndex.Set(float64(r.AppliedIndex()))
	m.commitIndex.Set(float64(r.CommitIndex()))
	m.lastIndex.Set(float64(r.LastIndex()))

	txn := m.s.fsm.State().Txn()
	jobs, execs, evals, nodes := txn.Counts()
	m.objects.WithLabelValues("jobs").Set(float64(jobs))
	m.objects.WithLabelValues("executions").Set(float64(execs))
	m.objects.WithLabelValues("evaluations").Set(float64(evals))
	m.objects.WithLabelValues("nodes").Set(float64(nodes))
	if all, err := txn.Nodes(); err == nil {
		byConn := map[string]int{api.NodeConnected: 0, api.NodeDisconnected: 0}
		for _, n := range all {
			if n.NodeType != api.NodeTypeCompute {
				continue
			}
			c := n.Connection
			if c == "" {
				c = api.NodeConnected
			}
			byConn[c]++
		}
		for c, v := range byConn {
			m.nodes.WithLabelValues(c).Set(float64(v))
		}
	}

	st := m.s.sched.Stats()
	m.broker.WithLabelValues("ready").Set(float64(st.Ready))
	m.broker.WithLabelValues("unacked").Set(float64(st.Unacked))
	m.broker.WithLabelValues("pending").Set(float64(st.Pending))
	m.broker.WithLabelValues("delayed").Set(float64(st.Delayed))
	m.broker.WithLabelValues("blocked").Set(float64(st.Blocked))
	m.broker.WithLabelValues("failed").Set(float64(st.Failed))
	m.oldestReady.Set(m.s.sched.OldestReady().Seconds())
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// createRoute is the route pattern of job creates (PUT and POST).
const createRoute = "/api/v1/orchestrator/jobs"

// observeDigest publishes a state digest checkpoint.
func (m *metrics) observeDigest(index uint64, value float64, took time.Duration) {
	m.digestValue.Set(value)
	m.digestIndex.Set(float64(index))
	m.digestDuration.Observe(took.Seconds())
}
