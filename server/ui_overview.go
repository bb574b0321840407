package server

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/hashicorp/raft"
	"github.com/shoal-io/shoal/api"
	"github.com/shoal-io/shoal/fsm"
	"github.com/shoal-io/shoal/series"
)

// uiPeerTimeout bounds how long the overview waits for another replica: an
// unreachable one is shown as such rather than holding the page.
const uiPeerTimeout = 2 * time.Second

// uiChartSeconds is how many seconds the overview's charts cover.
const uiChartSeconds = 120

// digestMinInterval is the least time between two digests of the whole
// state on one replica; a digest reads every row, so a slow one (a large
// state) is spaced further apart, keeping its cost under 5% of a core.
const digestMinInterval = 2 * time.Second

// replicaStatus is one replica's own view, as GET /api/v1/ui/replica answers.
type replicaStatus struct {
	ID           string `json:"ID"`
	APIAddr      string `json:"APIAddr"`
	RaftAddr     string `json:"RaftAddr"`
	Voter        bool   `json:"Voter"`
	Gossip       string `json:"Gossip,omitempty"`
	Role         string `json:"Role"` // Leader, Follower, Candidate, Shutdown, or Unreachable
	Leader       string `json:"Leader"`
	Term         uint64 `json:"Term"`
	CommitIndex  uint64 `json:"CommitIndex"`
	AppliedIndex uint64 `json:"AppliedIndex"`
	LastLogIndex uint64 `json:"LastLogIndex"`
	// LastContactMs is how long ago a follower last heard from its leader;
	// nil on the leader and on a replica that never heard from one.
	LastContactMs *float64 `json:"LastContactMs"`
	DigestIndex   uint64   `json:"DigestIndex"`
	Digest        string   `json:"Digest"`
	// DigestAgrees is set by the overview: true when another replica has a
	// digest at the same index and every such digest is equal, false when
	// one differs, nil when no other replica is at that index to compare.
	DigestAgrees *bool       `json:"DigestAgrees"`
	Error        string      `json:"Error,omitempty"`
	Series       *series.Raw `json:"Series,omitempty"`
}

// uiOverview is GET /api/v1/ui/overview.
type uiOverview struct {
	ServedBy  string           `json:"ServedBy"`
	Leader    string           `json:"Leader"`
	Index     uint64           `json:"Index"`
	Replicas  []*replicaStatus `json:"Replicas"`
	JobCounts map[string]int   `json:"JobCounts"`
	Jobs      int              `json:"Jobs"`
	Charts    series.Chart     `json:"Charts"`
	Nodes     map[string]int   `json:"Nodes"`
}

func (s *Server) handleUIReplica(w http.ResponseWriter, r *http.Request) {
	st := s.localReplicaStatus()
	if r.URL.Query().Get("series") != "false" {
		raw := s.ui.live.Snapshot()
		st.Series = &raw
	}
	writeJSON(w, http.StatusOK, s.fsm.State().Index(), st)
}

// localReplicaStatus reads this replica's Raft stats and digest.
func (s *Server) localReplicaStatus() *replicaStatus {
	stats := s.raft.Stats()
	u := func(k string) uint64 { n, _ := strconv.ParseUint(stats[k], 10, 64); return n }
	_, leader := s.raft.LeaderWithID()
	st := &replicaStatus{
		ID: s.cfg.NodeID, APIAddr: s.cfg.AdvertiseAPIAddr, RaftAddr: s.cfg.RaftAddr,
		Role: s.raft.State().String(), Leader: string(leader),
		Term: u("term"), CommitIndex: u("commit_index"), AppliedIndex: u("applied_index"), LastLogIndex: u("last_log_index"),
	}
	if s.raft.State() != raft.Leader {
		if d, err := time.ParseDuration(stats["last_contact"]); err == nil {
			ms := d.Seconds() * 1000
			st.LastContactMs = &ms
		}
	}
	st.DigestIndex, st.Digest = s.ui.digest.get(s)
	return st
}

// digestCache keeps the last digest so that an open overview does not hash
// the whole state on every refresh.
type digestCache struct {
	mu     sync.Mutex
	index  uint64
	digest string
	at     time.Time
	took   time.Duration
}

func (c *digestCache) get(s *Server) (uint64, string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	idx := s.fsm.State().Index()
	if c.digest != "" && (idx == c.index || time.Since(c.at) < max(digestMinInterval, 20*c.took)) {
		return c.index, c.digest
	}
	start := time.Now()
	index, digest, err := s.fsm.State().Digest()
	if err != nil {
		s.logger.Warn("digest for the UI", "error", err)
		return c.index, c.digest
	}
	c.index, c.digest, c.at, c.took = index, digest, time.Now(), time.Since(start)
	return index, digest
}

// jobCountCache keeps job counts by state for one state index.
type jobCountCache struct {
	mu     sync.Mutex
	index  uint64
	at     time.Time
	counts map[string]int
	total  int
}

func (c *jobCountCache) get(s *Server) (map[string]int, int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	txn := s.fsm.State().Txn()
	if c.counts != nil && (txn.Index() == c.index || time.Since(c.at) < time.Second) {
		return c.counts, c.total, nil
	}
	jobs, _, err := txn.ListJobs(fsm.JobQuery{})
	if err != nil {
		return nil, 0, err
	}
	counts := map[string]int{}
	for _, name := range []api.JobStateType{api.JobStateTypePending, api.JobStateTypeRunning,
		api.JobStateTypeCompleted, api.JobStateTypeFailed, api.JobStateTypeStopped} {
		counts[name.String()] = 0
	}
	for _, j := range jobs {
		counts[j.State.StateType.String()]++
	}
	c.index, c.at, c.counts, c.total = txn.Index(), time.Now(), counts, len(jobs)
	return counts, len(jobs), nil
}

func (s *Server) handleUIOverview(w http.ResponseWriter, r *http.Request) {
	cfg, err := s.raftConfiguration()
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := &uiOverview{ServedBy: s.cfg.NodeID, Leader: cfg.Leader, Index: s.fsm.State().Index(),
		Replicas: make([]*replicaStatus, len(cfg.Servers))}
	var wg sync.WaitGroup
	for i, srv := range cfg.Servers {
		if srv.ID == s.cfg.NodeID {
			st := s.localReplicaStatus()
			raw := s.ui.live.Snapshot()
			st.Series = &raw
			out.Replicas[i] = st
		} else {
			wg.Go(func() { out.Replicas[i] = s.peerReplicaStatus(r, srv.ID) })
		}
	}
	wg.Wait()
	var raws []series.Raw
	for i, st := range out.Replicas {
		st.Voter, st.RaftAddr, st.Gossip = cfg.Servers[i].Voter, cfg.Servers[i].Address, cfg.Servers[i].Gossip
		if st.Series != nil {
			raws = append(raws, *st.Series)
			st.Series = nil
		}
	}
	compareDigests(out.Replicas)
	out.Charts = series.Merge(uiChartSeconds, raws...)
	out.JobCounts, out.Jobs, err = s.ui.counts.get(s)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	nodes, err := s.fsm.State().Txn().Nodes()
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out.Nodes = map[string]int{}
	for _, n := range nodes {
		out.Nodes[n.Connection]++
	}
	writeJSON(w, http.StatusOK, out.Index, out)
}

// peerReplicaStatus asks another replica for its status with the caller's
// credentials, or says why it could not.
func (s *Server) peerReplicaStatus(r *http.Request, id string) *replicaStatus {
	st := &replicaStatus{ID: id, Role: "Unreachable"}
	m, ok := s.pool.Member(id)
	if !ok || m.APIAddr == "" {
		st.Error = "no API address known from gossip"
		return st
	}
	st.APIAddr = m.APIAddr
	ctx, cancel := context.WithTimeout(r.Context(), uiPeerTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.net.url(m.APIAddr)+"/api/v1/ui/replica", nil)
	if err != nil {
		st.Error = err.Error()
		return st
	}
	if auth := r.Header.Get("Authorization"); auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := s.peers.Do(req)
	if err != nil {
		st.Error = err.Error()
		return st
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		st.Error = err.Error()
		return st
	}
	if resp.StatusCode != http.StatusOK {
		var e api.APIError
		if json.Unmarshal(data, &e) == nil && e.Message != "" {
			st.Error = fmt.Sprintf("%d %s: %s", resp.StatusCode, e.Code, e.Message)
		} else {
			st.Error = resp.Status
		}
		return st
	}
	var got replicaStatus
	if err := json.Unmarshal(data, &got); err != nil {
		st.Error = fmt.Sprintf("unreadable answer: %v", err)
		return st
	}
	return &got
}

// compareDigests sets DigestAgrees on every replica that shares its digest's
// index with at least one other.
func compareDigests(replicas []*replicaStatus) {
	for _, a := range replicas {
		if a.Digest == "" {
			continue
		}
		for _, b := range replicas {
			if a == b || b.Digest == "" || a.DigestIndex != b.DigestIndex {
				continue
			}
			agrees := a.Digest == b.Digest && (a.DigestAgrees == nil || *a.DigestAgrees)
			a.DigestAgrees = &agrees
		}
	}
}
