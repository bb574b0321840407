package main

import (
	"net/http"
	"net/url"
	"reflect"
	"testing"

	"github.com/shoal-io/shoal/api"
)

func fixNode() *api.NodeInfo {
	return &api.NodeInfo{
		NodeID:   fixNodeID,
		PeerInfo: &api.PeerInfo{ID: fixNodeID, Addrs: []string{"/ip4/10.0.0.5/tcp/6001"}},
		NodeType: api.NodeTypeCompute,
		Labels:   map[string]string{"Architecture": "amd64", "Operating-System": "linux"},
		ComputeNodeInfo: &api.ComputeNodeInfo{
			ExecutionEngines: []string{"docker", "wasm"}, Publishers: []string{"local", "noop"},
			StorageSources:     []string{"inline", "urlDownload"},
			MaxCapacity:        api.Resources{CPU: 1.6, Memory: 20220821504, Disk: 202937204736},
			AvailableCapacity:  api.Resources{CPU: 1.1, Memory: 19146879488, Disk: 202937204736},
			MaxJobRequirements: api.Resources{CPU: 1.6, Memory: 20220821504, Disk: 202937204736},
			RunningExecutions:  1,
		},
		BacalhauVersion: api.BuildVersionInfo{GitVersion: "v0.1.0", GitCommit: "abc123", GOOS: "linux", GOARCH: "amd64"},
		Approval:        api.NodeApprovalApproved,
		Connection:      api.NodeConnected,
	}
}

func TestNodeList(t *testing.T) {
	replica := &api.NodeInfo{NodeID: "n-0a1b2c3d-0000-4000-8000-000000000000", NodeType: api.NodeTypeRequester, Connection: api.NodeConnected}
	f := newFakeAPI(t, map[string]http.HandlerFunc{
		"GET /api/v1/orchestrator/nodes": ok(mustJSON(t, api.ListNodesResponse{Nodes: []*api.NodeInfo{fixNode(), replica}})),
	})
	res := runCLI(t, f, "node", "list", "--no-style", "--labels", "Operating-System=linux", "--order-by", "available_memory",
		"--order-reversed", "--limit", "2", "--next-token", "t")
	want := `ID          TYPE       STATUS     LABELS                                     CPU        MEMORY             DISK                 GPU
n-3f2a1b4c  Compute    CONNECTED  Architecture=amd64 Operating-System=linux  1.1 / 1.6  17.8 GB / 18.8 GB  189.0 GB / 189.0 GB  0 / 0
n-0a1b2c3d  Requester  CONNECTED                                             -          -                  -                    -
`
	if res.code != 0 || res.stdout != want || res.stderr != "" {
		t.Errorf("exit %d stderr %q stdout:\n%s\nwant:\n%s", res.code, res.stderr, res.stdout, want)
	}
	wantQuery := url.Values{"labels": {"Operating-System=linux"}, "order_by": {"available_memory"}, "reverse": {"true"},
		"limit": {"2"}, "next_token": {"t"}}
	if q := f.requests()[0].Query; !reflect.DeepEqual(q, wantQuery) {
		t.Errorf("query %v, want %v", q, wantQuery)
	}
}

const nodeDescription = `ID                 = n-3f2a1b4c-0d1e-4f5a-8b6c-7d8e9f0a1b2c
Type               = Compute
Status             = CONNECTED
Approval           = APPROVED
Version            = v0.1.0 (abc123) linux/amd64
Addresses          = /ip4/10.0.0.5/tcp/6001
Labels             = Architecture=amd64 Operating-System=linux
Engines            = docker, wasm
Publishers         = local, noop
Input Sources      = inline, urlDownload
Running Executions = 1
Queued Executions  = 0

Capacity
              CPU  MEMORY   DISK      GPU
Total         1.6  18.8 GB  189.0 GB  0
Free          1.1  17.8 GB  189.0 GB  0
Most per job  1.6  18.8 GB  189.0 GB  0
`

func TestNodeDescribe(t *testing.T) {
	f := newFakeAPI(t, map[string]http.HandlerFunc{
		"GET /api/v1/orchestrator/nodes/n-3f2a": ok(mustJSON(t, api.GetNodeResponse{Node: fixNode()})),
	})
	res := runCLI(t, f, "node", "describe", "n-3f2a", "--no-style")
	if res.code != 0 || res.stdout != nodeDescription {
		t.Errorf("exit %d %s stdout:\n%s\nwant:\n%s", res.code, res.stderr, res.stdout, nodeDescription)
	}
	res = runCLI(t, f, "node", "describe", "n-3f2a", "--output", "yaml")
	if res.code != 0 || res.stdout[:6] != "Node:\n" {
		t.Errorf("yaml: %q", res.stdout)
	}
}
