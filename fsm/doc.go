// Package fsm owns the Raft state machine: command encoding, Apply, Snapshot,
// Restore, and the state store (memtab tables and indexes, frozen rows) with its read
// queries.
//
// Every replica applies the same log entries to its own store, so Apply only
// uses what the entry carries (the command and its raft index): no clock, no
// randomness, no I/O. Readers get consistent, lock-free views through
// Store.Txn; the objects they see are immutable and must not be modified.
package fsm
