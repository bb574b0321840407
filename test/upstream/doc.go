// Package upstream checks Shoal against tools built for upstream Bacalhau.
//
// TestNodeIDs checks, with no upstream tool, what those tools rely on about
// nodes: each reports a libp2p peer ID, stable across restarts, and a node
// is found by either ID, whole or by a unique prefix.
//
// TestUpstreamCLI runs upstream's own CLI (Bacalhau v1.2.3) against a
// follower of a three-replica cluster: job run, describe, list, history,
// executions, logs, stop, node list and node describe, checking each
// answer. It runs only when BACALHAU_BIN names that binary (built from the
// public source outside this tree; README, "Upstream's CLI") and skips
// otherwise. The CLI is pointed at loopback, with update checks off.
package upstream
