package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/shoal-io/shoal/api"
	"github.com/spf13/pflag"
)

// jobFlags are upstream's job and task flags of docker run and wasm run.
type jobFlags struct {
	name        string
	namespace   string
	priority    int
	count       int
	labels      map[string]string
	target      string
	constraints string

	taskName     string
	inputs       []string
	outputs      []string
	publisher    string
	cpu          string
	memory       string
	disk         string
	gpu          string
	network      string
	domains      []string
	timeout      int64
	queueTimeout int64
}

func (f *jobFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.name, "name", "", "job name (default: its ID)")
	fs.StringVar(&f.namespace, "namespace", "", "job namespace (default \"default\")")
	fs.IntVar(&f.priority, "priority", 0, "job priority: compute nodes run higher ones first")
	fs.IntVar(&f.count, "count", 1, "how many executions must complete (with --target any)")
	fs.StringToStringVarP(&f.labels, "labels", "l", nil, "job labels, key=value pairs (comma-separated or repeated)")
	fs.StringVar(&f.target, "target", "any", "any: a batch job, --count executions on matching nodes; all: an ops job, one execution on every matching node")
	fs.StringVar(&f.constraints, "constraints", "", "node label selector the nodes must match, e.g. 'region in (eu,us),arch=amd64' (favour_key=value only prefers)")

	fs.StringVar(&f.taskName, "task-name", "main", "name of the job's task")
	fs.StringArrayVarP(&f.inputs, "input", "i", nil, "data the task reads (repeatable): url=URL[:TARGET], inline=DATA-URL:TARGET or file=HOST-PATH[:TARGET][:rw]; see the help above")
	fs.StringArrayVarP(&f.outputs, "output", "o", nil, "folder the task writes and the publisher collects, NAME:PATH (repeatable), e.g. outputs:/outputs")
	fs.StringVarP(&f.publisher, "publisher", "p", "", "where results go: noop (nowhere) or local (the compute node serves them to 'shoal job get'); default local when --output is given")
	fs.StringVar(&f.cpu, "cpu", "", "CPU the task needs, in cores: 0.5, 500m, 2")
	fs.StringVar(&f.memory, "memory", "", "memory the task needs: 512mb, 1gb, 1Gi")
	fs.StringVar(&f.disk, "disk", "", "disk the task needs: 10gb")
	fs.StringVar(&f.gpu, "gpu", "", "GPUs the task needs: 1")
	fs.StringVar(&f.network, "network", "none", "network access of the task: none, full or http")
	fs.StringArrayVar(&f.domains, "domain", nil, "a domain the task may reach with --network http (repeatable)")
	fs.Var(secondsFlag{&f.timeout}, "timeout", "longest the task may run, in seconds (or 10m, 1h); default: the server's")
	fs.Var(secondsFlag{&f.queueTimeout}, "queue-timeout", "longest the job may wait for a node, in seconds (or 10m); default: the server's")
}

// inputHelp documents the --input syntax.
const inputHelp = `Inputs (-i/--input, repeatable) put data where the task reads it (TARGET,
an absolute path in the task, after the last colon):
  url=https://example.com/data.csv:/inputs/data.csv   download a URL (http or https);
                                                      without TARGET: /inputs/<file name>
  https://example.com/data.csv                        the same (url= may be left out)
  inline=data:text/plain;base64,aGk=:/inputs/hi.txt   content given inline as a data: URL
  file=/srv/shared/data:/data[:rw]                    a folder (or file) on the compute node,
                                                      read-only unless :rw; the node must
                                                      allow it (serve --allowed-local-paths)`

// build makes the job for an engine.
func (f *jobFlags) build(engine *api.SpecConfig) (*api.Job, error) {
	jobType, err := jobTypeFor(f.target)
	if err != nil {
		return nil, err
	}
	constraints, err := api.ParseConstraints(f.constraints)
	if err != nil {
		return nil, usageErrorf("invalid --constraints: %w", err)
	}
	var network api.Network
	if err := network.UnmarshalText([]byte(f.network)); err != nil {
		return nil, usageErrorf("invalid --network %q: want none, full or http", f.network)
	}
	task := &api.Task{
		Name:      f.taskName,
		Engine:    engine,
		Resources: &api.ResourcesConfig{CPU: f.cpu, Memory: f.memory, Disk: f.disk, GPU: f.gpu},
		Network:   &api.NetworkConfig{Type: network, Domains: f.domains},
		Timeouts:  &api.TimeoutConfig{ExecutionTimeout: f.timeout, QueueTimeout: f.queueTimeout},
	}
	for _, in := range f.inputs {
		src, err := parseInput(in)
		if err != nil {
			return nil, err
		}
		task.InputSources = append(task.InputSources, src)
	}
	for _, out := range f.outputs {
		rp, err := parseOutput(out)
		if err != nil {
			return nil, err
		}
		task.ResultPaths = append(task.ResultPaths, rp)
	}
	if task.Publisher, err = publisherFor(f.publisher, len(task.ResultPaths) > 0); err != nil {
		return nil, err
	}
	count := f.count
	if jobType == api.JobTypeOps {
		count = 0 // one per matching node; the API makes it 1
	}
	return &api.Job{
		Name:        f.name,
		Namespace:   f.namespace,
		Type:        jobType,
		Priority:    f.priority,
		Count:       count,
		Labels:      f.labels,
		Constraints: constraints,
		Tasks:       []*api.Task{task},
	}, nil
}

func jobTypeFor(target string) (string, error) {
	switch strings.ToLower(strings.TrimSpace(target)) {
	case "any":
		return api.JobTypeBatch, nil
	case "all":
		return api.JobTypeOps, nil
	}
	return "", usageErrorf("invalid --target %q: want any (a batch job) or all (an ops job)", target)
}

func publisherFor(name string, hasOutputs bool) (*api.SpecConfig, error) {
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "":
		if hasOutputs {
			return &api.SpecConfig{Type: api.PublisherLocal}, nil
		}
		return &api.SpecConfig{Type: ""}, nil
	case api.PublisherNoop:
		return &api.SpecConfig{Type: api.PublisherNoop}, nil
	case api.PublisherLocal:
		return &api.SpecConfig{Type: api.PublisherLocal}, nil
	}
	return nil, usageErrorf("invalid --publisher %q: want noop or local", name)
}

// parseOutput reads NAME:PATH; a bare absolute PATH is named after its
// last element.
func parseOutput(s string) (*api.ResultPath, error) {
	name, p, ok := strings.Cut(s, ":")
	if !ok && strings.HasPrefix(s, "/") {
		p = s
		name = s[strings.LastIndex(strings.TrimRight(s, "/"), "/")+1:]
		name = strings.TrimRight(name, "/")
	}
	name, p = strings.TrimSpace(name), strings.TrimSpace(p)
	if name == "" || !strings.HasPrefix(p, "/") {
		return nil, usageErrorf("invalid --output %q: want NAME:PATH with an absolute PATH, e.g. outputs:/outputs", s)
	}
	return &api.ResultPath{Name: name, Path: p}, nil
}

// parseEnv reads K=V.
func parseEnv(s string) (key, value string, err error) {
	key, value, ok := strings.Cut(s, "=")
	if !ok || strings.TrimSpace(key) == "" {
		return "", "", usageErrorf("invalid --env %q: want NAME=VALUE", s)
	}
	return key, value, nil
}

// secondsFlag is a timeout in whole seconds, given as a number of seconds
// or as a Go duration (90s, 10m, 1h30m; rounded up to a second).
type secondsFlag struct{ seconds *int64 }

func (s secondsFlag) String() string {
	if s.seconds == nil || *s.seconds == 0 {
		return ""
	}
	return strconv.FormatInt(*s.seconds, 10)
}

func (s secondsFlag) Set(v string) error {
	v = strings.TrimSpace(v)
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n < 0 {
			return fmt.Errorf("must not be negative")
		}
		*s.seconds = n
		return nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return fmt.Errorf("want seconds (600) or a duration (10m)")
	}
	if d < 0 {
		return fmt.Errorf("must not be negative")
	}
	*s.seconds = int64((d + time.Second - 1) / time.Second)
	return nil
}

func (s secondsFlag) Type() string { return "seconds" }
