package compute

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shoal-io/shoal/api"
	"github.com/shoal-io/shoal/compute/engine"
	"github.com/shoal-io/shoal/compute/engine/docker"
	"github.com/shoal-io/shoal/compute/engine/noop"
	"github.com/shoal-io/shoal/compute/engine/wasm"
	"github.com/shoal-io/shoal/compute/input"
	"github.com/shoal-io/shoal/compute/publisher"
	"github.com/shoal-io/shoal/internal/httplimit"
	"github.com/shoal-io/shoal/peerid"
)

// dockerProbeTimeout bounds asking Docker whether it is there when the node
// is built.
const dockerProbeTimeout = 5 * time.Second

// Node is a compute node.
type Node struct {
	cfg     Config
	log     *slog.Logger
	info    *api.NodeInfo
	engines map[string]engine.Engine
	docker  *docker.Engine // nil when docker is not enabled
	wasm    *wasm.Engine
	fetcher *input.Fetcher
	local   *publisher.Local

	execs    *execStore
	journal  *startJournal
	reporter *reporter
	handler  http.Handler
	metrics  *nodeMetrics

	running atomic.Bool
	runs    sync.WaitGroup

	// Only the watch loop uses these.
	synced bool // a listing has been reconciled since the process started

	reregister  atomic.Bool
	watchMu     sync.Mutex
	watchCancel context.CancelFunc
}

// New builds a node: it checks the config, creates DataDir, detects the
// machine's capacity and which engines work. It does not contact the
// orchestrators; Run does.
func New(cfg Config) (*Node, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	for _, dir := range []string{cfg.DataDir, executionsDir(cfg.DataDir), resultsDir(cfg.DataDir)} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("compute node: creating %s: %w", dir, err)
		}
	}
	if cfg.PeerID == "" {
		if cfg.PeerID, err = peerid.LoadOrCreate(cfg.DataDir); err != nil {
			return nil, fmt.Errorf("compute node: %w", err)
		}
	}
	n := &Node{cfg: cfg, log: cfg.Logger.With("node", cfg.NodeID), execs: newExecStore(), engines: map[string]engine.Engine{}}
	n.fetcher, err = input.New(input.Config{AllowedLocalPaths: cfg.AllowedLocalPaths,
		RetryBackoff: cfg.InputRetryBackoff, Logger: n.log})
	if err != nil {
		return nil, fmt.Errorf("compute node: %w", err)
	}
	if n.journal, err = openJournal(cfg.DataDir, n.log); err != nil {
		return nil, fmt.Errorf("compute node: opening the start journal: %w", err)
	}
	if err := n.setupEngines(); err != nil {
		return nil, err
	}
	n.local = &publisher.Local{Dir: resultsDir(cfg.DataDir), BaseURL: cfg.AdvertiseURL}

	// New has no context to take (its signature is fixed); the GPU probe
	// is bounded here instead.
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	detected, gpus := detectCapacity(ctx, defaultProbe(), cfg.DataDir)
	n.info, err = buildInfo(&cfg, n.engineNames(), overrideResources(detected, cfg.Capacity), gpus)
	if err != nil {
		n.close()
		return nil, err
	}
	n.metrics = newNodeMetrics(n)
	n.reporter = newReporter(reporterConfig{
		orch:       cfg.Orchestrator,
		nodeID:     cfg.NodeID,
		log:        n.log,
		maxBatch:   cfg.MaxReportBatch,
		minBackoff: cfg.RetryBackoff,
		maxBackoff: cfg.MaxRetryBackoff,
		onAccepted: n.onReportAccepted,
		onUnknown:  n.requestReregister,
		onFailed:   n.metrics.reportErrors.Inc,
		onSent:     n.metrics.reportsSent.Inc,
	})
	n.handler = n.newHandler()
	return n, nil
}

// setupEngines enables the configured engines, or all that work.
func (n *Node) setupEngines() error {
	wanted := n.cfg.Engines
	explicit := len(wanted) > 0
	if !explicit {
		wanted = allEngines
	}
	for _, name := range wanted {
		switch strings.ToLower(strings.TrimSpace(name)) {
		case engine.TypeNoop:
			n.engines[engine.TypeNoop] = &noop.Engine{Delay: n.cfg.NoopDelay}
		case engine.TypeWasm:
			w, err := wasm.New(wasm.Config{Fetcher: n.fetcher, Logger: n.log})
			if err != nil {
				return err
			}
			n.wasm = w
			n.engines[engine.TypeWasm] = w
		case engine.TypeDocker:
			instance, err := instanceID(n.cfg.DataDir)
			if err != nil {
				n.close()
				return err
			}
			// Containers may mount only their execution's own folders
			// and what the operator allowed.
			roots := append([]string{executionsDir(n.cfg.DataDir)}, n.cfg.AllowedLocalPaths...)
			d, err := docker.New(docker.Config{NodeID: n.cfg.NodeID, Instance: instance, Logger: n.log, MountRoots: roots})
			if err == nil {
				ctx, cancel := context.WithTimeout(context.Background(), dockerProbeTimeout)
				err = d.Ping(ctx)
				cancel()
				if err != nil {
					d.Close()
				}
			}
			if err != nil {
				if explicit {
					n.close()
					return fmt.Errorf("compute node: docker engine: %w", err)
				}
				n.log.Info("docker engine disabled: Docker does not answer", "err", err)
				continue
			}
			n.docker = d
			n.engines[engine.TypeDocker] = d
		}
	}
	return nil
}

// engineNames lists the enabled engines in a stable order.
func (n *Node) engineNames() []string {
	var out []string
	for _, e := range allEngines {
		if n.engines[e] != nil {
			out = append(out, e)
		}
	}
	return out
}

func (n *Node) close() {
	n.journal.close()
	if n.docker != nil {
		n.docker.Close()
	}
	if n.wasm != nil {
		n.wasm.Close(context.Background())
	}
}

// Info returns what the node registers.
func (n *Node) Info() *api.NodeInfo { return cloneInfo(n.info) }

// Handler serves the node's published results (GET /results/<execID>.tar.gz)
// and executions' output (GET /logs/<execID>). Run also serves it on the
// configured Listener.
func (n *Node) Handler() http.Handler { return n.handler }

// Run registers the node (retrying until it succeeds), then watches and
// runs its executions until ctx ends. On return, every execution it was
// running has been stopped. It returns nil when ctx ends, or an error when
// the node cannot go on (its listener failed). A Node runs once.
func (n *Node) Run(ctx context.Context) error {
	if !n.running.CompareAndSwap(false, true) {
		return errors.New("compute node: Run called twice")
	}
	defer n.close()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	if n.docker != nil {
		if err := n.docker.RemoveLeftovers(ctx); err != nil {
			n.log.Warn("could not remove leftover containers", "err", err)
		}
	}

	var bg sync.WaitGroup
	var serveErr error
	var srv *http.Server
	if l := n.cfg.Listener; l != nil {
		srv = httplimit.Default().Apply(&http.Server{
			Handler: n.handler,
			// Log followers end with the node.
			BaseContext: func(net.Listener) context.Context { return ctx },
			ErrorLog:    slog.NewLogLogger(n.log.Handler(), slog.LevelDebug),
		})
		bg.Go(func() {
			if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
				serveErr = fmt.Errorf("compute node: serving on %s: %w", l.Addr(), err)
				cancel()
			}
		})
	}
	if n.cfg.Retention > 0 {
		bg.Go(func() { n.janitor(ctx) })
	}
	reporterDone := make(chan struct{})
	go func() {
		defer close(reporterDone)
		n.reporter.run(ctx)
	}()

	n.log.Info("compute node starting", "engines", n.engineNames(), "advertise", n.cfg.AdvertiseURL)
	n.watchLoop(ctx)

	// Stop the work first, so no run reports after the last flush.
	n.execs.cancelAll()
	n.runs.Wait()
	<-reporterDone
	flushCtx, flushCancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownGrace)
	defer flushCancel()
	if left := n.reporter.flush(flushCtx); left > 0 {
		n.log.Warn("stopping with unsent reports; the cluster will reconcile them", "count", left)
	}
	if srv != nil {
		if err := srv.Shutdown(flushCtx); err != nil {
			srv.Close()
		}
	}
	bg.Wait()
	n.log.Info("compute node stopped")
	return serveErr
}

// shutdownGrace bounds the last report flush and the HTTP server shutdown.
const shutdownGrace = 5 * time.Second

func executionsDir(dataDir string) string { return filepath.Join(dataDir, "executions") }
func resultsDir(dataDir string) string    { return filepath.Join(dataDir, "results") }
func (n *Node) execDir(id string) string  { return filepath.Join(executionsDir(n.cfg.DataDir), id) }
