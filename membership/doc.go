// Package membership owns the gossip pool (hashicorp/memberlist) that every
// Shoal process joins: who is in the cluster, their role (orchestrator
// replica or compute node), how to reach their API and Raft endpoints, and
// whether gossip currently considers them alive.
//
// It reports changes level-triggered: subscribers get a coalesced "something
// changed" signal and read the whole picture with Members, so a slow reader
// can never miss a transition or block gossip.
package membership
