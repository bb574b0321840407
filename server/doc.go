// Package server owns the orchestrator replica: Raft setup and bootstrap,
// leadership hand-over (turning the leader-only parts on and off), batching
// writes into Raft entries, forwarding writes and linearizable reads to the
// leader, the HTTP router with its handlers and middleware, and metrics.
//
// Every write handler follows the same steps: forward to the leader when
// this replica is not it, decode and validate, build a typed command with the
// IDs and times the leader chose, apply it through Raft, and answer with the
// index it was applied at (X-Shoal-Index). Every read is served from the
// local state store, after a read barrier when the client asks for
// consistency=linearizable.
package server
