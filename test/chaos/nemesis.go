package chaos

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/shoal-io/shoal/test/workload"
)

// Nemeses, by the names CHAOS_NEMESES takes.
const (
	NemIsolateLeader  = "isolate-leader"
	NemHalves         = "halves"
	NemBridge         = "bridge"
	NemIsolateCompute = "isolate-compute"
	NemPause          = "pause"
	NemKill           = "kill"
	NemNetem          = "netem"
	NemChurn          = "churn"
	NemHealWrite      = "heal-write"
)

// AllNemeses is the default CHAOS_NEMESES.
var AllNemeses = []string{NemIsolateLeader, NemHalves, NemBridge, NemIsolateCompute, NemPause, NemKill, NemNetem, NemChurn, NemHealWrite}

// Step is one entry of the schedule: a quiet spell, then a nemesis held for
// Hold and healed. Seed drives the nemesis's own choices (which half, which
// node), so a replay with the same seed makes the same choices wherever
// they do not depend on who leads.
type Step struct {
	Nemesis     string
	Quiet, Hold time.Duration
	Seed        uint64
}

// Schedule draws the steps of a run of length total from the seed.
func Schedule(seed uint64, names []string, total time.Duration) []Step {
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	var steps []Step
	for at := time.Duration(0); at < total; {
		s := Step{
			Nemesis: names[r.IntN(len(names))],
			Quiet:   time.Duration(3000+r.IntN(4000)) * time.Millisecond,
			Hold:    time.Duration(6000+r.IntN(8000)) * time.Millisecond,
			Seed:    r.Uint64(),
		}
		steps = append(steps, s)
		at += s.Quiet + s.Hold
	}
	return steps
}

// Window is a nemesis as it happened, for the report and the plot.
type Window struct {
	Nemesis string    `json:"nemesis"`
	Detail  string    `json:"detail"`
	Start   time.Time `json:"start"`
	End     time.Time `json:"end"`                  // heal began
	Healed  time.Time `json:"healed"`               // heal finished
	Leader  string    `json:"leader"`               // leader when it began
	Err     string    `json:"error,omitempty"`      // the nemesis could not be applied
	HealErr string    `json:"heal_error,omitempty"` // the heal did not complete
}

// nemesisEnv is what a nemesis may use besides the cluster.
type nemesisEnv struct {
	c      *Cluster
	client *workload.Client // records the #695 writes
	run    string
	mu     sync.Mutex
	n      int       // heal-write tokens issued
	at     time.Time // when the last applied fault took effect
}

// mark records that the fault just took effect.
func (e *nemesisEnv) mark() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.at = time.Now()
}

// faultAt returns when the last fault took effect, and forgets it.
func (e *nemesisEnv) faultAt() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	at := e.at
	e.at = time.Time{}
	return at
}

// apply starts a nemesis and returns how to heal it.
func (e *nemesisEnv) apply(ctx context.Context, name string, r *rand.Rand) (detail string, heal func(context.Context) error, err error) {
	c := e.c
	all := names(c.Nodes)
	replicas := names(c.Replicas())
	healNet := func(ctx context.Context) error { return e.healAllNetworks(ctx) }
	switch name {
	case NemIsolateLeader:
		l, err := c.WaitLeader(ctx, nil)
		if err != nil {
			return "", nil, err
		}
		return "cut " + l + " off from every node", healNet, c.Cut(ctx, []string{l}, without(all, l))

	case NemHalves:
		shuffled := slices.Clone(all)
		r.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		a, b := shuffled[:len(shuffled)/2], shuffled[len(shuffled)/2:]
		slices.Sort(a)
		slices.Sort(b)
		return fmt.Sprintf("%v | %v", a, b), healNet, c.Cut(ctx, a, b)

	case NemBridge:
		shuffled := slices.Clone(replicas)
		r.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		a, mid, b := shuffled[0], shuffled[1], shuffled[2]
		return fmt.Sprintf("%s - %s - %s (%s sees both)", a, mid, b, mid), healNet, c.Cut(ctx, []string{a}, []string{b})

	case NemIsolateCompute:
		computes := names(c.Computes())
		if len(computes) == 0 {
			return "", nil, fmt.Errorf("no compute node")
		}
		n := computes[r.IntN(len(computes))]
		return "cut " + n + " off from every node", healNet, c.Cut(ctx, []string{n}, without(all, n))

	case NemPause:
		n, err := e.pickReplica(ctx, r)
		if err != nil {
			return "", nil, err
		}
		if _, err := docker(ctx, "pause", c.Node(n).Container); err != nil {
			return "", nil, err
		}
		e.mark()
		return "paused " + n + " (cgroup freezer)", func(ctx context.Context) error {
			_, err := docker(ctx, "unpause", c.Node(n).Container)
			return err
		}, nil

	case NemKill:
		var n string
		if r.IntN(3) == 0 {
			computes := names(c.Computes())
			n = computes[r.IntN(len(computes))]
		} else if n, err = e.pickReplica(ctx, r); err != nil {
			return "", nil, err
		}
		if _, err := docker(ctx, "kill", "--signal", "KILL", c.Node(n).Container); err != nil {
			return "", nil, err
		}
		e.mark()
		if err := c.Refresh(ctx); err != nil {
			return "", nil, err
		}
		return "kill -9 " + n + ", restart at heal", func(ctx context.Context) error { return e.start(ctx, n) }, nil

	case NemNetem:
		shuffled := slices.Clone(all)
		r.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		targets := shuffled[:1+r.IntN(3)]
		slices.Sort(targets)
		delay, jitter, loss, rate := 50+r.IntN(200), 10+r.IntN(100), 1+r.IntN(15), 256<<r.IntN(3)
		spec := []string{"delay", fmt.Sprintf("%dms", delay), fmt.Sprintf("%dms", jitter), "loss", fmt.Sprintf("%d%%", loss)}
		detail := fmt.Sprintf("netem %s on %v", strings.Join(spec, " "), targets)
		for _, n := range targets {
			err := c.InNetns(ctx, n, append([]string{"tc", "qdisc", "replace", "dev", "eth0", "root", "netem"}, spec...)...)
			if err != nil && strings.Contains(err.Error(), "qdisc kind is unknown") {
				// A kernel without sch_netem (some VMs): slow the link with
				// a token bucket and lose packets with iptables instead.
				detail = fmt.Sprintf("no netem in this kernel: tbf rate %dkbit (queue up to %dms) + iptables random loss %d%% on %v", rate, delay, loss, targets)
				err = c.InNetns(ctx, n, "sh", "-c", fmt.Sprintf(
					"tc qdisc replace dev eth0 root tbf rate %dkbit burst 16kbit latency %dms && iptables -w -I INPUT -m statistic --mode random --probability %.2f -j DROP",
					rate, delay, float64(loss)/100))
			}
			if err != nil {
				return "", nil, err
			}
		}
		return detail, healNet, nil

	case NemChurn:
		return e.churn(ctx, r)

	case NemHealWrite:
		l, err := c.WaitLeader(ctx, nil)
		if err != nil {
			return "", nil, err
		}
		if err := c.Cut(ctx, []string{l}, without(replicas, l)); err != nil {
			return "", nil, err
		}
		return "cut leader " + l + " off from the replicas; at heal, write to it at once", func(ctx context.Context) error {
			if err := e.healAllNetworks(ctx); err != nil {
				return err
			}
			e.writeBurst(ctx, l, 6)
			return nil
		}, nil
	}
	return "", nil, fmt.Errorf("unknown nemesis %q (known: %s)", name, strings.Join(AllNemeses, ","))
}

// pickReplica picks the leader half the time, a random replica otherwise.
func (e *nemesisEnv) pickReplica(ctx context.Context, r *rand.Rand) (string, error) {
	replicas := names(e.c.Replicas())
	pick := replicas[r.IntN(len(replicas))]
	if r.IntN(2) == 0 {
		return e.c.WaitLeader(ctx, nil)
	}
	return pick, nil
}

// healAllNetworks heals the namespaces the nemeses changed.
func (e *nemesisEnv) healAllNetworks(ctx context.Context) error {
	for _, n := range e.c.Dirty() {
		if err := e.c.HealNetwork(ctx, n); err != nil {
			return fmt.Errorf("heal %s: %w", n, err)
		}
	}
	return nil
}

// start starts a stopped container and reads its new address.
func (e *nemesisEnv) start(ctx context.Context, n string) error {
	if _, err := docker(ctx, "start", e.c.Node(n).Container); err != nil {
		return err
	}
	return e.c.Refresh(ctx)
}

// writeBurst sends creates to one replica at once, concurrently: the #695
// shape, writes to a former minority leader the moment the partition heals.
func (e *nemesisEnv) writeBurst(ctx context.Context, target string, n int) {
	var wg sync.WaitGroup
	for range n {
		e.mu.Lock()
		e.n++
		token := workload.Token(e.run, e.client.ID, e.n)
		e.mu.Unlock()
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			defer cancel()
			only := func() []workload.Target { return []workload.Target{e.c.Target(target)} }
			e.client.CreateUntilDone(ctx, only, 0, token, registerJob(e.run, token))
		}()
	}
	wg.Wait()
}

// churn kills a replica, removes it from Raft through the operator API,
// wipes its data folder, and at heal starts it empty: it must join back as
// a new member and catch up from a snapshot.
func (e *nemesisEnv) churn(ctx context.Context, r *rand.Rand) (string, func(context.Context) error, error) {
	c := e.c
	n, err := e.pickReplica(ctx, r)
	if err != nil {
		return "", nil, err
	}
	node := c.Node(n)
	source, err := docker(ctx, "inspect", "--format", `{{range .Mounts}}{{if eq .Destination "`+node.DataDir+`"}}{{.Source}}{{end}}{{end}}`, node.Container)
	if err != nil {
		return "", nil, err
	}
	if source == "" {
		return "", nil, fmt.Errorf("%s keeps %s in its container, not in a volume: cannot wipe it", n, node.DataDir)
	}
	if _, err := docker(ctx, "kill", "--signal", "KILL", node.Container); err != nil {
		return "", nil, err
	}
	e.mark()
	if err := c.Refresh(ctx); err != nil {
		return "", nil, err
	}
	heal := func(ctx context.Context) error {
		if err := e.start(ctx, n); err != nil {
			return err
		}
		// Rejoining is part of the fault: wait (bounded) until it votes again.
		wctx, cancel := context.WithTimeout(ctx, 90*time.Second)
		defer cancel()
		for {
			if r, err := c.Raft(wctx, n); err == nil {
				voter := false
				for _, s := range r.Servers {
					voter = voter || (s.ID == n && s.Voter)
				}
				if voter {
					return nil
				}
			}
			select {
			case <-wctx.Done():
				return fmt.Errorf("wiped %s did not become a voter again within 90s", n)
			case <-time.After(500 * time.Millisecond):
			}
		}
	}
	others := without(names(c.Replicas()), n)
	if _, err := c.WaitLeader(ctx, others); err != nil {
		return "", heal, err
	}
	removed := false
	for attempt := 0; attempt < 20 && !removed; attempt++ {
		for _, o := range others {
			rctx, cancel := context.WithTimeout(ctx, 15*time.Second)
			req, err := http.NewRequestWithContext(rctx, http.MethodDelete, c.Target(o).URL+"/api/v1/operator/raft/peers/"+n, nil)
			if err == nil {
				if resp, err := http.DefaultClient.Do(req); err == nil {
					resp.Body.Close()
					removed = resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusNotFound
				}
			}
			cancel()
			if removed {
				break
			}
		}
		if !removed {
			time.Sleep(500 * time.Millisecond)
		}
	}
	if !removed {
		return "", heal, fmt.Errorf("could not remove %s from Raft", n)
	}
	entries, err := os.ReadDir(source)
	if err != nil {
		return "", heal, fmt.Errorf("wipe %s: %w", n, err)
	}
	for _, en := range entries {
		if err := os.RemoveAll(filepath.Join(source, en.Name())); err != nil {
			return "", heal, fmt.Errorf("wipe %s: %w", n, err)
		}
	}
	return "killed " + n + ", removed it from Raft, wiped " + node.DataDir + "; it rejoins empty at heal", heal, nil
}

func names(nodes []Node) []string {
	out := make([]string, len(nodes))
	for i, n := range nodes {
		out[i] = n.Name
	}
	return out
}

func without(s []string, x string) []string {
	return slices.DeleteFunc(slices.Clone(s), func(y string) bool { return y == x })
}
