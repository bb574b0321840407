package scheduler

import (
	"container/heap"
	"hash/fnv"

	"github.com/shoal-io/shoal/api"
)

// Ranking weights. A node where the job never failed beats everything else,
// spreading a job's executions beats a favoured label, a favoured label
// beats free capacity.
const (
	weightNeverFailed = 30.0
	weightSpread      = 25.0 // subtracted per active execution of the job on the node
	weightSoftMatch   = 10.0
	weightFreeShare   = 20.0
	minCandidates     = 8
)

// nodeOrder visits each of n nodes once, in an order derived from a seed:
// a start and a stride coprime with n. It costs nothing to set up, unlike a
// shuffle of thousands of nodes.
type nodeOrder struct {
	n, next, stride, visited int
}

func newNodeOrder(n int, seed uint64) nodeOrder {
	o := nodeOrder{n: n, stride: 1}
	if n <= 1 {
		return o
	}
	o.next = int(seed % uint64(n))
	o.stride = 1 + int((seed>>32)%uint64(n-1))
	for gcd(o.stride, n) != 1 {
		o.stride++
	}
	return o
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

func (o *nodeOrder) done() bool { return o.visited >= o.n }

// position returns the next node index and its visit rank.
func (o *nodeOrder) position() (index, rank int) {
	index, rank = o.next, o.visited
	o.visited++
	o.next = (o.next + o.stride) % o.n
	return index, rank
}

func seedOf(evalID string) uint64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(evalID))
	return h.Sum64()
}

type candidate struct {
	node  *nodeEntry
	rank  int // visit rank: the deterministic tie-break
	soft  int
	score float64
}

// candidateHeap keeps the best candidate on top: highest score, then
// lowest visit rank. A placement changes only the score of the node it
// lands on, so the pool is re-ordered with one heap fix instead of being
// re-scored whole: a job of Count 1,000 among thousands of candidates costs
// a thousand logarithmic steps, not a million scores.
type candidateHeap []candidate

func (h candidateHeap) Len() int { return len(h) }
func (h candidateHeap) Less(i, j int) bool {
	if h[i].score != h[j].score {
		return h[i].score > h[j].score
	}
	return h[i].rank < h[j].rank
}
func (h candidateHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *candidateHeap) Push(x any)   { *h = append(*h, x.(candidate)) }
func (h *candidateHeap) Pop() any {
	old := *h
	last := old[len(old)-1]
	*h = old[:len(old)-1]
	return last
}

// placer picks nodes for a job's new executions. It visits nodes in the
// evaluation's order and keeps only a bounded number of feasible candidates
// (as Nomad's limit iterator), so a placement costs the same with 50 or 5,000
// nodes; it visits more only when the candidates run out of room.
type placer struct {
	c     *evalContext
	req   *requirements
	cap   *capacity
	order nodeOrder
	limit int
	// cands holds feasible nodes that still have room for one more
	// execution, best first.
	cands candidateHeap
	// favoured counts candidates meeting every favour_ constraint.
	favoured int
	active   map[string]int // the job's active executions per node, this plan's included
	failed   map[string]int // the job's own failures per node
}

func (c *evalContext) newPlacer(req *requirements, need int) *placer {
	p := &placer{
		c:      c,
		req:    req,
		cap:    newCapacity(c.state),
		order:  newNodeOrder(len(c.nodes.list), seedOf(c.eval.ID)),
		limit:  max(2*need, minCandidates),
		active: make(map[string]int),
		failed: make(map[string]int),
	}
	for _, e := range c.execs {
		switch st := c.stateOf(e); {
		case !st.IsTerminal():
			p.active[e.NodeID]++
		case st == api.ExecutionStateAskForBidRejected, st == api.ExecutionStateFailed && !c.isNodeLoss(e):
			p.failed[e.NodeID]++
		}
	}
	return p
}

// fill visits nodes until it holds limit candidates or has seen them all.
// With favour_ constraints it keeps going until limit of the candidates meet
// all of them, but past the limit it only looks at such nodes, with the
// cheap checks first: a rare favoured node in a large cluster is found
// without looking up the capacity of every node.
func (p *placer) fill() error {
	for !p.order.done() {
		needAny := len(p.cands) < p.limit
		needFavoured := len(p.req.soft) > 0 && p.favoured < p.limit
		if !needAny && !needFavoured {
			return nil
		}
		i, rank := p.order.position()
		n := p.c.nodes.list[i]
		if !p.req.check(n).ok() {
			continue
		}
		soft := p.req.softMatches(n)
		favoured := len(p.req.soft) > 0 && soft == len(p.req.soft)
		if !needAny && !favoured {
			continue
		}
		rej, err := p.cap.fits(n, p.req.resources)
		if err != nil {
			return err
		}
		if rej.ok() {
			if favoured {
				p.favoured++
			}
			cand := candidate{node: n, rank: rank, soft: soft}
			cand.score = p.score(cand)
			heap.Push(&p.cands, cand)
		}
	}
	return nil
}

// next picks the best node for one more execution and books its resources;
// nil when no node has room.
func (p *placer) next() (*nodeEntry, error) {
	res := p.req.resources
	for {
		if err := p.fill(); err != nil {
			return nil, err
		}
		if len(p.cands) > 0 {
			best := &p.cands[0]
			n := best.node
			p.cap.add(n, res)
			p.active[n.id]++
			// Only this node's score and room changed: a node now full
			// leaves the pool at once, so fill sees the true pool size.
			rej, err := p.cap.fits(n, res)
			if err != nil {
				return nil, err
			}
			if rej.ok() {
				best.score = p.score(*best)
				heap.Fix(&p.cands, 0)
			} else {
				if len(p.req.soft) > 0 && best.soft == len(p.req.soft) {
					p.favoured--
				}
				heap.Pop(&p.cands)
			}
			return n, nil
		}
		if p.order.done() {
			return nil, nil
		}
	}
}

func (p *placer) score(cand candidate) float64 {
	s := weightFreeShare * p.cap.freeShare(cand.node, p.req.resources)
	if p.failed[cand.node.id] == 0 {
		s += weightNeverFailed
	}
	s -= weightSpread * float64(p.active[cand.node.id])
	s += weightSoftMatch * float64(cand.soft)
	return s
}

// nodeRejection is one node's reason for not taking an execution.
type nodeRejection struct {
	nodeID string
	rejection
}

// explain checks every node against cap and says why each one that cannot
// take an execution cannot, and how many can. It is the slow full pass, run
// only when placement fell short.
func explain(nodes *nodeTable, req *requirements, cap *capacity) (rejected []nodeRejection, available int, err error) {
	for _, n := range nodes.list {
		rej, err := cap.feasible(req, n)
		if err != nil {
			return nil, 0, err
		}
		if rej.ok() {
			available++
			continue
		}
		rejected = append(rejected, nodeRejection{nodeID: n.id, rejection: rej})
	}
	return rejected, available, nil
}
