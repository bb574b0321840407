package compute

import (
	"errors"
	"reflect"
	"runtime"
	"testing"

	"github.com/shoal-io/shoal/api"
	"github.com/shoal-io/shoal/peerid"
)

func TestPeerAddrs(t *testing.T) {
	tests := []struct {
		url     string
		want    []string
		wantErr bool
	}{
		{url: "http://10.0.0.5:4234", want: []string{"/ip4/10.0.0.5/tcp/4234"}},
		{url: "http://compute-1.example:6001/", want: []string{"/dns4/compute-1.example/tcp/6001"}},
		{url: "http://[::1]:80", want: []string{"/ip6/::1/tcp/80"}},
		{url: "https://host", want: []string{"/dns4/host/tcp/443"}},
		{url: "http://host", want: []string{"/dns4/host/tcp/80"}},
		{url: "", want: []string{}},
		{url: "10.0.0.5:4234", wantErr: true},
		{url: "ftp://host:21", wantErr: true},
	}
	for _, tt := range tests {
		got, err := peerAddrs(tt.url)
		if tt.wantErr {
			if !errors.Is(err, api.ErrBadRequest) {
				t.Errorf("peerAddrs(%q) error = %v, want ErrBadRequest", tt.url, err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("peerAddrs(%q) = %v, %v; want %v", tt.url, got, err, tt.want)
		}
	}
}

func TestNodeInfo(t *testing.T) {
	orch := newFakeOrchestrator()
	dataDir := t.TempDir()
	n, err := New(Config{
		NodeID: "n1", DataDir: dataDir, Orchestrator: orch, Engines: []string{"noop", "WASM"},
		Labels:             map[string]string{"region": "eu", LabelArch: "custom"},
		Capacity:           api.Resources{CPU: 3, Memory: 1 << 30},
		MaxJobRequirements: api.Resources{CPU: 1},
		AdvertiseURL:       "http://10.0.0.5:4234/",
		Version:            api.BuildVersionInfo{GitVersion: "v0.1.0"},
	})
	if err != nil {
		t.Fatal(err)
	}
	info := n.Info()
	if info.NodeID != "n1" || info.NodeType != api.NodeTypeCompute || info.BacalhauVersion.GitVersion != "v0.1.0" {
		t.Errorf("identity: %+v", info)
	}
	// The peer ID comes from the key New keeps in the data folder.
	peerID, err := peerid.LoadOrCreate(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(info.PeerInfo, &api.PeerInfo{ID: peerID, Addrs: []string{"/ip4/10.0.0.5/tcp/4234"}}) || !peerid.Valid(peerID) {
		t.Errorf("peer info: %+v, want peer ID %s", info.PeerInfo, peerID)
	}
	wantLabels := map[string]string{"region": "eu", LabelOS: runtime.GOOS, LabelArch: "custom"}
	if !reflect.DeepEqual(info.Labels, wantLabels) {
		t.Errorf("labels = %v, want %v", info.Labels, wantLabels)
	}
	c := info.ComputeNodeInfo
	if !reflect.DeepEqual(c.ExecutionEngines, []string{"wasm", "noop"}) ||
		!reflect.DeepEqual(c.Publishers, []string{"noop", "local"}) ||
		!reflect.DeepEqual(c.StorageSources, []string{"inline", "urlDownload", "localDirectory"}) {
		t.Errorf("compute info: %+v", c)
	}
	if c.MaxCapacity.CPU != 3 || c.MaxCapacity.Memory != 1<<30 || c.MaxCapacity.Disk == 0 {
		t.Errorf("max capacity = %+v", c.MaxCapacity)
	}
	if c.AvailableCapacity != c.MaxCapacity {
		t.Errorf("available %+v != max %+v at registration", c.AvailableCapacity, c.MaxCapacity)
	}
	wantMaxJob := c.MaxCapacity
	wantMaxJob.CPU = 1
	if c.MaxJobRequirements != wantMaxJob {
		t.Errorf("max job requirements = %+v, want %+v", c.MaxJobRequirements, wantMaxJob)
	}
	// Info hands out copies.
	info.Labels["region"] = "us"
	info.ComputeNodeInfo.ExecutionEngines[0] = "docker"
	info.PeerInfo.Addrs[0] = "x"
	again := n.Info()
	if again.Labels["region"] != "eu" || again.ComputeNodeInfo.ExecutionEngines[0] != "wasm" || again.PeerInfo.Addrs[0] == "x" {
		t.Errorf("Info shares state with the node: %+v", again)
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	orch := newFakeOrchestrator()
	dir := t.TempDir()
	tests := []struct {
		name string
		cfg  Config
	}{
		{name: "no node ID", cfg: Config{DataDir: dir, Orchestrator: orch}},
		{name: "node ID with a slash", cfg: Config{NodeID: "a/b", DataDir: dir, Orchestrator: orch}},
		{name: "no data dir", cfg: Config{NodeID: "n1", Orchestrator: orch}},
		{name: "no orchestrator", cfg: Config{NodeID: "n1", DataDir: dir}},
		{name: "unknown engine", cfg: Config{NodeID: "n1", DataDir: dir, Orchestrator: orch, Engines: []string{"qemu"}}},
		{name: "bad advertise URL", cfg: Config{NodeID: "n1", DataDir: dir, Orchestrator: orch, Engines: []string{"noop"}, AdvertiseURL: "::"}},
		{name: "relative allowed path", cfg: Config{NodeID: "n1", DataDir: dir, Orchestrator: orch, Engines: []string{"noop"}, AllowedLocalPaths: []string{"data"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := New(tt.cfg); !errors.Is(err, api.ErrBadRequest) {
				t.Fatalf("New error = %v, want ErrBadRequest", err)
			}
		})
	}
}
