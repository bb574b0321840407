package scheduler

import (
	"fmt"
	"strings"
	"sync/atomic"

	"k8s.io/apimachinery/pkg/labels"

	"github.com/shoal-io/shoal/api"
)

// nodeEntry is a node prepared for feasibility checks: lowercased feature
// lists and a label set, built once per version of the nodes table.
type nodeEntry struct {
	id string
	// unusable says why no new execution may go to this node ("" = usable).
	unusable    string
	lost        bool // disconnected: its non-terminal executions are lost
	engines     []string
	publishers  []string
	storages    []string
	labels      labels.Set
	maxCapacity api.Resources
	maxJob      api.Resources
}

// nodeTable is the parsed node list of one version of the nodes table.
type nodeTable struct {
	index uint64
	list  []*nodeEntry // by ID, as State.Nodes returns them
	byID  map[string]*nodeEntry
}

func buildNodeTable(index uint64, nodes []*api.NodeInfo) *nodeTable {
	t := &nodeTable{index: index, list: make([]*nodeEntry, 0, len(nodes)), byID: make(map[string]*nodeEntry, len(nodes))}
	for _, info := range nodes {
		if info == nil {
			continue
		}
		n := &nodeEntry{id: info.NodeID, labels: labels.Set(info.Labels)}
		n.lost = info.Connection == api.NodeDisconnected
		switch {
		case n.lost:
			n.unusable = "node is disconnected"
		case info.Connection != "" && info.Connection != api.NodeConnected:
			n.unusable = fmt.Sprintf("node connection is %s", info.Connection)
		case info.Approval != "" && info.Approval != api.NodeApprovalApproved:
			n.unusable = fmt.Sprintf("node is %s, not approved", strings.ToLower(info.Approval))
		case info.ComputeNodeInfo == nil || info.NodeType == api.NodeTypeRequester:
			n.unusable = "not a compute node"
		}
		if ci := info.ComputeNodeInfo; ci != nil {
			n.engines = lowerAll(ci.ExecutionEngines)
			n.publishers = lowerAll(ci.Publishers)
			n.storages = lowerAll(ci.StorageSources)
			n.maxCapacity = ci.MaxCapacity
			n.maxJob = ci.MaxJobRequirements
		}
		t.list = append(t.list, n)
		t.byID[n.id] = n
	}
	return t
}

func lowerAll(in []string) []string {
	out := make([]string, len(in))
	for i, s := range in {
		out[i] = strings.ToLower(strings.TrimSpace(s))
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// nodeCache keeps the last parsed node table, keyed by the raft index of the
// nodes table, so scheduling thousands of evaluations against thousands of
// nodes does not re-read and re-parse them every time.
type nodeCache struct {
	table atomic.Pointer[nodeTable]
}

func (c *nodeCache) get(state State) (*nodeTable, error) {
	index := state.NodesIndex()
	if t := c.table.Load(); t != nil && index != 0 && t.index == index {
		return t, nil
	}
	nodes, err := state.Nodes()
	if err != nil {
		return nil, fmt.Errorf("list nodes: %w", err)
	}
	t := buildNodeTable(index, nodes)
	// Keep the newest table when workers read snapshots of different ages.
	for {
		old := c.table.Load()
		if old != nil && old.index > index {
			break
		}
		if c.table.CompareAndSwap(old, t) {
			break
		}
	}
	return t, nil
}
