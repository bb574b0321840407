package api

import "time"

// Node approval and connection values, as upstream's strings.
const (
	NodeApprovalApproved = "APPROVED"

	NodeConnected    = "CONNECTED"
	NodeDisconnected = "DISCONNECTED"
)

// NodeInfo describes a node of the cluster. Compute nodes register it through
// the API and keep its capacity current.
type NodeInfo struct {
	NodeID          string            `json:"NodeID"`
	PeerInfo        *PeerInfo         `json:"PeerInfo"`
	NodeType        NodeType          `json:"NodeType"`
	Labels          map[string]string `json:"Labels"`
	ComputeNodeInfo *ComputeNodeInfo  `json:"ComputeNodeInfo,omitempty"`
	BacalhauVersion BuildVersionInfo  `json:"BacalhauVersion"`
	Approval        string            `json:"Approval,omitempty"`
	// Connection is CONNECTED while the node is alive in the gossip pool and
	// DISCONNECTED once the leader has declared it lost.
	Connection string `json:"Connection,omitempty"`
}

// PeerInfo is how to reach a node. Addrs are multiaddr-style strings,
// "/ip4/10.0.0.5/tcp/6001" or "/dns4/host/tcp/6001", for the node's HTTP
// endpoint (results and logs on compute nodes, the API on orchestrators).
type PeerInfo struct {
	ID    string   `json:"ID"`
	Addrs []string `json:"Addrs"`
}

// ComputeNodeInfo is what a compute node can run and how much room it has.
type ComputeNodeInfo struct {
	ExecutionEngines   []string  `json:"ExecutionEngines"`
	Publishers         []string  `json:"Publishers"`
	StorageSources     []string  `json:"StorageSources"`
	MaxCapacity        Resources `json:"MaxCapacity"`
	AvailableCapacity  Resources `json:"AvailableCapacity"`
	MaxJobRequirements Resources `json:"MaxJobRequirements"`
	RunningExecutions  int       `json:"RunningExecutions"`
	EnqueuedExecutions int       `json:"EnqueuedExecutions"`
}

// Resources is an amount of compute: CPU in cores, memory and disk in bytes,
// GPU as a count.
type Resources struct {
	CPU    float64 `json:"CPU"`
	Memory uint64  `json:"Memory"`
	Disk   uint64  `json:"Disk"`
	GPU    uint64  `json:"GPU"`
}

// Add returns r + o.
func (r Resources) Add(o Resources) Resources {
	return Resources{CPU: r.CPU + o.CPU, Memory: r.Memory + o.Memory, Disk: r.Disk + o.Disk, GPU: r.GPU + o.GPU}
}

// Sub returns r − o, floored at zero.
func (r Resources) Sub(o Resources) Resources {
	sub := func(a, b uint64) uint64 {
		if b > a {
			return 0
		}
		return a - b
	}
	cpu := r.CPU - o.CPU
	if cpu < 0 {
		cpu = 0
	}
	return Resources{CPU: cpu, Memory: sub(r.Memory, o.Memory), Disk: sub(r.Disk, o.Disk), GPU: sub(r.GPU, o.GPU)}
}

// cpuEpsilon absorbs float rounding when comparing CPU sums such as 0.1+0.2.
const cpuEpsilon = 1e-9

// Fits reports whether r fits within capacity c, dimension by dimension.
func (r Resources) Fits(c Resources) bool {
	return r.CPU <= c.CPU+cpuEpsilon && r.Memory <= c.Memory && r.Disk <= c.Disk && r.GPU <= c.GPU
}

// IsZero reports whether no dimension is set.
func (r Resources) IsZero() bool { return r == Resources{} }

// BuildVersionInfo is the version of the binary a node runs.
type BuildVersionInfo struct {
	Major      string    `json:"Major"`
	Minor      string    `json:"Minor"`
	GitVersion string    `json:"GitVersion"`
	GitCommit  string    `json:"GitCommit"`
	BuildDate  time.Time `json:"BuildDate"`
	GOOS       string    `json:"GOOS"`
	GOARCH     string    `json:"GOARCH"`
}
