// Command bareraftd is the benchmarks' second ceiling: one hashicorp/raft
// node (raft-boltdb/v2, a no-op state machine) behind a minimal HTTP
// endpoint that applies the request body as one entry. Three of them, with
// followers forwarding to the leader over keep-alive HTTP and answering once
// they have applied the entry themselves (as Shoal's replicas do), show what
// separate processes and HTTP cost on these cores, apart from what Shoal
// adds on top.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
)

// appliedFSM applies nothing but remembers the last applied index, so a
// follower can wait for the entry it forwarded.
type appliedFSM struct {
	mu      sync.Mutex
	index   uint64
	changed chan struct{}
}

func (f *appliedFSM) Apply(l *raft.Log) any {
	f.mu.Lock()
	f.index = l.Index
	close(f.changed)
	f.changed = make(chan struct{})
	f.mu.Unlock()
	return nil
}

func (f *appliedFSM) wait(ctx context.Context, index uint64) error {
	for {
		f.mu.Lock()
		done, ch := f.index >= index, f.changed
		f.mu.Unlock()
		if done {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (*appliedFSM) Snapshot() (raft.FSMSnapshot, error) { return snap{}, nil }
func (*appliedFSM) Restore(rc io.ReadCloser) error      { return rc.Close() }

type snap struct{}

func (snap) Persist(s raft.SnapshotSink) error { return s.Close() }
func (snap) Release()                          {}

type node struct {
	raft  *raft.Raft
	fsm   *appliedFSM
	http  map[raft.ServerAddress]string // Raft address → HTTP address
	peers *http.Client
}

func (n *node) serveHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if n.raft.State() == raft.Leader {
		f := n.raft.Apply(body, 5*time.Second)
		if err := f.Error(); err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("X-Index", strconv.FormatUint(f.Index(), 10))
		return
	}
	leader, _ := n.raft.LeaderWithID()
	addr, ok := n.http[leader]
	if !ok {
		http.Error(w, "no leader", http.StatusServiceUnavailable)
		return
	}
	req, err := http.NewRequestWithContext(r.Context(), http.MethodPut, "http://"+addr+"/", bytes.NewReader(body))
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	resp, err := n.peers.Do(req)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		http.Error(w, "leader answered "+resp.Status, resp.StatusCode)
		return
	}
	index, _ := strconv.ParseUint(resp.Header.Get("X-Index"), 10, 64)
	if err := n.fsm.wait(r.Context(), index); err != nil {
		http.Error(w, err.Error(), http.StatusGatewayTimeout)
		return
	}
	w.Header().Set("X-Index", strconv.FormatUint(index, 10))
}

func main() {
	id := flag.String("id", "", "this node's ID")
	dir := flag.String("dir", "", "data folder")
	peerList := flag.String("peers", "", "comma-separated id=raftaddr=httpaddr for every node, this one included")
	bootstrap := flag.Bool("bootstrap", false, "bootstrap the cluster from --peers")
	flag.Parse()
	if err := run(*id, *dir, *peerList, *bootstrap); err != nil {
		log.Fatal(err)
	}
}

func run(id, dir, peerList string, bootstrap bool) error {
	n := &node{fsm: &appliedFSM{changed: make(chan struct{})}, http: map[raft.ServerAddress]string{},
		peers: &http.Client{Transport: &http.Transport{MaxIdleConns: 512, MaxIdleConnsPerHost: 256}}}
	var servers []raft.Server
	var raftAddr, httpAddr string
	for _, p := range strings.Split(peerList, ",") {
		parts := strings.Split(p, "=")
		if len(parts) != 3 {
			return fmt.Errorf("bad peer %q: want id=raftaddr=httpaddr", p)
		}
		servers = append(servers, raft.Server{ID: raft.ServerID(parts[0]), Address: raft.ServerAddress(parts[1])})
		n.http[raft.ServerAddress(parts[1])] = parts[2]
		if parts[0] == id {
			raftAddr, httpAddr = parts[1], parts[2]
		}
	}
	if raftAddr == "" {
		return fmt.Errorf("node %q is not in --peers", id)
	}
	tcpAddr, err := net.ResolveTCPAddr("tcp", raftAddr)
	if err != nil {
		return err
	}
	trans, err := raft.NewTCPTransport(raftAddr, tcpAddr, 5, 10*time.Second, io.Discard)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return err
	}
	store, err := raftboltdb.New(raftboltdb.Options{Path: filepath.Join(dir, "raft.db")})
	if err != nil {
		return err
	}
	cfg := raft.DefaultConfig()
	cfg.LocalID = raft.ServerID(id)
	cfg.Logger = hclog.NewNullLogger()
	cfg.SnapshotThreshold = 1 << 40
	n.raft, err = raft.NewRaft(cfg, n.fsm, store, store, raft.NewInmemSnapshotStore(), trans)
	if err != nil {
		return err
	}
	if bootstrap {
		if err := n.raft.BootstrapCluster(raft.Configuration{Servers: servers}).Error(); err != nil {
			return err
		}
	}
	srv := &http.Server{Addr: httpAddr, Handler: http.HandlerFunc(n.serveHTTP), ReadHeaderTimeout: 5 * time.Second}
	go func() {
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, syscall.SIGTERM, os.Interrupt)
		<-sig
		_ = srv.Close()
	}()
	err = srv.ListenAndServe()
	_ = n.raft.Shutdown().Error()
	_ = store.Close()
	if err == http.ErrServerClosed {
		return nil
	}
	return err
}
