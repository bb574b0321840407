package api

import (
	"reflect"
	"testing"
)

func TestSanitizeSubmission(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(j *Job)
		want   []string
		check  func(t *testing.T, j *Job)
	}{
		{"nothing to say", func(j *Job) {}, nil, nil},
		{"state", func(j *Job) { j.State = State[JobStateType]{StateType: JobStateTypeCompleted} },
			[]string{"job state is ignored when submitting a job"},
			func(t *testing.T, j *Job) {
				if j.State != (State[JobStateType]{}) {
					t.Errorf("state kept: %+v", j.State)
				}
			}},
		{"state message alone", func(j *Job) { j.State.Message = "hi" },
			[]string{"job state is ignored when submitting a job"}, nil},
		{"revision", func(j *Job) { j.Revision = 3 }, []string{"job revision is ignored when submitting a job"},
			func(t *testing.T, j *Job) {
				if j.Revision != 0 {
					t.Errorf("revision kept: %d", j.Revision)
				}
			}},
		{"version", func(j *Job) { j.Version = 2 }, []string{"job version is ignored when submitting a job"}, nil},
		{"create time", func(j *Job) { j.CreateTime = 1234 }, []string{"job create time is ignored when submitting a job"},
			func(t *testing.T, j *Job) {
				if j.CreateTime != 0 {
					t.Errorf("create time kept: %d", j.CreateTime)
				}
			}},
		{"modify time", func(j *Job) { j.ModifyTime = 1 }, []string{"job modify time is ignored when submitting a job"}, nil},
		{"batch ID", func(j *Job) { j.ID = "mine" }, []string{"job ID is ignored when submitting a batch job"},
			func(t *testing.T, j *Job) {
				if j.ID != "" {
					t.Errorf("ID kept: %q", j.ID)
				}
			}},
		{"ops ID", func(j *Job) { j.Type, j.ID = "ops", "mine" }, []string{"job ID is ignored when submitting a batch job"}, nil},
		{"service ID kept", func(j *Job) { j.Type, j.ID = JobTypeService, "web" }, nil,
			func(t *testing.T, j *Job) {
				if j.ID != "web" {
					t.Errorf("ID dropped: %q", j.ID)
				}
			}},
		{"daemon ID kept", func(j *Job) { j.Type, j.ID = JobTypeDaemon, "agent" }, nil, nil},
		{"extra tasks", func(j *Job) { j.Tasks = append(j.Tasks, &Task{Name: "b"}, &Task{Name: "c"}) },
			[]string{"only one task is supported per job"},
			func(t *testing.T, j *Job) {
				if len(j.Tasks) != 1 || j.Tasks[0].Name != "main" {
					t.Errorf("tasks: %+v", j.Tasks)
				}
			}},
		{"reserved meta", func(j *Job) {
			j.Meta = map[string]string{"bacalhau.org/requester.id": "x", "Bacalhau.org/Other": "y", "mine": "z"}
		}, []string{
			`job meta key "Bacalhau.org/Other" is reserved and will be ignored`,
			`job meta key "bacalhau.org/requester.id" is reserved and will be ignored`,
		}, func(t *testing.T, j *Job) {
			if !reflect.DeepEqual(j.Meta, map[string]string{"mine": "z"}) {
				t.Errorf("meta: %v", j.Meta)
			}
		}},
		{"all in order", func(j *Job) {
			j.State.StateType = JobStateTypeRunning
			j.Revision, j.Version, j.CreateTime, j.ModifyTime, j.ID = 1, 1, 1, 1, "x"
			j.Tasks = append(j.Tasks, &Task{})
			j.Meta = map[string]string{"bacalhau.org/x": ""}
		}, []string{
			"job state is ignored when submitting a job",
			"job revision is ignored when submitting a job",
			"job version is ignored when submitting a job",
			"job create time is ignored when submitting a job",
			"job modify time is ignored when submitting a job",
			"job ID is ignored when submitting a batch job",
			"only one task is supported per job",
			`job meta key "bacalhau.org/x" is reserved and will be ignored`,
		}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			j := validJob()
			tc.mutate(j)
			got := j.SanitizeSubmission()
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("warnings:\n%q\nwant:\n%q", got, tc.want)
			}
			if tc.check != nil {
				tc.check(t, j)
			}
			if again := j.SanitizeSubmission(); again != nil {
				t.Errorf("second pass still warns: %q", again)
			}
		})
	}
	var nilJob *Job
	if w := nilJob.SanitizeSubmission(); w != nil {
		t.Errorf("nil job warnings: %q", w)
	}
}

func TestApplyDefaults(t *testing.T) {
	defaults := JobDefaults{ExecutionTimeout: 600, QueueTimeout: 60}
	cases := []struct {
		name    string
		jobType string
		in      *TimeoutConfig
		want    TimeoutConfig
	}{
		{"batch unset", JobTypeBatch, &TimeoutConfig{}, TimeoutConfig{ExecutionTimeout: 600, QueueTimeout: 60}},
		{"batch nil timeouts", JobTypeBatch, nil, TimeoutConfig{ExecutionTimeout: 600, QueueTimeout: 60}},
		{"ops unset", JobTypeOps, &TimeoutConfig{}, TimeoutConfig{ExecutionTimeout: 600, QueueTimeout: 60}},
		{"own values kept", JobTypeBatch, &TimeoutConfig{ExecutionTimeout: 5, QueueTimeout: 7},
			TimeoutConfig{ExecutionTimeout: 5, QueueTimeout: 7}},
		{"service untouched", JobTypeService, &TimeoutConfig{}, TimeoutConfig{}},
		{"daemon untouched", JobTypeDaemon, &TimeoutConfig{}, TimeoutConfig{}},
		{"cut to the total", JobTypeBatch, &TimeoutConfig{TotalTimeout: 300},
			TimeoutConfig{ExecutionTimeout: 300, QueueTimeout: 0, TotalTimeout: 300}},
		{"queue gets what the total leaves", JobTypeBatch, &TimeoutConfig{ExecutionTimeout: 280, TotalTimeout: 300},
			TimeoutConfig{ExecutionTimeout: 280, QueueTimeout: 20, TotalTimeout: 300}},
		{"large total", JobTypeBatch, &TimeoutConfig{TotalTimeout: 3600},
			TimeoutConfig{ExecutionTimeout: 600, QueueTimeout: 60, TotalTimeout: 3600}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			j := validJob()
			j.Type = tc.jobType
			task(j).Timeouts = tc.in
			j.ApplyDefaults(defaults)
			var got TimeoutConfig
			if task(j).Timeouts != nil {
				got = *task(j).Timeouts
			}
			if got != tc.want {
				t.Fatalf("timeouts %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestApplyDefaultsName(t *testing.T) {
	j := validJob()
	j.Name, j.ID = "", "j-1"
	j.ApplyDefaults(JobDefaults{})
	if j.Name != "j-1" {
		t.Errorf("name %q, want the ID", j.Name)
	}
	j.Name = "kept"
	j.ApplyDefaults(JobDefaults{})
	if j.Name != "kept" {
		t.Errorf("name %q, want kept", j.Name)
	}
	var nilJob *Job
	nilJob.ApplyDefaults(JobDefaults{}) // must not panic
}

// The whole pipeline a server runs leaves a job Validate accepts.
func TestSubmissionPipeline(t *testing.T) {
	j := validJob()
	j.Name = ""
	j.CreateTime = 5
	j.Meta = map[string]string{"bacalhau.org/requester.id": "spoof"}
	task(j).Timeouts = &TimeoutConfig{TotalTimeout: 100}
	j.Normalize()
	if err := j.ValidateSubmission(); err != nil {
		t.Fatal(err)
	}
	if w := j.SanitizeSubmission(); len(w) != 2 {
		t.Fatalf("warnings %q", w)
	}
	j.ID = NewJobID()
	j.ApplyDefaults(JobDefaults{ExecutionTimeout: 1800, QueueTimeout: 600})
	if err := j.Validate(); err != nil {
		t.Fatal(err)
	}
}
