package server

import (
	"cmp"
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"
	"github.com/shoal-io/shoal/api"
	"github.com/shoal-io/shoal/fsm"
	"k8s.io/apimachinery/pkg/labels"
)

// nodeOrders are the node list's order_by values. Capacity orders put the
// most free capacity first, as upstream; reverse flips any of them.
var nodeOrders = map[string]func(a, b *api.NodeInfo) int{
	"id":   func(a, b *api.NodeInfo) int { return strings.Compare(a.NodeID, b.NodeID) },
	"type": func(a, b *api.NodeInfo) int { return strings.Compare(a.NodeType.String(), b.NodeType.String()) },
	"available_cpu": func(a, b *api.NodeInfo) int {
		return cmp.Compare(available(b).CPU, available(a).CPU)
	},
	"available_memory": func(a, b *api.NodeInfo) int {
		return cmp.Compare(available(b).Memory, available(a).Memory)
	},
	"available_disk": func(a, b *api.NodeInfo) int {
		return cmp.Compare(available(b).Disk, available(a).Disk)
	},
	"available_gpu": func(a, b *api.NodeInfo) int {
		return cmp.Compare(available(b).GPU, available(a).GPU)
	},
}

func available(n *api.NodeInfo) api.Resources {
	if n.ComputeNodeInfo == nil {
		return api.Resources{}
	}
	return n.ComputeNodeInfo.AvailableCapacity
}

// withUsage fills what the orchestrator derives rather than stores: the
// capacity still free on the node and how many executions it runs or has
// queued, from the executions placed there.
func withUsage(txn *fsm.ReadTxn, n *api.NodeInfo) (*api.NodeInfo, error) {
	if n.ComputeNodeInfo == nil {
		return n, nil
	}
	allocated, running, enqueued, err := txn.NodeUsage(n.NodeID)
	if err != nil {
		return nil, err
	}
	out := *n
	info := *n.ComputeNodeInfo
	info.AvailableCapacity = info.MaxCapacity.Sub(allocated)
	info.RunningExecutions, info.EnqueuedExecutions = running, enqueued
	out.ComputeNodeInfo = &info
	return &out, nil
}

func (s *Server) handleGetNode(w http.ResponseWriter, r *http.Request) {
	txn, err := s.readTxn(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	id := chi.URLParam(r, "id")
	if strings.TrimSpace(id) == "" {
		s.writeError(w, r, api.BadRequestf("missing node id"))
		return
	}
	node, err := resolveNode(txn, id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	node, err = withUsage(txn, node)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, txn.Index(), &api.GetNodeResponse{Node: node})
}

func (s *Server) handleListNodes(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	tok, err := listToken(q, "nodes", "id")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if q.Get("next_token") == "" && q.Get("limit") == "" {
		tok.Limit = 10
	}
	order, ok := nodeOrders[tok.OrderBy]
	if !ok {
		s.writeError(w, r, api.BadRequestf("invalid order_by %q: use id, type, available_cpu, available_memory, available_disk or available_gpu", tok.OrderBy))
		return
	}
	selector, err := api.ParseSelector(q["labels"]...)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	txn, err := s.readTxn(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	all, err := txn.Nodes()
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	nodes := make([]*api.NodeInfo, 0, len(all))
	for _, n := range all {
		if !selector.Matches(labels.Set(n.Labels)) {
			continue
		}
		n, err = withUsage(txn, n)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		nodes = append(nodes, n)
	}
	items, next := sortPage(nodes, tok, order, func(n *api.NodeInfo) string { return n.NodeID })
	writeJSON(w, http.StatusOK, txn.Index(), &api.ListNodesResponse{NextToken: next, Nodes: items})
}
