package bench

import (
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
	wal "github.com/hashicorp/raft-wal"
	walmetrics "github.com/hashicorp/raft-wal/metrics"
)

// bareRaft is the ceiling the create benchmark compares against: three
// hashicorp/raft nodes in one process with the same log store Shoal uses
// (raft-boltdb/v2), TCP transports on loopback, default timings, and a state
// machine that does nothing.
type bareRaft struct {
	nodes  []*raft.Raft
	stores []io.Closer
	trans  []*raft.NetworkTransport
}

type noopFSM struct{}

func (noopFSM) Apply(*raft.Log) any                 { return nil }
func (noopFSM) Snapshot() (raft.FSMSnapshot, error) { return noopSnapshot{}, nil }
func (noopFSM) Restore(rc io.ReadCloser) error      { return rc.Close() }

type noopSnapshot struct{}

func (noopSnapshot) Persist(s raft.SnapshotSink) error { return s.Close() }
func (noopSnapshot) Release()                          {}

// startBareRaft starts the ceiling with its log in raft-boltdb, or with
// useWAL in raft-wal (the stable store stays raft-boltdb, as in Shoal).
func startBareRaft(b *testing.B, useWAL bool) *bareRaft {
	b.Helper()
	dir := b.TempDir()
	br := &bareRaft{}
	var servers []raft.Server
	for i := range 3 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		tcpAddr, _ := net.ResolveTCPAddr("tcp", addr)
		t, err := raft.NewTCPTransport(addr, tcpAddr, 5, 10*time.Second, io.Discard)
		if err != nil {
			b.Fatal(err)
		}
		br.trans = append(br.trans, t)
		servers = append(servers, raft.Server{ID: raft.ServerID(fmt.Sprint("b", i)), Address: t.LocalAddr()})
	}
	for i := range 3 {
		store, err := raftboltdb.New(raftboltdb.Options{Path: filepath.Join(dir, fmt.Sprint("b", i, ".db"))})
		if err != nil {
			b.Fatal(err)
		}
		br.stores = append(br.stores, store)
		var logs raft.LogStore = store
		if useWAL {
			walDir := filepath.Join(dir, fmt.Sprint("wal", i))
			if err := os.MkdirAll(walDir, 0o750); err != nil {
				b.Fatal(err)
			}
			w, err := wal.Open(walDir, wal.WithMetricsCollector(&walmetrics.NoOpCollector{}))
			if err != nil {
				b.Fatal(err)
			}
			br.stores = append(br.stores, w)
			logs = w
		}
		cfg := raft.DefaultConfig()
		cfg.LocalID = servers[i].ID
		cfg.Logger = hclog.NewNullLogger()
		cfg.SnapshotThreshold = 1 << 40
		snaps := raft.NewInmemSnapshotStore()
		r, err := raft.NewRaft(cfg, noopFSM{}, logs, store, snaps, br.trans[i])
		if err != nil {
			b.Fatal(err)
		}
		if err := r.BootstrapCluster(raft.Configuration{Servers: servers}).Error(); err != nil {
			b.Fatal(err)
		}
		br.nodes = append(br.nodes, r)
	}
	b.Cleanup(br.close)
	return br
}

func (br *bareRaft) leader(b *testing.B) *raft.Raft {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		for _, r := range br.nodes {
			if r.State() == raft.Leader {
				return r
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	b.Fatal("bare raft elected no leader")
	return nil
}

func (br *bareRaft) close() {
	for _, r := range br.nodes {
		_ = r.Shutdown().Error()
	}
	for _, t := range br.trans {
		_ = t.Close()
	}
	for _, s := range br.stores {
		_ = s.Close()
	}
}
