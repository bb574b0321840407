package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shoal-io/shoal/api"
)

func TestParseJobSpec(t *testing.T) {
	const bareYAML = `Name: hello
Type: batch
Count: 2
Tasks:
  - Name: main
    Engine: {Type: docker, Params: {Image: "ubuntu:22.04", Parameters: [echo, hi]}}
    Timeouts: {ExecutionTimeout: 60}
`
	const wrappedYAML = `Job:
  Name: hello
  Type: batch
  Count: 2
  Tasks:
    - Name: main
      Engine: {Type: docker, Params: {Image: "ubuntu:22.04", Parameters: [echo, hi]}}
      Timeouts: {ExecutionTimeout: 60}
`
	const bareJSON = `{"Name":"hello","Type":"batch","Count":2,"Tasks":[{"Name":"main",
  "Engine":{"Type":"docker","Params":{"Image":"ubuntu:22.04","Parameters":["echo","hi"]}},"Timeouts":{"ExecutionTimeout":60}}]}`
	const wrappedJSON = `{"Job":` + bareJSON + `,"IdempotencyToken":"t"}`
	const lowercase = `name: hello
type: batch
count: 2
tasks:
  - name: main
    engine: {type: docker, params: {Image: "ubuntu:22.04", Parameters: [echo, hi]}}
    timeouts: {executiontimeout: 60}
`
	for name, spec := range map[string]string{
		"bare YAML": bareYAML, "wrapped YAML": wrappedYAML, "bare JSON": bareJSON, "wrapped JSON": wrappedJSON,
		"field names in any case": lowercase,
	} {
		t.Run(name, func(t *testing.T) {
			job, err := parseJobSpec([]byte(spec), "job.yaml")
			if err != nil {
				t.Fatal(err)
			}
			task := job.Task()
			if job.Name != "hello" || job.Type != "batch" || job.Count != 2 || task == nil || task.Name != "main" ||
				task.Engine.Type != "docker" || task.Engine.Params["Image"] != "ubuntu:22.04" ||
				task.Timeouts == nil || task.Timeouts.ExecutionTimeout != 60 {
				t.Errorf("parsed %+v", job)
			}
			if err := prepareJob(job); err != nil {
				t.Errorf("a valid spec was refused: %v", err)
			}
		})
	}
}

func TestParseJobSpecRefusals(t *testing.T) {
	cases := []struct {
		name, spec, want string
	}{
		{"empty", "  \n", "invalid job spec job.yaml: it is empty"},
		{"not YAML", "Type: [batch\n", "invalid job spec job.yaml: not valid YAML or JSON: yaml: line 1: did not find expected ',' or ']'"},
		{"a list", "- Type: batch\n", "invalid job spec job.yaml: want an object: a job (Type, Tasks, …) or {Job: …}"},
		{"a scalar", "hello\n", "invalid job spec job.yaml: want an object: a job (Type, Tasks, …) or {Job: …}"},
		{"a typo", "Type: batch\nTaks: []\n", `invalid job spec job.yaml: unknown field "Taks"`},
		{"a typo in a task", "Type: batch\nTasks: [{Name: main, Engin: {Type: noop}}]\n", `invalid job spec job.yaml: unknown field "Engin"`},
		{"wrong type", "Type: batch\nCount: two\n", "invalid job spec job.yaml: Count: want a number, not string"},
		{"wrong type deep", "Type: batch\nTasks: [{Name: main, Timeouts: {ExecutionTimeout: soon}}]\n",
			"invalid job spec job.yaml: Tasks.Timeouts.ExecutionTimeout: want a number, not string"},
		{"a list for a map", "Type: batch\nLabels: [a, b]\n", "invalid job spec job.yaml: Labels: want an object, not array"},
		{"unknown network", "Type: batch\nTasks: [{Name: main, Network: {Type: wifi}}]\n",
			`invalid job spec job.yaml: invalid network type "wifi": want None, Full or HTTP`},
		{"null job", "Job: null\n", "invalid job spec job.yaml: the job is empty"},
		{"unknown wrapper field", "Job: {Type: batch}\nToken: x\n", `invalid job spec job.yaml: unknown field "Token"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := parseJobSpec([]byte(c.spec), "job.yaml")
			var usage *usageErr
			if !errors.As(err, &usage) {
				t.Fatalf("got %v, want an input error", err)
			}
			if err.Error() != c.want {
				t.Errorf("got  %q\nwant %q", err, c.want)
			}
		})
	}
}

func TestPrepareJobListsEveryProblem(t *testing.T) {
	job, err := parseJobSpec([]byte("Type: batchy\nCount: -1\n"), "job.yaml")
	if err != nil {
		t.Fatal(err)
	}
	err = prepareJob(job)
	if !errors.Is(err, api.ErrBadRequest) || exitCodeOf(err) != exitUsage {
		t.Fatalf("got %v, want a bad request (exit code 2)", err)
	}
	for _, want := range []string{`invalid job type: "batchy"`, "job count must be >= 0", "missing job tasks"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q lacks %q", err, want)
		}
	}
}

func TestReadJobSpec(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "job.json")
	if err := os.WriteFile(p, []byte(`{"Type":"batch"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if job, err := readJobSpec(p, nil); err != nil || job.Type != "batch" {
		t.Errorf("file: %+v, %v", job, err)
	}
	if job, err := readJobSpec("-", strings.NewReader("Type: ops\n")); err != nil || job.Type != "ops" {
		t.Errorf("stdin: %+v, %v", job, err)
	}
	_, err := readJobSpec(filepath.Join(dir, "missing.yaml"), nil)
	if exitCodeOf(err) != exitUsage || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("missing file: %v", err)
	}
}
