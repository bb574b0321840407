package server

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/hashicorp/raft"
	"github.com/shoal-io/shoal/api"
	"github.com/shoal-io/shoal/fsm"
)

// raftConfigTimeout bounds Raft configuration changes requested by an
// operator.
const raftConfigTimeout = 10 * time.Second

func (s *Server) handleRaftConfiguration(w http.ResponseWriter, r *http.Request) {
	resp, err := s.raftConfiguration()
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, resp.Index, resp)
}

func (s *Server) raftConfiguration() (*api.RaftConfigurationResponse, error) {
	future := s.raft.GetConfiguration()
	if err := future.Error(); err != nil {
		return nil, fmt.Errorf("read Raft configuration: %w", err)
	}
	_, leaderID := s.raft.LeaderWithID()
	resp := &api.RaftConfigurationResponse{Leader: string(leaderID), Index: s.fsm.State().Index(), Servers: []api.RaftServer{}}
	resp.Term, resp.State = s.termAndState()
	for _, srv := range future.Configuration().Servers {
		rs := api.RaftServer{
			ID:      string(srv.ID),
			Address: string(srv.Address),
			Voter:   srv.Suffrage == raft.Voter,
			Leader:  srv.ID == leaderID,
		}
		if m, ok := s.pool.Member(rs.ID); ok {
			rs.Gossip = string(m.Status)
		}
		resp.Servers = append(resp.Servers, rs)
	}
	return resp, nil
}

func (s *Server) handleDigest(w http.ResponseWriter, r *http.Request) {
	if _, err := s.readTxn(r); err != nil {
		s.writeError(w, r, err)
		return
	}
	index, digest, err := s.fsm.State().Digest()
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, index, &api.DigestResponse{Index: index, Digest: digest})
}

func (s *Server) removePeer(ctx context.Context, r *http.Request, _ []byte) (int, any, uint64, error) {
	id := chi.URLParam(r, "id")
	cfg, err := s.raftConfiguration()
	if err != nil {
		return 0, nil, 0, err
	}
	found := false
	for _, srv := range cfg.Servers {
		found = found || srv.ID == id
	}
	if !found {
		return 0, nil, 0, api.NotFoundf(api.ComponentRaft, "replica %s is not in the Raft configuration", id)
	}
	future := s.raft.RemoveServer(raft.ServerID(id), 0, raftConfigTimeout)
	if err := future.Error(); err != nil {
		return 0, nil, 0, mapRaftAdminError(err)
	}
	s.logger.Info("removed replica from Raft configuration", "replica", id)
	resp, err := s.raftConfiguration()
	if err != nil {
		return 0, nil, 0, err
	}
	return http.StatusOK, resp, future.Index(), nil
}

type transferRequest struct {
	ID string `json:"ID"`
}

func (s *Server) transferLeadership(ctx context.Context, r *http.Request, body []byte) (int, any, uint64, error) {
	var req transferRequest
	if err := decodeJSON(body, &req, true); err != nil {
		return 0, nil, 0, err
	}
	var future raft.Future
	if req.ID == "" {
		future = s.raft.LeadershipTransfer()
	} else {
		cfg, err := s.raftConfiguration()
		if err != nil {
			return 0, nil, 0, err
		}
		var target *api.RaftServer
		for i := range cfg.Servers {
			if cfg.Servers[i].ID == req.ID {
				target = &cfg.Servers[i]
			}
		}
		if target == nil {
			return 0, nil, 0, api.NotFoundf(api.ComponentRaft, "replica %s is not in the Raft configuration", req.ID)
		}
		if !target.Voter {
			return 0, nil, 0, api.BadRequestf("replica %s is not a voter and cannot lead", req.ID)
		}
		future = s.raft.LeadershipTransferToServer(raft.ServerID(target.ID), raft.ServerAddress(target.Address))
	}
	if err := future.Error(); err != nil {
		return 0, nil, 0, mapRaftAdminError(err)
	}
	resp, err := s.raftConfiguration()
	if err != nil {
		return 0, nil, 0, err
	}
	return http.StatusOK, resp, resp.Index, nil
}

func mapRaftAdminError(err error) error {
	if err == raft.ErrNotLeader || err == raft.ErrLeadershipLost {
		return fmt.Errorf("%w: %w", errNotLeader, err)
	}
	return api.NewError(api.ErrUnavailable, api.CodeServiceUnavailable, api.ComponentRaft, "%v", err)
}

// handleSnapshotSave streams a consistent backup of the whole replicated
// state: the state store as of one applied index, in the format Restore
// reads. Any replica can serve it; ?consistency=linearizable makes sure it
// holds every acknowledged write.
func (s *Server) handleSnapshotSave(w http.ResponseWriter, r *http.Request) {
	if _, err := s.readTxn(r); err != nil {
		s.writeError(w, r, err)
		return
	}
	snap, err := s.fsm.Snapshot()
	if err != nil {
		s.writeError(w, r, fmt.Errorf("snapshot state: %w", err))
		return
	}
	defer snap.Release()
	// Streamed, not buffered: at 100,000 jobs a snapshot is about 100 MB,
	// and a buffer of it (grown by doubling) left the replica a quarter of
	// a gigabyte larger after every backup. A failure halfway aborts the
	// connection, so the client sees a broken transfer, never a short file
	// that looks whole (and Restore refuses a snapshot without its end).
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", `attachment; filename="shoal.snap"`)
	w.Header().Set(headerIndex, fmt.Sprint(s.fsm.State().Index()))
	w.WriteHeader(http.StatusOK)
	if err := snap.Persist(&responseSink{Writer: w}); err != nil {
		s.logger.Warn("snapshot download failed", "error", err)
		panic(http.ErrAbortHandler)
	}
}

// restoreSnapshot replaces the whole replicated state with a backup, on the
// leader, through Raft, so every replica installs it.
func (s *Server) restoreSnapshot(ctx context.Context, r *http.Request, body []byte) (int, any, uint64, error) {
	if len(body) == 0 {
		return 0, nil, 0, api.BadRequestf("request body is empty: send a snapshot made by snapshot save")
	}
	if err := s.fsm.CheckSnapshot(bytes.NewReader(body)); err != nil {
		return 0, nil, 0, api.BadRequestf("not a Shoal snapshot: %v", err)
	}
	data, snapIndex, err := fsm.RebaseSnapshot(body, s.raft.LastIndex()+1)
	if err != nil {
		return 0, nil, 0, api.BadRequestf("not a Shoal snapshot: %v", err)
	}
	// Raft installs the snapshot just above max(its log, meta.Index); with
	// meta.Index at the snapshot's own index, the state index stays below
	// every later entry.
	meta := &raft.SnapshotMeta{Version: raft.SnapshotVersionMax, Index: snapIndex, Size: int64(len(data))}
	if err := s.raft.Restore(meta, bytes.NewReader(data), time.Minute); err != nil {
		return 0, nil, 0, mapRaftAdminError(err)
	}
	index := s.raft.AppliedIndex()
	s.logger.Info("restored state from a snapshot", "bytes", len(body), "index", index)
	resp, err := s.raftConfiguration()
	if err != nil {
		return 0, nil, 0, err
	}
	return http.StatusOK, resp, index, nil
}

// responseSink streams an FSM snapshot into an HTTP answer.
type responseSink struct {
	io.Writer
}

func (b *responseSink) ID() string    { return "api" }
func (b *responseSink) Cancel() error { return nil }
func (b *responseSink) Close() error  { return nil }

// termAndState reads this replica's term and role together: the term is
// read on both sides of the role, and a pair that straddles a term change
// is read again, so a Leader answer always names the term it leads.
func (s *Server) termAndState() (uint64, string) {
	for {
		term := s.raft.CurrentTerm()
		state := s.raft.State()
		if s.raft.CurrentTerm() == term {
			return term, state.String()
		}
	}
}
