package compute

import (
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"time"
	"unicode"

	"github.com/shoal-io/shoal/api"
	"github.com/shoal-io/shoal/compute/engine"
)

// Config configures a compute node. NodeID, DataDir and Orchestrator are
// required; every other field has a default.
type Config struct {
	NodeID string
	// PeerID is the libp2p peer ID reported in the node's PeerInfo. Empty:
	// New derives it from the key kept in DataDir (package peerid).
	PeerID string
	// DataDir holds executions' working folders, downloaded inputs and
	// published results. With the docker engine it must be a path on the
	// Docker host (see the package doc).
	DataDir string
	// Labels are user labels; Operating-System, Architecture and GPU-<i>
	// labels are added automatically (user labels win).
	Labels map[string]string
	// Engines is a subset of docker, wasm, noop. Empty: all three, docker
	// only if the Docker engine answers. Naming docker here makes New fail
	// when Docker does not answer.
	Engines []string
	// Capacity overrides detected capacity: any non-zero dimension
	// replaces the detected one.
	Capacity api.Resources
	// MaxJobRequirements overrides, per dimension, the largest task the
	// node takes (default: the capacity).
	MaxJobRequirements api.Resources
	// AllowedLocalPaths are the host folders localDirectory inputs may
	// come from (default none: such inputs are refused).
	AllowedLocalPaths []string
	// Listener serves the node's results and logs; Run serves it. The
	// caller creates it. Nil: nothing is served (Handler still works).
	Listener net.Listener
	// AdvertiseURL is the base URL others use to reach Listener, e.g.
	// http://10.0.0.5:4234. Default: derived from Listener.
	AdvertiseURL string
	Orchestrator Orchestrator
	Version      api.BuildVersionInfo
	Logger       *slog.Logger
	// NoopDelay is how long a noop execution "runs" (default 0).
	NoopDelay time.Duration
	// MaxOutputBytes is how much of each of stdout and stderr RunOutput
	// keeps (default 64 KiB): RunOutput travels through Raft, the full
	// output stays on the node.
	MaxOutputBytes int
	// WatchWait is the long-poll wait (default 30s).
	WatchWait time.Duration
	// RetryBackoff is the first wait after a failed call to the
	// orchestrators, doubled up to MaxRetryBackoff (defaults 250ms, 10s).
	RetryBackoff    time.Duration
	MaxRetryBackoff time.Duration
	// MaxReportBatch caps the updates sent in one report (default 256).
	MaxReportBatch int
	// InputRetryBackoff is the first wait between download attempts of a
	// urlDownload input (default 1s).
	InputRetryBackoff time.Duration
	// Retention is how long a finished execution's output files and
	// published tarball are kept (default 0: forever). Inputs and working
	// files are removed as soon as an execution ends.
	Retention time.Duration
}

// Defaults.
const (
	DefaultMaxOutputBytes  = 64 << 10
	DefaultWatchWait       = 30 * time.Second
	DefaultRetryBackoff    = 250 * time.Millisecond
	DefaultMaxRetryBackoff = 10 * time.Second
	DefaultMaxReportBatch  = 256
)

// withDefaults checks the config and fills in defaults.
func (c Config) withDefaults() (Config, error) {
	c.NodeID = strings.TrimSpace(c.NodeID)
	if c.NodeID == "" {
		return c, api.BadRequestf("compute node config: NodeID is required")
	}
	if strings.ContainsFunc(c.NodeID, func(r rune) bool { return r == '/' || unicode.IsSpace(r) || unicode.IsControl(r) }) {
		return c, api.BadRequestf("compute node config: NodeID %q must not hold '/', spaces or control characters", c.NodeID)
	}
	if c.DataDir == "" {
		return c, api.BadRequestf("compute node config: DataDir is required")
	}
	dir, err := filepath.Abs(c.DataDir)
	if err != nil {
		return c, api.BadRequestf("compute node config: DataDir: %v", err)
	}
	c.DataDir = dir
	if c.Orchestrator == nil {
		return c, api.BadRequestf("compute node config: Orchestrator is required")
	}
	for _, e := range c.Engines {
		if !supported(allEngines, e) {
			return c, api.BadRequestf("compute node config: unknown engine %q (want docker, wasm or noop)", e)
		}
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.MaxOutputBytes <= 0 {
		c.MaxOutputBytes = DefaultMaxOutputBytes
	}
	if c.WatchWait <= 0 {
		c.WatchWait = DefaultWatchWait
	}
	if c.RetryBackoff <= 0 {
		c.RetryBackoff = DefaultRetryBackoff
	}
	if c.MaxRetryBackoff < c.RetryBackoff {
		c.MaxRetryBackoff = max(DefaultMaxRetryBackoff, c.RetryBackoff)
	}
	if c.MaxReportBatch <= 0 {
		c.MaxReportBatch = DefaultMaxReportBatch
	}
	if c.AdvertiseURL == "" {
		c.AdvertiseURL = advertiseFromListener(c.Listener)
	}
	c.AdvertiseURL = strings.TrimRight(c.AdvertiseURL, "/")
	return c, nil
}

var allEngines = []string{engine.TypeDocker, engine.TypeWasm, engine.TypeNoop}

// validID reports whether an ID is safe to use as a file name.
func validID(id string) bool {
	if id == "" || id == "." || id == ".." || len(id) > 255 {
		return false
	}
	for _, c := range id {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.'
		if !ok {
			return false
		}
	}
	return true
}
