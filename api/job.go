package api

// Job types, as upstream.
const (
	JobTypeBatch   = "batch"
	JobTypeOps     = "ops"
	JobTypeService = "service"
	JobTypeDaemon  = "daemon"
)

// DefaultNamespace is where a job without a namespace lives.
const DefaultNamespace = "default"

// Reserved prefix of Meta keys the orchestrator owns.
const MetaReservedPrefix = "bacalhau.org/"

// Meta keys the orchestrator sets on every accepted job.
const (
	MetaRequesterID = "bacalhau.org/requester.id"
)

// Job is a unit of work submitted by a user. The JSON shape is the spec
// page's: every collection is present even when empty.
type Job struct {
	ID          string                      `json:"ID"`
	Name        string                      `json:"Name"`
	Namespace   string                      `json:"Namespace"`
	Type        string                      `json:"Type"`
	Priority    int                         `json:"Priority"`
	Count       int                         `json:"Count"`
	Constraints []*LabelSelectorRequirement `json:"Constraints"`
	Meta        map[string]string           `json:"Meta"`
	Labels      map[string]string           `json:"Labels"`
	Tasks       []*Task                     `json:"Tasks"`
	State       State[JobStateType]         `json:"State"`
	Version     uint64                      `json:"Version"`
	Revision    uint64                      `json:"Revision"`
	CreateTime  int64                       `json:"CreateTime"`
	ModifyTime  int64                       `json:"ModifyTime"`
}

// Task is the one unit of execution of a job.
type Task struct {
	Name         string            `json:"Name"`
	Engine       *SpecConfig       `json:"Engine"`
	Publisher    *SpecConfig       `json:"Publisher"`
	Env          map[string]string `json:"Env"`
	Meta         map[string]string `json:"Meta"`
	InputSources []*InputSource    `json:"InputSources"`
	ResultPaths  []*ResultPath     `json:"ResultPaths"`
	Resources    *ResourcesConfig  `json:"Resources"`
	Network      *NetworkConfig    `json:"Network"`
	Timeouts     *TimeoutConfig    `json:"Timeouts"`
}

// SpecConfig names a pluggable component (engine, publisher, input source)
// and its free-form parameters.
type SpecConfig struct {
	Type   string         `json:"Type"`
	Params map[string]any `json:"Params"`
}

// InputSource is data made available to a task at Target.
type InputSource struct {
	Source *SpecConfig `json:"Source"`
	Alias  string      `json:"Alias,omitempty"`
	Target string      `json:"Target"`
}

// ResultPath is a folder the task writes and the publisher collects.
type ResultPath struct {
	Name string `json:"Name"`
	Path string `json:"Path"`
}

// ResourcesConfig is what a task asks for, as the user wrote it ("500m",
// "1gb"). Parse it with ResourcesConfig.Parse.
type ResourcesConfig struct {
	CPU    string `json:"CPU"`
	Memory string `json:"Memory"`
	Disk   string `json:"Disk"`
	GPU    string `json:"GPU"`
}

// NetworkConfig is a task's network access.
type NetworkConfig struct {
	Type    Network  `json:"Type"`
	Domains []string `json:"Domains,omitempty"`
}

// TimeoutConfig holds a task's timeouts in seconds; 0 means none.
type TimeoutConfig struct {
	ExecutionTimeout int64 `json:"ExecutionTimeout,omitempty"`
	QueueTimeout     int64 `json:"QueueTimeout,omitempty"`
	TotalTimeout     int64 `json:"TotalTimeout,omitempty"`
}

// LabelSelectorRequirement is one constraint on node labels, with the
// operator strings of k8s.io/apimachinery/pkg/selection.
type LabelSelectorRequirement struct {
	Key      string   `json:"Key"`
	Operator string   `json:"Operator"`
	Values   []string `json:"Values,omitempty"`
}

// Task returns the job's only task, or nil.
func (j *Job) Task() *Task {
	if j == nil || len(j.Tasks) == 0 {
		return nil
	}
	return j.Tasks[0]
}

// IsLongRunning reports whether the job's executions are meant to run until
// stopped (service and daemon).
func (j *Job) IsLongRunning() bool {
	return j.Type == JobTypeService || j.Type == JobTypeDaemon
}
