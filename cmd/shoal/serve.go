package main

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/shoal-io/shoal/api"
	"github.com/shoal-io/shoal/api/client"
	"github.com/shoal-io/shoal/auth"
	"github.com/shoal-io/shoal/compute"
	"github.com/shoal-io/shoal/membership"
	"github.com/shoal-io/shoal/server"
	"github.com/spf13/cobra"
)

// serveGCPercent is the garbage collector's target when GOGC is not set.
const serveGCPercent = 800

type serveOptions struct {
	orchestrator, compute, dev bool

	nodeID, dataDir                  string
	apiAddr, raftAddr, gossipAddr    string
	advAPI, advRaft, advGossip       string
	bootstrapExpect                  int
	join                             []string
	gossipKey, gossipProfile         string
	logLevel, logFormat              string
	leaderWait                       time.Duration
	raft                             server.RaftTuning
	nodeLostGrace, leaderNodeGrace   time.Duration
	replicaDeadGrace                 time.Duration
	defaultExecTimeout, defaultQueue time.Duration
	schedulerWorkers                 int
	enableDebug                      bool
	evalGCAge                        time.Duration
	// Retention and memory (issue 10).
	jobGCAge    time.Duration
	memoryLimit string

	labels       map[string]string
	engines      []string
	cpu, memory  string
	disk         string
	gpu          int
	allowedPaths []string
	noopDelay    time.Duration

	tlsFiles auth.TLSFiles
	// ACLs (issue 11).
	acl           bool
	nodeToken     string
	clientKeyRole string
	clientKeyTTL  time.Duration
}

func newServeCommand() *cobra.Command {
	o := &serveOptions{}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run an orchestrator replica, a compute node, or both in one process (the default)",
		Long: `Run Shoal.

With no role flag, serve runs a single-process dev cluster: one orchestrator
replica and one compute node, data in ./shoal-data, API on 127.0.0.1:1234.
--orchestrator runs a replica; --compute runs a compute node; both flags
together run both. Every flag can also come from an environment variable
(SHOAL_ + the flag name in capitals, dashes as underscores: SHOAL_API_ADDR)
or from a YAML/JSON file given with --config whose keys are flag names.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := bindFlagSources(cmd); err != nil {
				return err
			}
			return o.run(cmd)
		},
	}
	f := cmd.Flags()
	f.String("config", "", "YAML or JSON file with flag values (keys are flag names)")
	f.BoolVar(&o.orchestrator, "orchestrator", false, "run an orchestrator replica")
	f.BoolVar(&o.compute, "compute", false, "run a compute node")
	f.BoolVar(&o.dev, "dev", false, "run a replica and a compute node in one process (the default without --orchestrator or --compute)")
	f.StringVar(&o.nodeID, "node-id", "", "this node's ID (default: a generated n-<uuid>, kept in the data dir)")
	f.StringVar(&o.dataDir, "data-dir", "shoal-data", "folder for Raft log, snapshots and compute work")
	f.StringVar(&o.apiAddr, "api-addr", "127.0.0.1:1234", "host:port of the REST API (compute nodes: their results/logs endpoint, default <gossip host>:0)")
	f.StringVar(&o.raftAddr, "raft-addr", "127.0.0.1:1235", "host:port of the Raft transport")
	f.StringVar(&o.gossipAddr, "gossip-addr", "127.0.0.1:1236", "host:port of gossip (TCP and UDP)")
	f.StringVar(&o.advAPI, "advertise-api-addr", "", "host:port others use to reach the API (default --api-addr)")
	f.StringVar(&o.advRaft, "advertise-raft-addr", "", "host:port other replicas use to reach Raft (default --raft-addr)")
	f.StringVar(&o.advGossip, "advertise-gossip-addr", "", "host:port others use to reach gossip (default --gossip-addr)")
	f.IntVar(&o.bootstrapExpect, "bootstrap-expect", 0, "replicas that must see each other before forming a new cluster; 0 never bootstraps, it joins an existing cluster (default: 1 without --join, else 0)")
	f.StringSliceVar(&o.join, "join", nil, "gossip addresses of cluster members to join (comma-separated)")
	f.StringVar(&o.gossipKey, "gossip-key", "", "base64 key (16, 24 or 32 bytes) that encrypts gossip")
	f.StringVar(&o.gossipProfile, "gossip-profile", "lan", "gossip timing: lan, or local for fast failure detection on one host")
	f.StringVar(&o.logLevel, "log-level", "info", "debug, info, warn or error")
	f.StringVar(&o.logFormat, "log-format", "text", "text or json")
	f.DurationVar(&o.leaderWait, "leader-wait", 10*time.Second, "how long a write waits for a leader before answering 503")
	f.DurationVar(&o.raft.HeartbeatTimeout, "raft-heartbeat-timeout", 500*time.Millisecond, "follower's wait for the leader before it starts an election (randomised up to twice this)")
	f.DurationVar(&o.raft.ElectionTimeout, "raft-election-timeout", 500*time.Millisecond, "candidate's wait for votes before it retries")
	f.DurationVar(&o.raft.LeaderLeaseTimeout, "raft-leader-lease-timeout", 250*time.Millisecond, "how long a leader keeps leading without hearing from a quorum")
	f.DurationVar(&o.raft.CommitTimeout, "raft-commit-timeout", 50*time.Millisecond, "longest wait before a heartbeat carries the commit index")
	f.Uint64Var(&o.raft.SnapshotThreshold, "raft-snapshot-threshold", 1024, "log entries between snapshots")
	f.Uint64Var(&o.raft.SnapshotCommands, "raft-snapshot-commands", 65536, "commands between snapshots (an entry carries many): bounds what a restarted replica replays; an eighth of it is snapshotted once writes quieten, and at shutdown")
	f.IntVar(&o.raft.MaxInflightApplies, "raft-max-inflight", 2, "batched Raft entries the leader keeps in flight (fewer: bigger batches)")
	f.IntVar(&o.raft.MaxBatch, "raft-max-batch", 512, "most commands packed into one Raft entry")
	f.StringVar(&o.raft.LogStore, "raft-log-store", "", "where the Raft log lives: wal (raft-wal) or bolt (raft-boltdb); default: the data folder's store, wal for a new folder (a folder refuses the other store)")
	f.DurationVar(&o.nodeLostGrace, "node-lost-grace", 2*time.Second, "how long a compute node may be gone from gossip (after gossip's own failure detection) before the leader declares it lost")
	f.DurationVar(&o.leaderNodeGrace, "leader-node-grace", 20*time.Second, "how long a new leader waits before declaring any compute node lost")
	f.DurationVar(&o.replicaDeadGrace, "replica-dead-grace", 5*time.Minute, "how long a replica may be dead before the leader removes it from Raft (negative: never)")
	f.DurationVar(&o.defaultExecTimeout, "default-execution-timeout", 30*time.Minute, "ExecutionTimeout given to tasks that set none")
	f.DurationVar(&o.defaultQueue, "default-queue-timeout", 5*time.Minute, "QueueTimeout given to tasks that set none: how long a job waits for a node before it fails")
	f.IntVar(&o.schedulerWorkers, "scheduler-workers", 0, "scheduler workers on the leader (default 64: workers mostly wait for their plans to commit)")
	f.BoolVar(&o.enableDebug, "enable-debug", false, "serve Go's profiler under /debug/pprof on the API port")
	f.DurationVar(&o.evalGCAge, "eval-gc-age", 10*time.Minute, "how long finished evaluations are kept in the replicated state")
	f.DurationVar(&o.jobGCAge, "job-gc-age", 72*time.Hour, "how long terminal jobs (completed, failed, stopped) are kept, with their executions and history; 0 keeps them forever")
	f.StringVar(&o.memoryLimit, "memory-limit", defaultMemoryLimit, "soft limit on the Go heap (e.g. 400MiB, 2GiB; 0 for none): past it the garbage collector works harder instead of growing the process; raised when the heap needs it, so the collector's goal stays 1.3x the live heap. GOMEMLIMIT overrides it")

	f.StringToStringVar(&o.labels, "labels", nil, "compute node labels, key=value pairs (comma-separated)")
	f.StringSliceVar(&o.engines, "engines", nil, "execution engines to offer: docker, wasm, noop (default: all that work here)")
	f.StringVar(&o.cpu, "cpu", "", "CPU the compute node offers, e.g. 4 or 3500m (default: detected)")
	f.StringVar(&o.memory, "memory", "", "memory the compute node offers, e.g. 8gb (default: detected)")
	f.StringVar(&o.disk, "disk", "", "disk the compute node offers, e.g. 100gb (default: detected)")
	f.IntVar(&o.gpu, "gpu", 0, "GPUs the compute node offers (default: detected)")
	f.StringSliceVar(&o.allowedPaths, "allowed-local-paths", nil, "host folders localDirectory inputs may read and docker jobs may mount (comma-separated; default none)")
	f.DurationVar(&o.noopDelay, "noop-delay", 0, "how long a noop execution runs")

	// TLS: all three files turn it on for every connection (see README,
	// "Securing a cluster").
	f.StringVar(&o.tlsFiles.CAFile, "tls-ca-file", "", "CA certificate (shoal-agent-ca.pem): with --tls-cert-file and --tls-key-file, every connection uses TLS")
	f.StringVar(&o.tlsFiles.CertFile, "tls-cert-file", "", "this process's certificate: server-shoal.pem for a replica, compute-shoal.pem for a compute node")
	f.StringVar(&o.tlsFiles.KeyFile, "tls-key-file", "", "the key of --tls-cert-file")
	f.BoolVar(&o.acl, "acl", false, "require API tokens (bootstrap the first with 'shoal acl bootstrap'); every replica of a cluster needs it")
	f.StringVar(&o.nodeToken, "node-token", "", "compute node: the ACL token (role node) it registers, watches and reports with")
	f.StringVar(&o.clientKeyRole, "clientkey-role", "submit", "with --acl: role of the tokens the upstream clientkey handshake hands out")
	f.DurationVar(&o.clientKeyTTL, "clientkey-ttl", time.Hour, "with --acl: how long a clientkey handshake token lives")
	return cmd
}

func (o *serveOptions) run(cmd *cobra.Command) error {
	if !o.orchestrator && !o.compute {
		o.dev = true
	}
	if o.dev {
		o.orchestrator, o.compute = true, true
	}
	logger, err := newLogger(o.logLevel, o.logFormat)
	if err != nil {
		return err
	}
	if os.Getenv("GOGC") == "" {
		// The state store churns short-lived garbage on every write; trading
		// memory for fewer collections bought ~15% more end-to-end jobs/s in
		// the benchmark. GOGC (and GOMEMLIMIT) still override it.
		debug.SetGCPercent(serveGCPercent)
	}
	limit, err := applyMemoryLimit(o.memoryLimit, logger)
	if err != nil {
		return err
	}
	if limit != nil {
		defer limit.Stop()
	}
	if err := os.MkdirAll(o.dataDir, 0o750); err != nil {
		return fmt.Errorf("create data dir: %w", err)
	}
	if o.nodeID == "" {
		if o.nodeID, err = persistentNodeID(o.dataDir); err != nil {
			return err
		}
	}
	if !cmd.Flags().Changed("bootstrap-expect") && len(o.join) == 0 {
		o.bootstrapExpect = 1
	}
	if o.compute && !o.orchestrator && !cmd.Flags().Changed("api-addr") {
		host, _, err := net.SplitHostPort(o.gossipAddr)
		if err != nil {
			return fmt.Errorf("--gossip-addr: %w", err)
		}
		o.apiAddr = net.JoinHostPort(host, "0")
	}
	// Every log line of this process names it; the packages below add only
	// their component.
	logger = logger.With("node", o.nodeID)
	ctx := cmd.Context()

	var key []byte
	if o.gossipKey != "" {
		if key, err = base64.StdEncoding.DecodeString(o.gossipKey); err != nil {
			return fmt.Errorf("--gossip-key must be base64: %w", err)
		}
	}
	tlsID, err := o.loadTLS(logger)
	if err != nil {
		return err
	}

	// A compute-only node listens before it joins gossip, so the address it
	// gossips is the one it really got (port 0 picks one).
	var computeListener net.Listener
	if o.compute && !o.orchestrator {
		if computeListener, err = net.Listen("tcp", o.apiAddr); err != nil {
			return fmt.Errorf("listen for results and logs on %s: %w", o.apiAddr, err)
		}
		o.apiAddr = computeListener.Addr().String()
		computeListener = withTLS(computeListener, tlsID)
	}
	role := membership.RoleCompute
	if o.orchestrator {
		role = membership.RoleOrchestrator
	}
	advAPI := firstNonEmpty(o.advAPI, o.apiAddr)
	advRaft := ""
	if o.orchestrator {
		advRaft = firstNonEmpty(o.advRaft, o.raftAddr)
	}
	pool, err := membership.New(membership.Config{
		NodeID: o.nodeID, Role: role, BindAddr: o.gossipAddr, AdvertiseAddr: o.advGossip,
		APIAddr: advAPI, RaftAddr: advRaft, Join: o.join, SecretKey: key,
		Profile: o.gossipProfile, Logger: logger.With("component", "gossip"),
	})
	if err != nil {
		return err
	}
	defer func() { _ = pool.Shutdown() }()

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, 3)
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := pool.KeepJoined(runCtx); err != nil && runCtx.Err() == nil {
			errs <- err
		}
	}()

	if o.orchestrator {
		if w := exposureWarning(o.apiAddr, o.dev, tlsID != nil, o.acl); w != "" {
			logger.Warn(w)
		}
		srv, err := server.New(server.Config{
			NodeID: o.nodeID, DataDir: o.dataDir,
			APIAddr: o.apiAddr, AdvertiseAPIAddr: advAPI,
			RaftAddr: o.raftAddr, AdvertiseRaftAddr: advRaft,
			BootstrapExpect: o.bootstrapExpect, Pool: pool, Logger: logger, Version: versionInfo(),
			LeaderWait: o.leaderWait, Raft: o.raft,
			JobDefaults: api.JobDefaults{
				ExecutionTimeout: int64(o.defaultExecTimeout / time.Second),
				QueueTimeout:     int64(o.defaultQueue / time.Second),
			},
			SchedulerWorkers: o.schedulerWorkers,
			EnableDebug:      o.enableDebug,
			UnsafeStaleReads: unsafeStaleReads(logger),
			EvalGCAge:        o.evalGCAge,
			TLS:              tlsID,
			JobGCAge:         o.jobGCAge,
			NodeLostGrace:    o.nodeLostGrace, LeaderNodeGrace: o.leaderNodeGrace, ReplicaDeadGrace: o.replicaDeadGrace,
			ACL: o.acl, ClientKeyRole: o.clientKeyRole, ClientKeyTTL: o.clientKeyTTL,
		})
		if err != nil {
			return err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := srv.Run(runCtx); err != nil {
				errs <- err
			}
			cancel()
		}()
	}
	if o.compute {
		node, err := o.newComputeNode(pool, computeListener, advAPI, tlsID, logger)
		if err != nil {
			cancel()
			wg.Wait()
			return err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := node.Run(runCtx); err != nil && runCtx.Err() == nil {
				errs <- err
			}
			cancel()
		}()
	}

	select {
	case <-ctx.Done():
		logger.Info("shutting down")
	case err = <-errs:
		logger.Error("stopping", "error", err)
	}
	cancel()
	if o.compute && !o.orchestrator {
		// A compute node that stops on purpose says so, so its work is
		// replaced without waiting for failure detection. Replicas do not:
		// a restart must not look like a departure.
		_ = pool.Leave(time.Second)
	}
	wg.Wait()
	return err
}

func (o *serveOptions) newComputeNode(pool *membership.Pool, l net.Listener, advAPI string, tlsID *auth.TLS, logger *slog.Logger) (*compute.Node, error) {
	capacity, err := parseCapacity(o.cpu, o.memory, o.disk, o.gpu)
	if err != nil {
		return nil, err
	}
	if l == nil {
		// Dev mode: the compute node's results and logs get a port of their own.
		host, _, _ := net.SplitHostPort(o.apiAddr)
		if l, err = net.Listen("tcp", net.JoinHostPort(host, "0")); err != nil {
			return nil, fmt.Errorf("listen for results and logs: %w", err)
		}
		advAPI = l.Addr().String()
		l = withTLS(l, tlsID)
	}
	scheme, clientOpts := "http://", []client.Option{}
	if tlsID != nil {
		scheme = "https://"
		clientOpts = append(clientOpts, client.WithTLSConfig(tlsID.PeerClientConfig(auth.RoleServer)))
	}
	local := o.orchestrator
	hosts := func() []string {
		var out []string
		if local {
			out = append(out, scheme+firstNonEmpty(o.advAPI, o.apiAddr))
		}
		alive := pool.Alive(membership.RoleOrchestrator)
		if len(alive) == 0 {
			// Gossip lost them all (a full cluster restart): the addresses
			// they had are the best guess until gossip finds them again.
			for _, m := range pool.Members() {
				if m.Role == membership.RoleOrchestrator {
					alive = append(alive, m)
				}
			}
		}
		var remote []string
		for _, m := range alive {
			if m.APIAddr != "" && m.ID != o.nodeID {
				remote = append(remote, scheme+m.APIAddr)
			}
		}
		// Each node starts at a different replica, so watches and reports
		// spread over the cluster instead of all landing on the first one.
		if n := len(remote); n > 1 {
			h := fnv.New32a()
			_, _ = h.Write([]byte(o.nodeID))
			k := int(h.Sum32() % uint32(n))
			remote = append(remote[k:], remote[:k]...)
		}
		return append(out, remote...)
	}
	opts := append(clientOpts, client.WithHostsFunc(hosts))
	if o.nodeToken != "" {
		opts = append(opts, client.WithToken(o.nodeToken))
	} else if o.acl {
		logger.Warn("ACLs are on but this compute node has no --node-token: the replicas will refuse it until it has one")
	}
	c, err := client.New(hosts(), opts...)
	if err != nil {
		return nil, err
	}
	return compute.New(compute.Config{
		NodeID:            o.nodeID,
		DataDir:           filepath.Join(o.dataDir, "compute"),
		Labels:            o.labels,
		Engines:           o.engines,
		Capacity:          capacity,
		AllowedLocalPaths: o.allowedPaths,
		Listener:          l,
		AdvertiseURL:      scheme + advAPI,
		Orchestrator:      c.Compute(),
		Version:           versionInfo(),
		Logger:            logger.With("component", "compute"),
		NoopDelay:         o.noopDelay,
	})
}

func parseCapacity(cpu, memory, disk string, gpu int) (api.Resources, error) {
	rc := api.ResourcesConfig{CPU: cpu, Memory: memory, Disk: disk}
	r, err := rc.Parse()
	if err != nil {
		return api.Resources{}, fmt.Errorf("compute capacity: %w", err)
	}
	if gpu < 0 {
		return api.Resources{}, errors.New("--gpu must be >= 0")
	}
	r.GPU = uint64(gpu)
	return r, nil
}

// persistentNodeID returns the node ID kept in the data dir, creating one
// the first time: a replica's ID is its Raft identity and must survive
// restarts.
func persistentNodeID(dataDir string) (string, error) {
	path := filepath.Join(dataDir, "node-id")
	if b, err := os.ReadFile(path); err == nil {
		if id := strings.TrimSpace(string(b)); id != "" {
			return id, nil
		}
	}
	id := "n-" + uuid.NewString()
	if err := os.WriteFile(path, []byte(id+"\n"), 0o640); err != nil {
		return "", fmt.Errorf("save node ID: %w", err)
	}
	return id, nil
}

func newLogger(level, format string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	opts := &slog.HandlerOptions{Level: l}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(os.Stderr, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(os.Stderr, opts)), nil
	}
	return nil, fmt.Errorf("--log-format must be text or json, not %q", format)
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

// unsafeStaleReads reads the chaos suite's broken-build switch
// (SHOAL_TEST_UNSAFE_STALE_READS=1): linearizable reads then skip the read
// index, which test/chaos must catch. It is loud so nobody runs it unaware.
func unsafeStaleReads(logger *slog.Logger) bool {
	if os.Getenv("SHOAL_TEST_UNSAFE_STALE_READS") != "1" {
		return false
	}
	logger.Warn("SHOAL_TEST_UNSAFE_STALE_READS=1: linearizable reads are served from local state; this build is deliberately unsafe")
	return true
}
