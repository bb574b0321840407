package server

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/shoal-io/shoal/api"
	"github.com/shoal-io/shoal/fsm"
)

// A node has two IDs: the NodeID its operator chose (--node-id), which the
// state store indexes, and its libp2p peer ID (PeerInfo.ID), which tools
// built on libp2p show. Wherever a node is named, either one is accepted,
// whole or by a unique prefix. Nodes are few, so peer IDs are found by a
// scan rather than an index.

// resolveNode finds a node by NodeID, peer ID, or a unique prefix of either.
func resolveNode(txn *fsm.ReadTxn, idOrPrefix string) (*api.NodeInfo, error) {
	node, err := txn.ResolveNode(idOrPrefix)
	if err == nil || !errors.Is(err, api.ErrNotFound) {
		return node, err
	}
	match, perr := nodeByPeerID(txn, idOrPrefix)
	if perr != nil {
		return nil, perr
	}
	if match == nil {
		return nil, err
	}
	return match, nil
}

// nodeByPeerID returns the node whose peer ID is id or the only one that
// starts with it; nil when none does.
func nodeByPeerID(txn *fsm.ReadTxn, id string) (*api.NodeInfo, error) {
	if id == "" {
		return nil, nil
	}
	all, err := txn.Nodes()
	if err != nil {
		return nil, err
	}
	var matches []*api.NodeInfo
	for _, n := range all {
		if n.PeerInfo == nil || n.PeerInfo.ID == "" || n.PeerInfo.ID == n.NodeID {
			continue
		}
		if n.PeerInfo.ID == id {
			return n, nil
		}
		if strings.HasPrefix(n.PeerInfo.ID, id) {
			matches = append(matches, n)
		}
	}
	switch len(matches) {
	case 0:
		return nil, nil
	case 1:
		return matches[0], nil
	}
	ids := make([]string, len(matches))
	for i, n := range matches {
		ids[i] = n.PeerInfo.ID
	}
	sort.Strings(ids)
	return nil, (&api.Error{
		Kind:      api.ErrAmbiguousID,
		Code:      api.CodeMultipleFound,
		Component: api.ComponentNodeStore,
		Message:   fmt.Sprintf("multiple nodes found for peer ID prefix %s: %s", id, strings.Join(ids, ", ")),
	}).WithHint("use the full node ID or peer ID")
}

// nodeIDFilter turns a node filter given as a peer ID (or its prefix) into
// that node's NodeID. A value that starts some NodeID is kept as it is: the
// filters match NodeID prefixes.
func nodeIDFilter(txn *fsm.ReadTxn, v string) (string, error) {
	if v == "" {
		return v, nil
	}
	all, err := txn.Nodes()
	if err != nil {
		return "", err
	}
	for _, n := range all {
		if strings.HasPrefix(n.NodeID, v) {
			return v, nil
		}
	}
	n, err := nodeByPeerID(txn, v)
	if err != nil || n == nil {
		return v, err
	}
	return n.NodeID, nil
}
