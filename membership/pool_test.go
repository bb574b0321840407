package membership

import (
	"context"
	"net"
	"strconv"
	"testing"
	"time"
)

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func newTestPool(t *testing.T, id string, role Role, advertiseHost string, join ...string) *Pool {
	t.Helper()
	bind := freeAddr(t)
	adv := ""
	if advertiseHost != "" {
		_, port, _ := net.SplitHostPort(bind)
		adv = net.JoinHostPort(advertiseHost, port)
	}
	p, err := New(Config{NodeID: id, Role: role, BindAddr: bind, AdvertiseAddr: adv, APIAddr: "api-" + id, RaftAddr: "raft-" + id,
		Join: join, Profile: "local"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Shutdown() })
	return p
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestPoolsFindEachOther(t *testing.T) {
	a := newTestPool(t, "o1", RoleOrchestrator, "")
	aAddr := a.cfg.BindAddr
	// b advertises a host name: gossip needs an IP, so it is resolved.
	b := newTestPool(t, "c1", RoleCompute, "localhost", aAddr, "127.0.0.1:1") // one dead join target is fine
	changes, stop := a.Subscribe()
	defer stop()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := b.Join(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a to see c1", func() bool { _, ok := a.Member("c1"); return ok })
	select {
	case <-changes:
	case <-time.After(5 * time.Second):
		t.Fatal("no change signal after a join")
	}
	m, _ := a.Member("c1")
	if m.Role != RoleCompute || m.APIAddr != "api-c1" || m.RaftAddr != "raft-c1" || !m.IsAlive() {
		t.Fatalf("a sees %+v", m)
	}
	if got := a.Alive(RoleCompute); len(got) != 1 || got[0].ID != "c1" {
		t.Fatalf("alive compute members %+v", got)
	}
	if got := a.Alive(RoleOrchestrator); len(got) != 1 || got[0].ID != "o1" {
		t.Fatalf("alive orchestrators %+v (the pool lists itself)", got)
	}

	// A member that stops without a word is seen dead; one that leaves, left.
	before := time.Now()
	if err := b.Shutdown(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "c1 declared dead", func() bool { m, _ := a.Member("c1"); return !m.IsAlive() })
	m, _ = a.Member("c1")
	if m.Status != StatusDead || m.Since.Before(before) {
		t.Fatalf("after a crash a sees %+v", m)
	}

	c := newTestPool(t, "c2", RoleCompute, "", aAddr)
	if err := c.Join(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a to see c2", func() bool { m, ok := a.Member("c2"); return ok && m.IsAlive() })
	if err := c.Leave(time.Second); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "c2 left", func() bool { m, _ := a.Member("c2"); return m.Status == StatusLeft })
}

func TestJoinGivesUpWithContext(t *testing.T) {
	p := newTestPool(t, "lonely", RoleCompute, "", "127.0.0.1:"+strconv.Itoa(1))
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if err := p.Join(ctx); err == nil {
		t.Fatal("join of an unreachable member succeeded")
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
	}{
		{"no node ID", Config{BindAddr: "127.0.0.1:0"}},
		{"bad bind address", Config{NodeID: "x", BindAddr: "nowhere"}},
		{"unresolvable advertise host", Config{NodeID: "x", BindAddr: "127.0.0.1:0", AdvertiseAddr: "no-such-host.invalid:1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if p, err := New(tt.cfg); err == nil {
				_ = p.Shutdown()
				t.Fatal("accepted")
			}
		})
	}
}

// A member that outlives everyone it knew (a full cluster restart, long
// enough for gossip to forget them) finds them again at its join address.
func TestKeepJoinedRejoinsAfterEveryoneLeft(t *testing.T) {
	seedAddr := freeAddr(t)
	start := func() *Pool {
		p, err := New(Config{NodeID: "o1", Role: RoleOrchestrator, BindAddr: seedAddr, Profile: "local"})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	seed := start()
	c := newTestPool(t, "c1", RoleCompute, "", seedAddr)
	// Another compute node stays alive with c1 all along: seeing it is not
	// seeing the cluster.
	other := newTestPool(t, "c2", RoleCompute, "", c.cfg.BindAddr)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- c.KeepJoined(ctx) }()
	waitFor(t, "c1 to see o1", func() bool { m, ok := c.Member("o1"); return ok && m.IsAlive() })
	if err := other.Join(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "c1 to see c2", func() bool { m, ok := c.Member("c2"); return ok && m.IsAlive() })

	// The seed goes away and comes back as a new process: it knows nobody.
	if err := seed.Shutdown(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "c1 to see o1 dead", func() bool { m, _ := c.Member("o1"); return !m.IsAlive() })
	seed = start()
	defer seed.Shutdown()
	waitFor(t, "the restarted o1 to see c1 again", func() bool { m, ok := seed.Member("c1"); return ok && m.IsAlive() })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
