package compute

import (
	"runtime/debug"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"net/http"
)

// nodeMetrics are the compute node's Prometheus series, on a registry of its
// own, served at GET /metrics on the node's results-and-logs listener.
type nodeMetrics struct {
	registry     *prometheus.Registry
	finished     *prometheus.CounterVec
	duration     prometheus.Histogram
	reportErrors prometheus.Counter
	reportsSent  prometheus.Counter
}

func newNodeMetrics(n *Node) *nodeMetrics {
	m := &nodeMetrics{
		registry: prometheus.NewRegistry(),
		finished: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "shoal_compute_executions_finished_total", Help: "Executions this node ran to an end, by final state.",
		}, []string{"state"}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "shoal_compute_execution_duration_seconds", Help: "Wall time of executions on this node, inputs and publishing included.",
			Buckets: prometheus.ExponentialBuckets(0.001, 4, 12),
		}),
		reportErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "shoal_compute_report_errors_total", Help: "Execution reports the cluster did not take (retried or dropped).",
		}),
		reportsSent: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "shoal_compute_reports_total", Help: "Execution report batches the cluster accepted.",
		}),
	}
	m.registry.MustRegister(m.finished, m.duration, m.reportErrors, m.reportsSent,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "shoal_compute_executions_running", Help: "Executions running on this node now.",
		}, func() float64 { return float64(len(n.execs.running())) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "shoal_compute_reports_pending", Help: "Execution updates waiting to be reported to the cluster.",
		}, func() float64 { return float64(n.reporter.pending()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "shoal_memory_limit_bytes",
			Help: "The Go runtime's soft memory limit (--memory-limit or GOMEMLIMIT); 9.2e18 when unset.",
		}, func() float64 { return float64(debug.SetMemoryLimit(-1)) }))
	prometheus.WrapRegistererWithPrefix("shoal_", m.registry).MustRegister(
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *nodeMetrics) handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}

func (m *nodeMetrics) executionEnded(state string, took time.Duration) {
	m.finished.WithLabelValues(state).Inc()
	m.duration.Observe(took.Seconds())
}
