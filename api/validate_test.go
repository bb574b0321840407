package api

import (
	"errors"
	"strings"
	"testing"
)

// validJob is the smallest job every check accepts; each case breaks one
// thing in it.
func validJob() *Job {
	return &Job{
		Name:  "example",
		Type:  JobTypeBatch,
		Count: 1,
		Tasks: []*Task{{
			Name:   "main",
			Engine: &SpecConfig{Type: EngineDocker, Params: map[string]any{"Image": "ubuntu:22.04"}},
		}},
	}
}

func task(j *Job) *Task { return j.Tasks[0] }

func urlSource(u string) *SpecConfig {
	return &SpecConfig{Type: StorageURLDownload, Params: map[string]any{"URL": u}}
}

type validationCase struct {
	name   string
	mutate func(j *Job)
	want   string // the whole error text; "" means valid
}

var submissionCases = []validationCase{
	{"valid", func(j *Job) {}, ""},
	{"type is case-insensitive", func(j *Job) { j.Type = " Batch " }, ""},
	{"missing type", func(j *Job) { j.Type = " " }, "missing job type"},
	{"invalid type", func(j *Job) { j.Type = "x" }, `invalid job type: "x"`},
	{"negative count", func(j *Job) { j.Count = -1 }, "job count must be >= 0"},
	{"zero count", func(j *Job) { j.Count = 0 }, ""},
	{"count too large", func(j *Job) { j.Count = MaxJobCount + 1 }, "job count must be <= 10000"},
	{"count at the limit", func(j *Job) { j.Count = MaxJobCount }, ""},
	{"missing tasks", func(j *Job) { j.Tasks = nil }, "missing job tasks"},
	{"nil task", func(j *Job) { j.Tasks = []*Task{nil} }, "task 0 validation failed: nil task"},
	{"control character in name", func(j *Job) { j.Name = "a\x00b" }, "job name must not contain control characters"},
	{"surrounding white space in name", func(j *Job) { j.Name = "\texample\n" }, ""},
	{"control character in ID", func(j *Job) { j.ID = "j-\x01" }, "job ID must not contain control characters"},
	{"control character in namespace", func(j *Job) { j.Namespace = "a\x7fb" }, "job namespace must not contain control characters"},
	{"space in a batch ID is dropped later", func(j *Job) { j.ID = "my job" }, ""},
	{"space in a service ID", func(j *Job) { j.Type, j.ID = JobTypeService, "my job" }, "job ID must not contain white space"},
	{"service ID", func(j *Job) { j.Type, j.ID = JobTypeService, "web" }, ""},

	// labels
	{"valid labels", func(j *Job) { j.Labels = map[string]string{"env": "prod", "example.com/team": "data", "empty": ""} }, ""},
	{"invalid label key", func(j *Job) { j.Labels = map[string]string{"bad key": "v"} },
		`invalid label key "bad key": ` + labelKeyRule},
	{"invalid label value", func(j *Job) { j.Labels = map[string]string{"env": "has space"} },
		`invalid value "has space" of label "env": ` + labelValueRule},

	// constraints
	{"valid constraints", func(j *Job) {
		j.Constraints = []*LabelSelectorRequirement{
			{Key: "region", Operator: "in", Values: []string{"eu", "us"}},
			{Key: "gpu", Operator: "exists"},
			{Key: "disk", Operator: "!"},
			{Key: "cores", Operator: "gt", Values: []string{"4"}},
			{Key: "favour_zone", Operator: "=", Values: []string{"a"}},
			{Key: "arch", Operator: "NotIn", Values: []string{"arm64"}},
		}
	}, ""},
	{"nil constraint", func(j *Job) { j.Constraints = []*LabelSelectorRequirement{nil} }, "constraint 0 validation failed: nil constraint"},
	{"blank constraint key", func(j *Job) {
		j.Constraints = []*LabelSelectorRequirement{{Key: " ", Operator: "=", Values: []string{"a"}}}
	}, "constraint 0 validation failed: selector key cannot be blank"},
	{"invalid constraint key", func(j *Job) {
		j.Constraints = []*LabelSelectorRequirement{{Key: "bad key", Operator: "=", Values: []string{"a"}}}
	}, `constraint 0 validation failed: invalid key "bad key": ` + labelKeyRule},
	{"in without values", func(j *Job) {
		j.Constraints = []*LabelSelectorRequirement{{Key: "region", Operator: "in"}}
	}, "constraint 0 validation failed: values cannot be empty for operator in"},
	{"notin without values", func(j *Job) {
		j.Constraints = []*LabelSelectorRequirement{{Key: "region", Operator: "notin"}}
	}, "constraint 0 validation failed: values cannot be empty for operator notin"},
	{"exists with values", func(j *Job) {
		j.Constraints = []*LabelSelectorRequirement{{Key: "gpu", Operator: "exists", Values: []string{"x"}}}
	}, "constraint 0 validation failed: values must be empty for operator exists"},
	{"equals with two values", func(j *Job) {
		j.Constraints = []*LabelSelectorRequirement{{Key: "a", Operator: "=", Values: []string{"x", "y"}}}
	}, "constraint 0 validation failed: operator = must have exactly one value"},
	{"unknown operator", func(j *Job) {
		j.Constraints = []*LabelSelectorRequirement{{Key: "a", Operator: "~", Values: []string{"x"}}}
	}, `constraint 0 validation failed: unknown operator "~": want one of =, ==, !=, in, notin, exists, !, gt, lt`},
	{"missing operator", func(j *Job) {
		j.Constraints = []*LabelSelectorRequirement{{Key: "a", Values: []string{"x"}}}
	}, "constraint 0 validation failed: missing operator"},
	{"gt with a non-integer", func(j *Job) {
		j.Constraints = []*LabelSelectorRequirement{{Key: "cores", Operator: "gt", Values: []string{"four"}}}
	}, `constraint 0 validation failed: value "four" of operator gt must be an integer`},
	{"invalid constraint value", func(j *Job) {
		j.Constraints = []*LabelSelectorRequirement{{Key: "a", Operator: "=", Values: []string{"b c"}}}
	}, `constraint 0 validation failed: invalid value "b c": ` + labelValueRule},
	{"constraint index", func(j *Job) {
		j.Constraints = []*LabelSelectorRequirement{{Key: "a", Operator: "exists"}, {Key: "", Operator: "exists"}}
	}, "constraint 1 validation failed: selector key cannot be blank"},

	// task
	{"missing task name", func(j *Job) { task(j).Name = "" }, "task 0 validation failed: missing task name"},
	{"control character in task name", func(j *Job) { task(j).Name = "a\x00b" },
		"task 0 validation failed: task name must not contain control characters"},
	{"nil engine", func(j *Job) { task(j).Engine = nil }, "task main validation failed: engine validation failed: nil spec config"},
	{"missing engine type", func(j *Job) { task(j).Engine.Type = "" },
		"task main validation failed: engine validation failed: missing spec type"},
	{"unknown engine", func(j *Job) { task(j).Engine.Type = "python" },
		`task main validation failed: engine validation failed: unsupported engine type "python": want docker, wasm or noop`},
	{"engine type is case-insensitive", func(j *Job) { task(j).Engine.Type = "Docker" }, ""},
	{"docker without image", func(j *Job) { task(j).Engine.Params = nil },
		"task main validation failed: engine validation failed: docker engine requires Params.Image, the image to run"},
	{"docker with a blank image", func(j *Job) { task(j).Engine.Params = map[string]any{"Image": " "} },
		"task main validation failed: engine validation failed: docker engine requires Params.Image, the image to run"},
	{"docker params are case-insensitive", func(j *Job) { task(j).Engine.Params = map[string]any{"image": "busybox"} }, ""},
	{"noop engine", func(j *Job) { task(j).Engine = &SpecConfig{Type: "noop"} }, ""},
	{"wasm engine", func(j *Job) {
		task(j).Engine = &SpecConfig{Type: EngineWasm, Params: map[string]any{
			"EntryModule": map[string]any{"Source": map[string]any{"Type": "urlDownload", "Params": map[string]any{"URL": "http://x/m.wasm"}}},
		}}
	}, ""},
	{"wasm without entry module", func(j *Job) { task(j).Engine = &SpecConfig{Type: EngineWasm} },
		"task main validation failed: engine validation failed: wasm engine requires Params.EntryModule, an input source holding the module"},
	{"wasm entry module of unknown source", func(j *Job) {
		task(j).Engine = &SpecConfig{Type: EngineWasm, Params: map[string]any{
			"EntryModule": map[string]any{"Source": map[string]any{"Type": "ftp"}},
		}}
	}, `task main validation failed: engine validation failed: invalid Params.EntryModule: unsupported input source type "ftp": want inline, urlDownload, localDirectory, s3 or ipfs`},
	{"wasm entry module without source", func(j *Job) {
		task(j).Engine = &SpecConfig{Type: EngineWasm, Params: map[string]any{"EntryModule": map[string]any{}}}
	}, "task main validation failed: engine validation failed: invalid Params.EntryModule: missing Source, an object with Type and Params"},
	{"wasm entry module as a Go value", func(j *Job) {
		task(j).Engine = &SpecConfig{Type: EngineWasm, Params: map[string]any{
			"EntryModule": &InputSource{Source: &SpecConfig{Type: StorageLocalDirectory, Params: map[string]any{"SourcePath": "/m"}}},
		}}
	}, ""},

	// publisher and result paths
	{"nil publisher means none", func(j *Job) { task(j).Publisher = nil }, ""},
	{"local publisher", func(j *Job) { task(j).Publisher = &SpecConfig{Type: "Local"} }, ""},
	{"unknown publisher", func(j *Job) { task(j).Publisher = &SpecConfig{Type: "lcoal"} },
		`task main validation failed: publisher validation failed: unsupported publisher type "lcoal": want noop, local, s3 or ipfs`},
	{"result paths without publisher", func(j *Job) {
		task(j).ResultPaths = []*ResultPath{{Name: "out", Path: "/outputs"}}
	}, "task main validation failed: publisher must be set if result paths are set"},
	{"result paths with publisher", func(j *Job) {
		task(j).Publisher = &SpecConfig{Type: PublisherLocal}
		task(j).ResultPaths = []*ResultPath{{Name: "out", Path: "/outputs"}, {Name: "logs", Path: "/logs"}}
	}, ""},
	{"result path problems", func(j *Job) {
		task(j).Publisher = &SpecConfig{Type: PublisherLocal}
		task(j).ResultPaths = []*ResultPath{{Name: "", Path: "/a"}, {Name: "b", Path: ""}, {Name: "c", Path: "rel"}, nil}
	}, "task main validation failed: output validation failed: missing name\n" +
		"task main validation failed: output validation failed: missing path\n" +
		"task main validation failed: output validation failed: result path 'rel' must be absolute\n" +
		"task main validation failed: output validation failed: nil result path"},
	{"duplicate result paths", func(j *Job) {
		task(j).Publisher = &SpecConfig{Type: PublisherLocal}
		task(j).ResultPaths = []*ResultPath{{Name: "a", Path: "/x"}, {Name: "a", Path: "/y"}, {Name: "b", Path: "/x"}}
	}, "task main validation failed: result path with name 'a' already exists\n" +
		"task main validation failed: result path '/x' already exists"},

	// input sources
	{"valid inputs", func(j *Job) {
		task(j).InputSources = []*InputSource{
			{Source: urlSource("https://example.com/f.csv"), Target: "/data", Alias: "data"},
			{Source: &SpecConfig{Type: "inline", Params: map[string]any{"URL": "data:text/plain;base64,aGk="}}, Target: "/hi"},
			{Source: &SpecConfig{Type: "localDirectory", Params: map[string]any{"SourcePath": "/srv"}}, Target: "/srv"},
			{Source: &SpecConfig{Type: "s3", Params: map[string]any{"Bucket": "b", "Key": "k"}}, Target: "/s3"},
			{Source: &SpecConfig{Type: "ipfs", Params: map[string]any{"CID": "Qm"}}, Target: "/ipfs"},
			{Source: &SpecConfig{Type: "URLDOWNLOAD", Params: map[string]any{"url": "http://x/y"}}, Target: "/u"},
		}
	}, ""},
	{"input without target", func(j *Job) {
		task(j).InputSources = []*InputSource{{Source: urlSource("http://x/y")}}
	}, "task main validation failed: artifact validation failed: missing artifact target"},
	{"input without source", func(j *Job) {
		task(j).InputSources = []*InputSource{{Target: "/d"}}
	}, "task main validation failed: artifact validation failed: invalid artifact source: nil spec config"},
	{"input without source type", func(j *Job) {
		task(j).InputSources = []*InputSource{{Target: "/d", Source: &SpecConfig{}}}
	}, "task main validation failed: artifact validation failed: invalid artifact source: missing spec type"},
	{"unknown input type", func(j *Job) {
		task(j).InputSources = []*InputSource{{Target: "/d", Source: &SpecConfig{Type: "ftp"}}}
	}, `task main validation failed: artifact validation failed: invalid artifact source: unsupported input source type "ftp": want inline, urlDownload, localDirectory, s3 or ipfs`},
	{"urlDownload without http URL", func(j *Job) {
		task(j).InputSources = []*InputSource{{Target: "/d", Source: urlSource("file:///etc/passwd")}}
	}, "task main validation failed: artifact validation failed: invalid artifact source: urlDownload needs Params.URL, an http or https URL"},
	{"inline without data URL", func(j *Job) {
		task(j).InputSources = []*InputSource{{Target: "/d", Source: &SpecConfig{Type: "inline", Params: map[string]any{"URL": "hi"}}}}
	}, "task main validation failed: artifact validation failed: invalid artifact source: inline needs Params.URL, a data: URL holding the content"},
	{"localDirectory without path", func(j *Job) {
		task(j).InputSources = []*InputSource{{Target: "/d", Source: &SpecConfig{Type: "localDirectory"}}}
	}, "task main validation failed: artifact validation failed: invalid artifact source: localDirectory needs Params.SourcePath"},
	{"s3 without bucket", func(j *Job) {
		task(j).InputSources = []*InputSource{{Target: "/d", Source: &SpecConfig{Type: "s3"}}}
	}, "task main validation failed: artifact validation failed: invalid artifact source: s3 needs Params.Bucket"},
	{"ipfs without CID", func(j *Job) {
		task(j).InputSources = []*InputSource{{Target: "/d", Source: &SpecConfig{Type: "ipfs", Params: map[string]any{"CID": 5}}}}
	}, "task main validation failed: artifact validation failed: invalid artifact source: ipfs needs Params.CID"},
	{"nil input", func(j *Job) { task(j).InputSources = []*InputSource{nil} },
		"task main validation failed: artifact validation failed: nil input source"},
	{"duplicate inputs", func(j *Job) {
		task(j).InputSources = []*InputSource{
			{Source: urlSource("http://x/1"), Target: "/a", Alias: "x"},
			{Source: urlSource("http://x/2"), Target: "/b", Alias: "x"},
			{Source: urlSource("http://x/3"), Target: "/a"},
		}
	}, "task main validation failed: input source with alias 'x' already exists\n" +
		"task main validation failed: input source with target '/a' already exists"},

	// resources
	{"valid resources", func(j *Job) {
		task(j).Resources = &ResourcesConfig{CPU: "500m", Memory: "1Gb", Disk: "10 GiB", GPU: "1"}
	}, ""},
	{"invalid CPU", func(j *Job) { task(j).Resources = &ResourcesConfig{CPU: "abc"} },
		`task main validation failed: task resources validation failed: invalid CPU value: "abc"`},
	{"invalid memory", func(j *Job) { task(j).Resources = &ResourcesConfig{Memory: "12xb"} },
		`task main validation failed: task resources validation failed: invalid memory value: "12xb"`},
	{"invalid disk", func(j *Job) { task(j).Resources = &ResourcesConfig{Disk: "-1gb"} },
		`task main validation failed: task resources validation failed: invalid disk value: "-1gb"`},
	{"invalid GPU", func(j *Job) { task(j).Resources = &ResourcesConfig{GPU: "1.5"} },
		`task main validation failed: task resources validation failed: invalid GPU value: "1.5"`},

	// network
	{"HTTP network with domains", func(j *Job) {
		task(j).Network = &NetworkConfig{Type: NetworkHTTP, Domains: []string{"example.com", ".example.org"}}
	}, ""},
	{"domains without network", func(j *Job) {
		task(j).Network = &NetworkConfig{Type: NetworkNone, Domains: []string{"example.com"}}
	}, "task main validation failed: task network validation failed: domains cannot be set when the network type is None"},
	{"invalid domain", func(j *Job) {
		task(j).Network = &NetworkConfig{Type: NetworkHTTP, Domains: []string{"http://example.com"}}
	}, `task main validation failed: task network validation failed: invalid domain "http://example.com"`},
	{"invalid network type", func(j *Job) { task(j).Network = &NetworkConfig{Type: Network(7)} },
		"task main validation failed: task network validation failed: invalid network type 7: want None, Full or HTTP"},

	// env
	{"invalid env names", func(j *Job) { task(j).Env = map[string]string{"": "x", "A=B": "y", "OK": "z"} },
		"task main validation failed: invalid environment variable name \"\"\n" +
			"task main validation failed: invalid environment variable name \"A=B\""},

	// timeouts
	{"negative execution timeout", func(j *Job) { task(j).Timeouts = &TimeoutConfig{ExecutionTimeout: -1} },
		"task main validation failed: task timeouts validation failed: invalid execution timeout value: -1: must be >= 0"},
	{"negative queue timeout", func(j *Job) { task(j).Timeouts = &TimeoutConfig{QueueTimeout: -2} },
		"task main validation failed: task timeouts validation failed: invalid queue timeout value: -2: must be >= 0"},
	{"negative total timeout", func(j *Job) { task(j).Timeouts = &TimeoutConfig{TotalTimeout: -3} },
		"task main validation failed: task timeouts validation failed: invalid total timeout value: -3: must be >= 0"},
	{"timeout beyond a Duration", func(j *Job) { task(j).Timeouts = &TimeoutConfig{ExecutionTimeout: MaxTimeoutSeconds + 1} },
		"task main validation failed: task timeouts validation failed: invalid execution timeout value: 9223372037: must be <= 9223372036"},
	{"timeout sum is checked only when storing", func(j *Job) {
		task(j).Timeouts = &TimeoutConfig{ExecutionTimeout: 100, QueueTimeout: 100, TotalTimeout: 150}
	}, ""},

	// several problems at once, in order
	{"every problem reported", func(j *Job) {
		j.Type = ""
		j.Count = -1
		task(j).Engine.Type = ""
		task(j).Timeouts = &TimeoutConfig{ExecutionTimeout: -1}
	}, "missing job type\njob count must be >= 0\n" +
		"task main validation failed: engine validation failed: missing spec type\n" +
		"task main validation failed: task timeouts validation failed: invalid execution timeout value: -1: must be >= 0"},
	{"every task checked", func(j *Job) {
		j.Tasks = append(j.Tasks, &Task{Name: "second"})
	}, "task second validation failed: engine validation failed: nil spec config"},
}

func checkValidation(t *testing.T, err error, want string) {
	t.Helper()
	if want == "" {
		if err != nil {
			t.Fatalf("unexpected error:\n%v", err)
		}
		return
	}
	if err == nil {
		t.Fatalf("no error, want:\n%s", want)
	}
	if err.Error() != want {
		t.Fatalf("error:\n%s\nwant:\n%s", err, want)
	}
	if !errors.Is(err, ErrBadRequest) {
		t.Errorf("error is not ErrBadRequest: %#v", err)
	}
	var e *Error
	if !errors.As(err, &e) || e.Code != CodeValidationError {
		t.Errorf("error is not an *Error with code %s: %#v", CodeValidationError, err)
	}
}

func TestValidateSubmission(t *testing.T) {
	for _, tc := range submissionCases {
		t.Run(tc.name, func(t *testing.T) {
			j := validJob()
			tc.mutate(j)
			checkValidation(t, j.ValidateSubmission(), tc.want)
		})
	}
}

// The server may normalize before or after validating: the answer must not
// depend on it.
func TestValidateSubmissionSameAfterNormalize(t *testing.T) {
	for _, tc := range submissionCases {
		t.Run(tc.name, func(t *testing.T) {
			j := validJob()
			tc.mutate(j)
			j.Normalize()
			checkValidation(t, j.ValidateSubmission(), tc.want)
		})
	}
}

func TestValidateSubmissionNilJob(t *testing.T) {
	var j *Job
	checkValidation(t, j.ValidateSubmission(), "empty/nil job")
	checkValidation(t, j.Validate(), "empty/nil job")
}

// storableJob is what the server holds after sanitizing, IDs and defaults.
func storableJob() *Job {
	j := validJob()
	j.Normalize()
	j.ID = NewJobID()
	j.ApplyDefaults(JobDefaults{ExecutionTimeout: 600})
	return j
}

func TestValidate(t *testing.T) {
	cases := []validationCase{
		{"valid", func(j *Job) {}, ""},
		{"missing ID", func(j *Job) { j.ID = " " }, "missing job ID"},
		{"space in ID", func(j *Job) { j.ID = "j-1 2" }, "job ID must not contain white space"},
		{"missing name", func(j *Job) { j.Name = "" }, "missing job name"},
		{"missing namespace", func(j *Job) { j.Namespace = "" }, "missing job namespace"},
		{"two tasks", func(j *Job) {
			second := validJob().Tasks[0]
			second.Name = "second"
			j.Tasks = append(j.Tasks, second)
		}, "only one task is supported per job"},
		{"timeouts exceed total", func(j *Job) {
			task(j).Timeouts = &TimeoutConfig{ExecutionTimeout: 100, QueueTimeout: 60, TotalTimeout: 150}
		}, "task main validation failed: task timeouts validation failed: execution timeout (100) plus queue timeout (60) exceeds total timeout (150)"},
		{"timeouts fill total", func(j *Job) {
			task(j).Timeouts = &TimeoutConfig{ExecutionTimeout: 100, QueueTimeout: 50, TotalTimeout: 150}
		}, ""},
		{"no total", func(j *Job) {
			task(j).Timeouts = &TimeoutConfig{ExecutionTimeout: 100, QueueTimeout: 50}
		}, ""},
		{"submission checks included", func(j *Job) { j.Count = -1 }, "job count must be >= 0"},
		{"service ID problem reported once", func(j *Job) { j.Type, j.ID = JobTypeService, "my job" },
			"job ID must not contain white space"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			j := storableJob()
			tc.mutate(j)
			checkValidation(t, j.Validate(), tc.want)
		})
	}
}

func TestValidateProblemLinesStandAlone(t *testing.T) {
	j := validJob()
	task(j).Resources = &ResourcesConfig{CPU: "x", Memory: "y"}
	err := j.ValidateSubmission()
	if err == nil {
		t.Fatal("no error")
	}
	for _, line := range strings.Split(err.Error(), "\n") {
		if !strings.HasPrefix(line, "task main validation failed: task resources validation failed: invalid ") {
			t.Errorf("line without its context: %q", line)
		}
	}
}
