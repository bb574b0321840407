package membership

import (
	"encoding/json"
	"fmt"
	"time"
)

// Role is what a process does in the cluster.
type Role string

const (
	RoleOrchestrator Role = "orchestrator"
	RoleCompute      Role = "compute"
)

// Status is gossip's view of a member.
type Status string

const (
	StatusAlive   Status = "alive"
	StatusSuspect Status = "suspect"
	StatusDead    Status = "dead"
	StatusLeft    Status = "left"
)

// Member is one process in the pool.
type Member struct {
	ID         string
	Role       Role
	GossipAddr string
	// APIAddr is the host:port of the member's HTTP endpoint: the REST API on
	// replicas, results and logs on compute nodes.
	APIAddr string
	// RaftAddr is the host:port of a replica's Raft transport.
	RaftAddr string
	Status   Status
	// Since is when the member entered Status, as seen by this process.
	Since time.Time
}

// IsAlive reports whether gossip believes the member is up. Suspect members
// count as alive: suspicion is not yet a verdict.
func (m Member) IsAlive() bool { return m.Status == StatusAlive || m.Status == StatusSuspect }

// meta is what a member gossips about itself. Keys are short: memberlist
// caps node metadata at 512 bytes.
type meta struct {
	Role Role   `json:"r"`
	API  string `json:"a,omitempty"`
	Raft string `json:"f,omitempty"`
	// Leaving is gossiped just before a graceful leave: memberlist reports a
	// member that left exactly as one that died, so this is how the others
	// tell the two apart.
	Leaving bool `json:"l,omitempty"`
}

func encodeMeta(m meta) ([]byte, error) {
	b, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encode member meta: %w", err)
	}
	return b, nil
}

func decodeMeta(b []byte) (meta, error) {
	var m meta
	if len(b) == 0 {
		return m, nil
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("decode member meta: %w", err)
	}
	return m, nil
}
