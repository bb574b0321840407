package server

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/shoal-io/shoal/api"
	"github.com/shoal-io/shoal/auth"
	"github.com/shoal-io/shoal/membership"
)

// Config is what a replica needs. Zero values get the defaults documented on
// each field.
type Config struct {
	NodeID  string
	DataDir string

	// APIAddr is the host:port the REST API listens on; AdvertiseAPIAddr is
	// how others reach it (default APIAddr).
	APIAddr          string
	AdvertiseAPIAddr string
	// RaftAddr is the host:port of the Raft TCP transport; AdvertiseRaftAddr
	// is how other replicas reach it (default RaftAddr; required when RaftAddr
	// binds 0.0.0.0).
	RaftAddr          string
	AdvertiseRaftAddr string

	// BootstrapExpect is how many replicas must see each other in gossip
	// before they form a new cluster; 0 never bootstraps (the replica waits
	// to be added to an existing cluster).
	BootstrapExpect int
	// Pool is the gossip pool the replica is a member of.
	Pool *membership.Pool

	Logger  *slog.Logger
	Version api.BuildVersionInfo

	// LeaderWait bounds how long a write waits for a leader before it is
	// answered 503 (default 10s).
	LeaderWait time.Duration
	// RequestTimeout bounds a request's whole life (default 30s).
	RequestTimeout time.Duration
	// MaxBodyBytes caps request bodies (default 10 MiB); more is a 413.
	MaxBodyBytes int64
	// MaxSnapshotBytes caps a snapshot restore's body instead (default
	// 4 GiB): a backup holds the whole state.
	MaxSnapshotBytes int64

	Raft RaftTuning

	// JobDefaults fill what a submitted job leaves unset.
	JobDefaults api.JobDefaults
	// DefaultTaskResources is what a task with no resources is accounted as
	// when placing it.
	DefaultTaskResources api.Resources
	// IdempotencyWindow is how long an idempotency token keeps answering with
	// the job it created (default 24h).
	IdempotencyWindow time.Duration
	// SchedulerWorkers is the number of scheduler workers on the leader
	// (default 64).
	SchedulerWorkers int
	// NodeLostGrace is how long a compute node may be gone from gossip before
	// the leader declares it lost (default 2s, on top of gossip's own
	// detection: see DESIGN.md, "Compute node loss timing"); LeaderNodeGrace
	// is how long a new leader waits before declaring any node lost
	// (default 20s).
	NodeLostGrace   time.Duration
	LeaderNodeGrace time.Duration
	// EvalGCAge is how long finished evaluations are kept (default 10m):
	// only open ones matter to the scheduler, and every job leaves several.
	EvalGCAge time.Duration
	// JobGCAge is how long terminal jobs (Completed, Failed, Stopped) are
	// kept, with their executions, history and evaluations; 0 keeps them
	// forever (the command line's default is 72h).
	JobGCAge time.Duration
	// EnableDebug serves Go's profiler under /debug/pprof.
	EnableDebug bool
	// TLS, when set, puts every connection of the replica under TLS (see
	// transport.go): load it with auth.LoadTLS(files, auth.RoleServer).
	TLS *auth.TLS

	// UnsafeStaleReads is a deliberately broken build for the chaos suite
	// (test/chaos): linearizable reads are served from local state without
	// the read index, so the suite can prove it catches stale reads. Set
	// only by the environment variable SHOAL_TEST_UNSAFE_STALE_READS=1;
	// never in production.
	UnsafeStaleReads bool
	// ReplicaDeadGrace is how long a replica may be gone before the leader
	// removes it from the Raft configuration, when quorum allows (default
	// 5m; 0 keeps the default, negative disables removal).
	ReplicaDeadGrace time.Duration

	// ACL turns on API tokens: every request but the open ones (liveness,
	// the clientkey handshake) needs a token whose role allows it (see
	// auth.Routes). ClientKeyRole is the role of the tokens the clientkey
	// handshake hands out (default submit), valid for ClientKeyTTL
	// (default 1h).
	ACL           bool
	ClientKeyRole string
	ClientKeyTTL  time.Duration
}

// RaftTuning holds the Raft timings an operator may tune. The defaults
// (heartbeat and election 500ms, lease 250ms) are half hashicorp/raft's: a
// LAN cluster elects a new leader in about a second, and the leader keeps
// sending heartbeats every 50ms, far inside them even on a loaded machine.
type RaftTuning struct {
	HeartbeatTimeout   time.Duration
	ElectionTimeout    time.Duration
	LeaderLeaseTimeout time.Duration
	CommitTimeout      time.Duration
	// SnapshotThreshold is how many log entries since the last snapshot
	// trigger a new one (default 1024), checked every SnapshotInterval
	// (default 30s).
	SnapshotThreshold uint64
	SnapshotInterval  time.Duration
	// SnapshotCommands bounds the commands applied since the last snapshot
	// (default 65536), what a replica killed now would replay; a snapshot
	// also follows a burst once writes quieten, and a graceful shutdown
	// (snapshots.go).
	SnapshotCommands uint64
	// TrailingLogs is how many entries a snapshot leaves in the log so slow
	// followers catch up without a snapshot (default 2048).
	TrailingLogs uint64
	// MaxInflightApplies bounds how many batched entries the leader keeps
	// in flight at once (default 2): more in flight means more pipelining,
	// fewer means bigger batches, and bigger batches cost less per command.
	MaxInflightApplies int
	// MaxBatch caps how many commands share one entry (default 512).
	MaxBatch int
	// LogStore is where the Raft log lives: LogStoreWAL (raft-wal) or
	// LogStoreBolt (raft-boltdb, in raft.db with the stable store). Empty
	// means the data folder's store, DefaultLogStore for a new folder; a
	// folder keeps the store it was created with.
	LogStore string
}

func (c *Config) setDefaults() error {
	if c.NodeID == "" {
		return errors.New("server: node ID is required")
	}
	if c.DataDir == "" {
		return errors.New("server: data dir is required")
	}
	if c.APIAddr == "" {
		return errors.New("server: API address is required")
	}
	if c.RaftAddr == "" {
		return errors.New("server: Raft address is required")
	}
	if c.Pool == nil {
		return errors.New("server: gossip pool is required")
	}
	if c.BootstrapExpect < 0 {
		return fmt.Errorf("server: bootstrap-expect must be >= 0, got %d", c.BootstrapExpect)
	}
	if c.AdvertiseAPIAddr == "" {
		c.AdvertiseAPIAddr = c.APIAddr
	}
	if c.AdvertiseRaftAddr == "" {
		c.AdvertiseRaftAddr = c.RaftAddr
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	setDefault(&c.LeaderWait, 10*time.Second)
	setDefault(&c.RequestTimeout, 30*time.Second)
	setDefault(&c.MaxBodyBytes, 10<<20)
	setDefault(&c.MaxSnapshotBytes, 4<<30)
	setDefault(&c.IdempotencyWindow, 24*time.Hour)
	setDefault(&c.EvalGCAge, 10*time.Minute)
	setDefault(&c.NodeLostGrace, 2*time.Second)
	setDefault(&c.LeaderNodeGrace, 20*time.Second)
	setDefault(&c.ReplicaDeadGrace, 5*time.Minute)
	setDefault(&c.ClientKeyRole, api.RoleSubmit)
	setDefault(&c.ClientKeyTTL, time.Hour)
	if !auth.ValidRole(c.ClientKeyRole) {
		return fmt.Errorf("server: clientkey role %q is not one of %v", c.ClientKeyRole, auth.Roles)
	}
	setDefault(&c.Raft.HeartbeatTimeout, 500*time.Millisecond)
	setDefault(&c.Raft.ElectionTimeout, 500*time.Millisecond)
	setDefault(&c.Raft.LeaderLeaseTimeout, 250*time.Millisecond)
	setDefault(&c.Raft.MaxInflightApplies, 2)
	setDefault(&c.Raft.MaxBatch, 512)
	if c.Raft.LogStore != "" && !ValidLogStore(c.Raft.LogStore) {
		return fmt.Errorf("server: unknown Raft log store %q: use %s or %s", c.Raft.LogStore, LogStoreBolt, LogStoreWAL)
	}
	// Entries are batches of up to MaxBatch commands, so 8192 of them could
	// be millions of commands for a restarted replica to replay: snapshot
	// after 1024, checked every 30s, so a restart replays seconds of log.
	setDefault(&c.Raft.SnapshotThreshold, 1024)
	setDefault(&c.Raft.SnapshotInterval, 30*time.Second)
	setDefault(&c.Raft.SnapshotCommands, 65536)
	// A snapshot is cheap to send (a follower further behind installs one
	// in seconds), and every entry kept is disk a replica holds: keep a
	// quarter of the snapshot interval.
	setDefault(&c.Raft.TrailingLogs, 2048)
	return nil
}

func setDefault[T comparable](v *T, def T) {
	var zero T
	if *v == zero {
		*v = def
	}
}
