package upstream

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/shoal-io/shoal/api"
	"github.com/shoal-io/shoal/api/client"
	"github.com/shoal-io/shoal/peerid"
)

func TestNodeIDs(t *testing.T) {
	e := newEnv(t, 2)
	nodes := e.nodes(t)
	c1, c2 := nodes["c1"], nodes["c2"]
	if c1 == nil || c2 == nil {
		t.Fatalf("nodes: %v", nodes)
	}
	for _, n := range []*api.NodeInfo{c1, c2} {
		if n.PeerInfo == nil || !peerid.Valid(n.PeerInfo.ID) {
			t.Fatalf("node %s: PeerInfo %+v, want a libp2p peer ID", n.NodeID, n.PeerInfo)
		}
	}
	if c1.PeerInfo.ID == c2.PeerInfo.ID {
		t.Fatalf("c1 and c2 share peer ID %s", c1.PeerInfo.ID)
	}
	// The shortest prefix of c1's peer ID that c2's does not share.
	n := 0
	for n < len(c1.PeerInfo.ID) && c1.PeerInfo.ID[:n] == c2.PeerInfo.ID[:min(n, len(c2.PeerInfo.ID))] {
		n++
	}
	unique := c1.PeerInfo.ID[:n]
	common := c1.PeerInfo.ID[:n-1]

	for _, tc := range []struct {
		name, id string
		want     string // NodeID; "" means an error
		kind     error
	}{
		{"NodeID", "c1", "c1", nil},
		{"peer ID", c1.PeerInfo.ID, "c1", nil},
		{"unique peer ID prefix", unique, "c1", nil},
		{"the other node's peer ID", c2.PeerInfo.ID, "c2", nil},
		{"a prefix both peer IDs share", common, "", api.ErrAmbiguousID},
		{"nobody's ID", "12D3KooWnobody", "", api.ErrNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, _, err := e.api.Nodes().Get(t.Context(), tc.id)
			if tc.want == "" {
				if !errors.Is(err, tc.kind) {
					t.Fatalf("GET /nodes/%s: %v, want %v", tc.id, err, tc.kind)
				}
				return
			}
			if err != nil {
				t.Fatalf("GET /nodes/%s: %v", tc.id, err)
			}
			if resp.Node.NodeID != tc.want {
				t.Fatalf("GET /nodes/%s is %s, want %s", tc.id, resp.Node.NodeID, tc.want)
			}
		})
	}

	// A node filter takes a peer ID too: an ops job runs on both nodes,
	// and its history filtered by c1's IDs shows only c1's events.
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	noop := &api.Job{Name: "peer-filter", Type: api.JobTypeOps,
		Tasks: []*api.Task{{Name: "main", Engine: &api.SpecConfig{Type: "noop"}}}}
	put, _, err := e.api.Jobs().Put(ctx, &api.PutJobRequest{Job: noop})
	if err != nil {
		t.Fatal(err)
	}
	waitTerminal(ctx, t, e.api, put.JobID)
	for _, filter := range []string{"c1", c1.PeerInfo.ID, unique} {
		hist, _, err := e.api.Jobs().History(ctx, put.JobID, client.HistoryOptions{NodeID: filter})
		if err != nil {
			t.Fatalf("history node_id=%s: %v", filter, err)
		}
		if len(hist.History) == 0 {
			t.Errorf("history node_id=%s: no events; want c1's", filter)
		}
		for _, h := range hist.History {
			if h.NodeID != "c1" {
				t.Errorf("history node_id=%s has an event of node %q", filter, h.NodeID)
			}
		}
	}

	// Restarted, a node keeps its peer ID: the key is in its data folder.
	before := c1.PeerInfo.ID
	c1p := e.c.Computes[0]
	c1p.Stop()
	if err := c1p.Start(); err != nil {
		t.Fatal(err)
	}
	for {
		resp, _, err := e.api.Nodes().Get(ctx, "c1")
		if err == nil && resp.Node.Connection == api.NodeConnected && resp.Node.PeerInfo != nil {
			if resp.Node.PeerInfo.ID != before {
				t.Fatalf("c1's peer ID changed across a restart: %s, then %s", before, resp.Node.PeerInfo.ID)
			}
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("c1 did not come back: %v", err)
		case <-time.After(200 * time.Millisecond):
		}
	}
	// It is the key in the node's data folder that names it.
	fromKey, err := peerid.LoadOrCreate(filepath.Join(c1p.DataDir, "compute"))
	if err != nil {
		t.Fatal(err)
	}
	if fromKey != before {
		t.Errorf("c1 reports peer ID %s; the key in its data folder gives %s", before, fromKey)
	}
	// Replicas report theirs too.
	agent, _, err := e.api.Agent().Node(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if agent.PeerInfo == nil || !peerid.Valid(agent.PeerInfo.ID) {
		t.Errorf("agent/node: PeerInfo %+v, want a libp2p peer ID", agent.PeerInfo)
	}
}

// waitTerminal waits until the job ends.
func waitTerminal(ctx context.Context, t *testing.T, cl *client.Client, id string) *api.Job {
	t.Helper()
	for {
		resp, _, err := cl.Jobs().Get(ctx, id, client.GetJobOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if resp.Job.State.StateType.IsTerminal() {
			return resp.Job
		}
		select {
		case <-ctx.Done():
			t.Fatalf("job %s did not end: %s", id, resp.Job.State.StateType)
		case <-time.After(200 * time.Millisecond):
		}
	}
}
