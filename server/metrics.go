package server

import (
	"context"
	"time"

	"github.com/hashicorp/raft"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics are the replica's Prometheus series, on a registry of its own (no
// global state), served at /metrics.
type metrics struct {
	s        *Server
	registry *prometheus.Registry

	requests      *prometheus.CounterVec
	latency       *prometheus.HistogramVec
	fsmApply      prometheus.Histogram
	batchSize     prometheus.Histogram
	forwarded     prometheus.Counter
	leaderChanges prometheus.Counter

	raftState    *prometheus.GaugeVec
	appliedIndex prometheus.Gauge
	commitIndex  prometheus.Gauge
	lastIndex    prometheus.Gauge
	objects      *prometheus.GaugeVec
	broker       *prometheus.GaugeVec
}

func newMetrics(s *Server) *metrics {
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
		fsmApply: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "shoal_fsm_apply_duration_seconds", Help: "Time to apply one Raft entry (a batch counts once).",
			Buckets: prometheus.ExponentialBuckets(0.00001, 2, 18),
		}),
		batchSize: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "shoal_raft_batch_commands", Help: "Commands packed into each Raft entry by the leader.",
			Buckets: prometheus.ExponentialBuckets(1, 2, 10),
		}),
		forwarded: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "shoal_forwarded_writes_total", Help: "Writes this replica forwarded to the leader.",
		}),
		leaderChanges: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "shoal_raft_leadership_changes_total", Help: "Times this replica gained or lost leadership.",
		}),
		raftState: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "shoal_raft_state", Help: "1 for this replica's current Raft state.",
		}, []string{"state"}),
		appliedIndex: prometheus.NewGauge(prometheus.GaugeOpts{Name: "shoal_raft_applied_index", Help: "Last Raft index applied to the state store."}),
		commitIndex:  prometheus.NewGauge(prometheus.GaugeOpts{Name: "shoal_raft_commit_index", Help: "Last Raft index known committed."}),
		lastIndex:    prometheus.NewGauge(prometheus.GaugeOpts{Name: "shoal_raft_last_index", Help: "Last Raft index in the log."}),
		objects: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "shoal_state_objects", Help: "Objects in the replicated state, by kind.",
		}, []string{"kind"}),
		broker: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "shoal_eval_broker_evaluations", Help: "Evaluations in the leader's broker, by queue.",
		}, []string{"queue"}),
	}
	m.registry.MustRegister(m.requests, m.latency, m.fsmApply, m.batchSize, m.forwarded, m.leaderChanges,
		m.raftState, m.appliedIndex, m.commitIndex, m.lastIndex, m.objects, m.broker,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
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
		r := m.s.raft
		state := r.State()
		for _, st := range []raft.RaftState{raft.Follower, raft.Candidate, raft.Leader, raft.Shutdown} {
			v := 0.0
			if st == state {
				v = 1
			}
			m.raftState.WithLabelValues(st.String()).Set(v)
		}
		m.appliedIndex.Set(float64(r.AppliedIndex()))
		m.commitIndex.Set(float64(r.CommitIndex()))
		m.lastIndex.Set(float64(r.LastIndex()))
		jobs, execs, evals, nodes := m.s.fsm.State().Txn().Counts()
		m.objects.WithLabelValues("jobs").Set(float64(jobs))
		m.objects.WithLabelValues("executions").Set(float64(execs))
		m.objects.WithLabelValues("evaluations").Set(float64(evals))
		m.objects.WithLabelValues("nodes").Set(float64(nodes))
		st := m.s.sched.Stats()
		m.broker.WithLabelValues("ready").Set(float64(st.Ready))
		m.broker.WithLabelValues("unacked").Set(float64(st.Unacked))
		m.broker.WithLabelValues("delayed").Set(float64(st.Delayed))
		m.broker.WithLabelValues("blocked").Set(float64(st.Blocked))
		m.broker.WithLabelValues("failed").Set(float64(st.Failed))
	}
}

// timedFSM measures how long each Raft entry takes to apply.
type timedFSM struct {
	raft.FSM
	observe func(float64)
}

func (t *timedFSM) Apply(l *raft.Log) any {
	start := time.Now()
	v := t.FSM.Apply(l)
	t.observe(time.Since(start).Seconds())
	return v
}
