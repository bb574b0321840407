package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/shoal-io/shoal/api"
	"github.com/shoal-io/shoal/fsm"
)

// Read consistency levels a client may ask for with ?consistency= (or the
// X-Shoal-Consistency header).
const (
	consistencyDefault      = "default"
	consistencyLinearizable = "linearizable"
)

type readIndexResponse struct {
	Index uint64 `json:"Index"`
}

// readTxn opens the read view a request asked for: this replica's state as it
// is (default), or state that includes every write acknowledged before the
// request began (linearizable).
func (s *Server) readTxn(r *http.Request) (*fsm.ReadTxn, error) {
	level := r.URL.Query().Get("consistency")
	if level == "" {
		level = r.Header.Get("X-Shoal-Consistency")
	}
	switch level {
	case "", consistencyDefault, "stale":
		return s.fsm.State().Txn(), nil
	case consistencyLinearizable:
		if s.cfg.UnsafeStaleReads {
			return s.fsm.State().Txn(), nil
		}
		index, err := s.readIndex(r.Context())
		if err != nil {
			return nil, err
		}
		if err := s.fsm.State().WaitForIndex(r.Context(), index); err != nil {
			return nil, api.NewError(api.ErrUnavailable, api.CodeServiceUnavailable, api.ComponentRaft,
				"could not catch up with the leader's commit index %d: %v", index, err)
		}
		return s.fsm.State().Txn(), nil
	default:
		return nil, api.BadRequestf("invalid consistency %q: use default or linearizable", level)
	}
}

// readIndex returns an index such that state applied up to it reflects every
// write acknowledged before the call: the leader's applied index, read before
// the leader confirmed with a quorum that it still leads. On a follower the
// leader is asked for it.
func (s *Server) readIndex(ctx context.Context) (uint64, error) {
	deadline := time.Now().Add(s.cfg.LeaderWait)
	for attempt := 0; ; attempt++ {
		if s.isLeader() {
			index, err := s.leaderReadIndex()
			if err == nil {
				return index, nil
			}
			if time.Now().After(deadline) {
				return 0, err
			}
		} else if _, addr, ok := s.waitForLeader(ctx, deadline); ok && addr != s.cfg.AdvertiseAPIAddr {
			index, err := s.remoteReadIndex(ctx, addr)
			if err == nil {
				return index, nil
			}
			if time.Now().After(deadline) || ctx.Err() != nil {
				return 0, api.NewError(api.ErrNoLeader, api.CodeNoLeader, api.ComponentRaft, "no leader confirmed a read barrier: %v", err)
			}
		} else if !ok {
			return 0, noLeaderError(s, ctx)
		}
		s.sleep(ctx, backoff(attempt))
	}
}

func (s *Server) leaderReadIndex() (uint64, error) {
	if !s.leaderReady.Load() {
		return 0, api.NewError(api.ErrNoLeader, api.CodeNoLeader, api.ComponentRaft, "leader %s is still applying earlier entries", s.cfg.NodeID)
	}
	// Every acknowledged write is applied here by now (this leader applied
	// all earlier terms' entries before leaderReady, and applies its own
	// before answering them). Raft's commit index would also count no-op and
	// barrier entries that never reach the state store, so a follower could
	// wait for an index it never applies.
	index := s.fsm.State().Index()
	if err := s.raft.VerifyLeader().Error(); err != nil {
		return 0, api.NewError(api.ErrNoLeader, api.CodeNoLeader, api.ComponentRaft, "replica %s could not confirm leadership: %v", s.cfg.NodeID, err)
	}
	return index, nil
}

func (s *Server) remoteReadIndex(ctx context.Context, addr string) (uint64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.net.url(addr)+"/api/v1/internal/read-index", nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set(headerForwardedBy, s.cfg.NodeID)
	resp, err := s.peers.Do(req)
	if err != nil {
		return 0, fmt.Errorf("ask leader at %s for a read index: %w", addr, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("leader at %s answered %d to a read-index request", addr, resp.StatusCode)
	}
	var out readIndexResponse
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return 0, fmt.Errorf("decode read index: %w", err)
	}
	return out.Index, nil
}

func (s *Server) handleReadIndex(w http.ResponseWriter, r *http.Request) {
	if !s.isLeader() {
		s.writeError(w, r, notLeaderError(s))
		return
	}
	index, err := s.leaderReadIndex()
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, index, readIndexResponse{Index: index})
}
