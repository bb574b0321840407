package membership

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/memberlist"
)

// Config describes this process's place in the pool.
type Config struct {
	NodeID string
	Role   Role
	// BindAddr is the host:port gossip listens on (TCP and UDP).
	BindAddr string
	// AdvertiseAddr is the host:port others reach gossip at; defaults to
	// BindAddr (set it when binding 0.0.0.0 or behind NAT).
	AdvertiseAddr string
	APIAddr       string
	RaftAddr      string
	// Join lists gossip addresses of members to contact. Entries that are
	// this process's own address are skipped.
	Join []string
	// SecretKey, when set (16, 24 or 32 bytes), encrypts gossip.
	SecretKey []byte
	// Profile picks memberlist's timing: "lan" (default) or "local" (faster
	// failure detection, for loopback clusters and tests).
	Profile string
	// ProbeInterval and SuspicionMult, when non-zero, override the profile's
	// failure detection timing.
	ProbeInterval time.Duration
	SuspicionMult int
	Logger        *slog.Logger
}

// Pool is this process's membership in the gossip pool.
type Pool struct {
	cfg      Config
	list     *memberlist.Memberlist
	logger   *slog.Logger
	meta     meta
	delegate *delegate

	mu      sync.Mutex
	members map[string]Member
	subs    map[chan struct{}]struct{}
	// returned hears the gossip address of a replica that came back from
	// the dead: it may not know us yet.
	returned chan string
}

// ErrNoJoin is returned by Join when no listed member could be reached.
var ErrNoJoin = errors.New("no member could be joined")

// New starts gossip on cfg.BindAddr. Call Join to find the others.
func New(cfg Config) (*Pool, error) {
	if cfg.NodeID == "" {
		return nil, errors.New("membership: node ID is required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	p := &Pool{cfg: cfg, logger: cfg.Logger, members: map[string]Member{}, subs: map[chan struct{}]struct{}{},
		returned: make(chan string, 16)}

	mc := memberlist.DefaultLANConfig()
	if cfg.Profile == "local" {
		mc = memberlist.DefaultLocalConfig()
	}
	mc.Name = cfg.NodeID
	host, port, err := splitHostPort(cfg.BindAddr)
	if err != nil {
		return nil, fmt.Errorf("membership: gossip address: %w", err)
	}
	mc.BindAddr, mc.BindPort = host, port
	adv := cfg.AdvertiseAddr
	if adv == "" {
		adv = cfg.BindAddr
	}
	ahost, aport, err := splitHostPort(adv)
	if err != nil {
		return nil, fmt.Errorf("membership: gossip advertise address: %w", err)
	}
	if ahost != "" && ahost != "0.0.0.0" && ahost != "::" {
		// Memberlist wants an IP; containers advertise their host name.
		if net.ParseIP(ahost) == nil {
			ip, err := net.ResolveIPAddr("ip", ahost)
			if err != nil {
				return nil, fmt.Errorf("membership: resolve gossip advertise address %q: %w", adv, err)
			}
			ahost = ip.IP.String()
		}
		mc.AdvertiseAddr, mc.AdvertisePort = ahost, aport
	}
	if cfg.ProbeInterval > 0 {
		mc.ProbeInterval = cfg.ProbeInterval
	}
	if cfg.SuspicionMult > 0 {
		mc.SuspicionMult = cfg.SuspicionMult
	}
	if len(cfg.SecretKey) > 0 {
		mc.SecretKey = cfg.SecretKey
	}
	p.meta = meta{Role: cfg.Role, API: cfg.APIAddr, Raft: cfg.RaftAddr}
	md, err := encodeMeta(p.meta)
	if err != nil {
		return nil, err
	}
	p.delegate = &delegate{meta: md}
	mc.Delegate = p.delegate
	mc.Events = &events{pool: p}
	mc.Logger = log.New(&logWriter{logger: cfg.Logger}, "", 0)

	list, err := memberlist.Create(mc)
	if err != nil {
		return nil, fmt.Errorf("membership: start gossip on %s: %w", cfg.BindAddr, err)
	}
	p.list = list
	return p, nil
}

// Join contacts the configured members until at least one answers or ctx
// ends. With no other member configured it returns at once: this process
// starts a pool of its own.
func (p *Pool) Join(ctx context.Context) error {
	targets := p.joinTargets()
	if len(targets) == 0 {
		return nil
	}
	backoff := 200 * time.Millisecond
	for {
		n, err := p.list.Join(targets)
		if n > 0 {
			p.logger.Info("joined gossip pool", "contacted", n)
			return nil
		}
		p.logger.Debug("gossip join failed, retrying", "targets", targets, "error", err)
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (%v): %w", ErrNoJoin, targets, ctx.Err())
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 2*time.Second)
	}
}

// rejoinInterval is how often a member that lost everyone it knew tries
// its --join addresses again.
const rejoinInterval = 2 * time.Second

// KeepJoined joins (as Join does), then keeps watching until ctx ends:
// whenever no other orchestrator replica is alive — every replica was down
// long enough for gossip to forget them, or a partition healed after they
// forgot us — it contacts the --join addresses again, as Consul's and
// Nomad's retry_join do. Without it the compute nodes that outlive a full
// cluster restart (and still see each other) would never find it again.
func (p *Pool) KeepJoined(ctx context.Context) error {
	if err := p.Join(ctx); err != nil {
		return err
	}
	targets := p.joinTargets()
	if len(targets) == 0 {
		return nil
	}
	tick := time.NewTicker(rejoinInterval)
	defer tick.Stop()
	lonely := false
	for {
		select {
		case <-ctx.Done():
			return nil
		case addr := <-p.returned:
			// A replica restarted and refuted its death: gossip told us,
			// but it may not have heard of us. Swap full state with it.
			if n, err := p.list.Join([]string{addr}); n == 0 {
				p.logger.Debug("could not greet a returning replica", "addr", addr, "error", err)
			}
			continue
		case <-tick.C:
		}
		alive := p.orchestratorsAlive()
		if alive && !lonely {
			continue
		}
		// While alone, knock on the join addresses. Once a replica answers
		// again, one more join swaps full state with it: gossip alone may
		// tell us it is back long before it hears of us.
		n, err := p.list.Join(targets)
		switch {
		case n > 0 && alive:
			lonely = false
			p.logger.Info("rejoined gossip pool", "contacted", n)
		case n > 0:
			lonely = true
		default:
			lonely = true
			p.logger.Debug("no replica alive; rejoin failed, retrying", "targets", targets, "error", err)
		}
	}
}

func (p *Pool) orchestratorsAlive() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for id, m := range p.members {
		if id != p.cfg.NodeID && m.Role == RoleOrchestrator && m.IsAlive() {
			return true
		}
	}
	return false
}

func (p *Pool) joinTargets() []string {
	self := map[string]bool{p.cfg.BindAddr: true}
	if p.cfg.AdvertiseAddr != "" {
		self[p.cfg.AdvertiseAddr] = true
	}
	local := p.list.LocalNode()
	self[net.JoinHostPort(local.Addr.String(), strconv.Itoa(int(local.Port)))] = true
	var out []string
	for _, a := range p.cfg.Join {
		if a != "" && !self[a] {
			out = append(out, a)
		}
	}
	return out
}

// Members returns every member this process has seen, alive or not, sorted
// by ID. Members that left or died stay listed (with their Status) so
// callers can tell how long they have been gone.
func (p *Pool) Members() []Member {
	p.mu.Lock()
	out := make([]Member, 0, len(p.members))
	for _, m := range p.members {
		out = append(out, m)
	}
	p.mu.Unlock()
	slices.SortFunc(out, func(a, b Member) int {
		switch {
		case a.ID < b.ID:
			return -1
		case a.ID > b.ID:
			return 1
		}
		return 0
	})
	return out
}

// Member returns one member by ID.
func (p *Pool) Member(id string) (Member, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	m, ok := p.members[id]
	return m, ok
}

// Alive returns the live members with the given role.
func (p *Pool) Alive(role Role) []Member {
	var out []Member
	for _, m := range p.Members() {
		if m.Role == role && m.IsAlive() {
			out = append(out, m)
		}
	}
	return out
}

// Subscribe returns a channel that receives a signal after membership
// changes (several changes may share one signal), and a function that ends
// the subscription.
func (p *Pool) Subscribe() (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	p.mu.Lock()
	p.subs[ch] = struct{}{}
	p.mu.Unlock()
	return ch, func() {
		p.mu.Lock()
		delete(p.subs, ch)
		p.mu.Unlock()
	}
}

// Forget drops a member that is gone from this process's view, for members
// removed on purpose (a replica removed from Raft).
func (p *Pool) Forget(id string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if m, ok := p.members[id]; ok && !m.IsAlive() {
		delete(p.members, id)
	}
}

// Leave tells the pool this process is going away, so others do not wait
// for failure detection and know it left on purpose.
func (p *Pool) Leave(timeout time.Duration) error {
	leaving := p.meta
	leaving.Leaving = true
	if md, err := encodeMeta(leaving); err == nil {
		p.delegate.set(md)
		if err := p.list.UpdateNode(timeout); err != nil {
			p.logger.Debug("could not announce leaving", "error", err)
		}
	}
	if err := p.list.Leave(timeout); err != nil {
		return fmt.Errorf("membership: leave: %w", err)
	}
	return nil
}

// Shutdown stops gossip without telling anyone: others detect the failure.
func (p *Pool) Shutdown() error {
	if err := p.list.Shutdown(); err != nil {
		return fmt.Errorf("membership: shutdown: %w", err)
	}
	return nil
}

func (p *Pool) observe(n *memberlist.Node, status Status) {
	md, err := decodeMeta(n.Meta)
	if err != nil {
		p.logger.Warn("ignoring member with unreadable metadata", "member", n.Name, "error", err)
		return
	}
	m := Member{
		ID:         n.Name,
		Role:       md.Role,
		GossipAddr: net.JoinHostPort(n.Addr.String(), strconv.Itoa(int(n.Port))),
		APIAddr:    md.API,
		RaftAddr:   md.Raft,
		Status:     status,
		Since:      time.Now(),
	}
	p.mu.Lock()
	old, known := p.members[m.ID]
	if known && old.Status == status {
		m.Since = old.Since
	}
	if known && !old.IsAlive() && m.IsAlive() && m.Role == RoleOrchestrator && m.ID != p.cfg.NodeID {
		select {
		case p.returned <- m.GossipAddr:
		default:
		}
	}
	p.members[m.ID] = m
	for ch := range p.subs {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
	p.mu.Unlock()
	p.logger.Debug("member changed", "member", m.ID, "role", m.Role, "status", status)
}

type events struct{ pool *Pool }

func (e *events) NotifyJoin(n *memberlist.Node)   { e.pool.observe(n, StatusAlive) }
func (e *events) NotifyUpdate(n *memberlist.Node) { e.pool.observe(n, StatusAlive) }
func (e *events) NotifyLeave(n *memberlist.Node) {
	status := StatusDead
	if md, err := decodeMeta(n.Meta); err == nil && md.Leaving {
		status = StatusLeft
	}
	e.pool.observe(n, status)
}

type delegate struct {
	mu   sync.Mutex
	meta []byte
}

func (d *delegate) set(md []byte) {
	d.mu.Lock()
	d.meta = md
	d.mu.Unlock()
}

func (d *delegate) NodeMeta(limit int) []byte {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.meta) > limit {
		return nil
	}
	return d.meta
}
func (d *delegate) NotifyMsg([]byte)                           {}
func (d *delegate) GetBroadcasts(overhead, limit int) [][]byte { return nil }
func (d *delegate) LocalState(join bool) []byte                { return nil }
func (d *delegate) MergeRemoteState(buf []byte, join bool)     {}

func splitHostPort(addr string) (string, int, error) {
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, err
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return "", 0, fmt.Errorf("port %q: %w", portStr, err)
	}
	return host, port, nil
}

// logWriter turns memberlist's log lines ("[DEBUG] memberlist: …") into
// structured logs at the matching level.
type logWriter struct{ logger *slog.Logger }

var _ io.Writer = (*logWriter)(nil)

func (w *logWriter) Write(b []byte) (int, error) {
	line := string(b)
	level := slog.LevelDebug
	for prefix, l := range map[string]slog.Level{"[ERR]": slog.LevelError, "[ERROR]": slog.LevelError, "[WARN]": slog.LevelWarn, "[INFO]": slog.LevelInfo} {
		if rest, ok := strings.CutPrefix(line, prefix); ok {
			level, line = l, rest
			break
		}
	}
	// Memberlist's INFO lines are routine (joins, probes); keep them at debug.
	if level == slog.LevelInfo {
		level = slog.LevelDebug
	}
	w.logger.Log(context.Background(), level, strings.TrimSpace(line), "component", "gossip")
	return len(b), nil
}
