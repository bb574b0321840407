package scheduler

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"time"

	"github.com/shoal-io/shoal/api"
	"github.com/shoal-io/shoal/fsm"
)

// State is a consistent, read-only view of the replicated state at one index.
// *fsm.ReadTxn satisfies it. Objects it returns are shared with the store and
// are never modified here.
type State interface {
	Index() uint64
	Job(id string) (*api.Job, error)                        // api.ErrNotFound when missing
	ExecutionsByJob(jobID string) ([]*api.Execution, error) // create order
	Nodes() ([]*api.NodeInfo, error)                        // by ID
	NodesIndex() uint64                                     // raft index of the last change to the nodes table (cache key)
	NodeAllocated(nodeID string) (api.Resources, error)     // sum of allocated resources of the node's active executions
	Eval(id string) (*api.Evaluation, error)
	EvalsByStatus(status string) ([]*api.Evaluation, error)
}

// Planner commits plans through Raft (on the leader). index is the raft index
// the plan was applied at.
type Planner interface {
	SubmitPlan(ctx context.Context, plan *fsm.Plan) (*fsm.PlanResult, uint64, error)
	UpdateEvals(ctx context.Context, evals []*api.Evaluation) error
}

// Defaults of the Config tunables.
const (
	DefaultVisibilityTimeout      = 60 * time.Second
	DefaultInitialNackDelay       = 1 * time.Second
	DefaultSubsequentNackDelay    = 20 * time.Second
	DefaultDeliveryLimit          = 5
	DefaultFailuresPerCount       = 3
	DefaultBlockedReleaseInterval = 30 * time.Second
	DefaultPlanAttempts           = 3
)

// What a task that asks for no CPU or memory is accounted as when
// Config.DefaultTaskResources is left zero: small, but never nothing, so a
// node's capacity bounds how many such tasks it gets.
const (
	DefaultTaskCPU    = 0.1
	DefaultTaskMemory = 64 << 20
)

// Config wires a Scheduler to the replica it runs in.
type Config struct {
	Logger *slog.Logger
	// Snapshot returns a fresh view of the latest applied state.
	Snapshot func() State
	// WaitForIndex returns once the local state has applied index (or ctx
	// ends). Nil means the snapshot is always current enough (tests).
	WaitForIndex func(ctx context.Context, index uint64) error
	Planner      Planner
	// Workers is the number of evaluations processed at once; default
	// runtime.GOMAXPROCS(0).
	Workers int
	// Clock is the time source for plans, delays and timeouts; default
	// time.Now.
	Clock func() time.Time
	// DefaultTaskResources fills the CPU and memory a task leaves unset;
	// default DefaultTaskCPU and DefaultTaskMemory.
	DefaultTaskResources api.Resources

	// VisibilityTimeout is how long a worker may hold an evaluation before
	// it is taken back (nacked).
	VisibilityTimeout time.Duration
	// InitialNackDelay and SubsequentNackDelay hold back a nacked
	// evaluation before it is delivered again (first nack, later nacks).
	InitialNackDelay    time.Duration
	SubsequentNackDelay time.Duration
	// DeliveryLimit is how many deliveries an evaluation gets before it is
	// marked failed and dropped.
	DeliveryLimit int
	// FailuresPerCount bounds retries: a batch or service job fails once it
	// has FailuresPerCount×Count failed executions and needs another one.
	// Executions failed because their node was lost do not count.
	FailuresPerCount int
	// BlockedReleaseInterval is the period of the safety release that
	// retries every blocked evaluation when capacity was freed since the
	// last one (a freed slot is offered to only about one waiting job).
	BlockedReleaseInterval time.Duration
	// PlanAttempts is how often one delivery is planned when the state
	// machine drops parts of the plan, before it is nacked.
	PlanAttempts int
}

func (c Config) withDefaults() (Config, error) {
	if c.Snapshot == nil {
		return c, fmt.Errorf("scheduler config: %w: Snapshot is required", api.ErrBadRequest)
	}
	if c.Planner == nil {
		return c, fmt.Errorf("scheduler config: %w: Planner is required", api.ErrBadRequest)
	}
	if c.Workers < 0 || c.DeliveryLimit < 0 || c.FailuresPerCount < 0 || c.PlanAttempts < 0 ||
		c.VisibilityTimeout < 0 || c.InitialNackDelay < 0 || c.SubsequentNackDelay < 0 || c.BlockedReleaseInterval < 0 {
		return c, fmt.Errorf("scheduler config: %w: counts and durations must not be negative", api.ErrBadRequest)
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Workers == 0 {
		c.Workers = runtime.GOMAXPROCS(0)
	}
	if c.Clock == nil {
		c.Clock = time.Now
	}
	if c.DefaultTaskResources.IsZero() {
		c.DefaultTaskResources = api.Resources{CPU: DefaultTaskCPU, Memory: DefaultTaskMemory}
	}
	setDefault(&c.VisibilityTimeout, DefaultVisibilityTimeout)
	setDefault(&c.InitialNackDelay, DefaultInitialNackDelay)
	setDefault(&c.SubsequentNackDelay, DefaultSubsequentNackDelay)
	setDefault(&c.DeliveryLimit, DefaultDeliveryLimit)
	setDefault(&c.FailuresPerCount, DefaultFailuresPerCount)
	setDefault(&c.BlockedReleaseInterval, DefaultBlockedReleaseInterval)
	setDefault(&c.PlanAttempts, DefaultPlanAttempts)
	return c, nil
}

func setDefault[T comparable](v *T, def T) {
	var zero T
	if *v == zero {
		*v = def
	}
}
