package main

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/shoal-io/shoal/api"
)

// submitted runs a submitting command against a fake API and returns the
// job it sent, as JSON values.
func submitted(t *testing.T, args ...string) (map[string]any, result) {
	t.Helper()
	f := newFakeAPI(t, map[string]http.HandlerFunc{putPath: ok(`{"JobID":"` + fixJobID + `"}`)})
	res := runCLI(t, f, args...)
	reqs := f.requests()
	if len(reqs) == 0 {
		return nil, res
	}
	var body struct{ Job map[string]any }
	if err := json.Unmarshal([]byte(reqs[0].Body), &body); err != nil {
		t.Fatal(err)
	}
	return body.Job, res
}

// asJSON is a job as the API would read it: normalized, then as JSON values.
func asJSON(t *testing.T, job *api.Job) map[string]any {
	t.Helper()
	job.Normalize()
	var m map[string]any
	if err := json.Unmarshal([]byte(mustJSON(t, job)), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func mustConstraints(t *testing.T, expr string) []*api.LabelSelectorRequirement {
	t.Helper()
	c, err := api.ParseConstraints(expr)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestDockerRunTranslatesEveryFlag(t *testing.T) {
	cases := []struct {
		name string
		args []string
		want func() *api.Job
	}{
		{"every flag", []string{
			"--name", "n", "--namespace", "team", "--priority", "5", "-l", "a=1", "--labels", "b=2", "--count", "3",
			"--target", "any", "--constraints", "region in (eu,us),arch=amd64", "--task-name", "t1",
			"-i", "url=https://example.com/d.csv:/inputs/d.csv", "-i", "inline=data:text/plain;base64,aGk=:/inputs/hi.txt",
			"--input", "file=/srv/data:/data:rw", "-o", "outputs:/outputs", "--output", "/logs", "-p", "local",
			"--cpu", "500m", "--memory", "1gb", "--disk", "10gb", "--gpu", "1", "--network", "http", "--domain", "example.com",
			"--timeout", "10m", "--queue-timeout", "30", "-w", "/work", "--entrypoint", "/bin/sh,-c",
			"-e", "A=1", "--env", "B=x=y", "--wait=false",
			"ubuntu:22.04", "--", "echo hi > /outputs/x",
		}, func() *api.Job {
			return &api.Job{Name: "n", Namespace: "team", Type: "batch", Priority: 5, Count: 3,
				Labels: map[string]string{"a": "1", "b": "2"}, Constraints: mustConstraints(t, "region in (eu,us),arch=amd64"),
				Tasks: []*api.Task{{
					Name: "t1",
					Engine: &api.SpecConfig{Type: "docker", Params: map[string]any{
						"Image": "ubuntu:22.04", "Parameters": []string{"echo hi > /outputs/x"}, "Entrypoint": []string{"/bin/sh", "-c"},
						"WorkingDirectory": "/work", "EnvironmentVariables": []string{"A=1", "B=x=y"}}},
					Publisher: &api.SpecConfig{Type: "local"},
					InputSources: []*api.InputSource{
						{Source: &api.SpecConfig{Type: "urlDownload", Params: map[string]any{"URL": "https://example.com/d.csv"}}, Target: "/inputs/d.csv"},
						{Source: &api.SpecConfig{Type: "inline", Params: map[string]any{"URL": "data:text/plain;base64,aGk="}}, Target: "/inputs/hi.txt"},
						{Source: &api.SpecConfig{Type: "localDirectory", Params: map[string]any{"SourcePath": "/srv/data", "ReadWrite": true}}, Target: "/data"},
					},
					ResultPaths: []*api.ResultPath{{Name: "outputs", Path: "/outputs"}, {Name: "logs", Path: "/logs"}},
					Resources:   &api.ResourcesConfig{CPU: "500m", Memory: "1gb", Disk: "10gb", GPU: "1"},
					Network:     &api.NetworkConfig{Type: api.NetworkHTTP, Domains: []string{"example.com"}},
					Timeouts:    &api.TimeoutConfig{ExecutionTimeout: 600, QueueTimeout: 30},
				}},
			}
		}},
		{"defaults; the command needs no --", []string{"--wait=false", "alpine", "ls", "-la"}, func() *api.Job {
			return &api.Job{Type: "batch", Count: 1, Tasks: []*api.Task{{
				Name:      "main",
				Engine:    &api.SpecConfig{Type: "docker", Params: map[string]any{"Image": "alpine", "Parameters": []string{"ls", "-la"}}},
				Resources: &api.ResourcesConfig{}, Network: &api.NetworkConfig{}, Timeouts: &api.TimeoutConfig{},
			}}}
		}},
		{"on every node, outputs published locally by default", []string{"--wait=false", "--target", "all", "--count", "4",
			"-o", "out:/out", "alpine"}, func() *api.Job {
			return &api.Job{Type: "ops", Count: 1, Tasks: []*api.Task{{
				Name:        "main",
				Engine:      &api.SpecConfig{Type: "docker", Params: map[string]any{"Image": "alpine"}},
				Publisher:   &api.SpecConfig{Type: "local"},
				ResultPaths: []*api.ResultPath{{Name: "out", Path: "/out"}},
				Resources:   &api.ResourcesConfig{}, Network: &api.NetworkConfig{}, Timeouts: &api.TimeoutConfig{},
			}}}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, res := submitted(t, append([]string{"docker", "run"}, c.args...)...)
			if res.code != 0 {
				t.Fatalf("exit %d: %s", res.code, res.stderr)
			}
			if want := asJSON(t, c.want()); !reflect.DeepEqual(got, want) {
				t.Errorf("sent\n%s\nwant\n%s", mustJSON(t, got), mustJSON(t, want))
			}
		})
	}
}

func TestDockerRunRefusesBadFlags(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--target", "some", "alpine"}, `invalid --target "some": want any (a batch job) or all (an ops job)`},
		{[]string{"--network", "wifi", "alpine"}, `invalid --network "wifi": want none, full or http`},
		{[]string{"-i", "ipfs://Qm", "alpine"}, `invalid --input "ipfs://Qm": want url=URL[:TARGET], inline=DATA-URL:TARGET or file=HOST-PATH[:TARGET][:rw]`},
		{[]string{"-i", "inline=data:,hi", "alpine"}, `invalid --input "inline=data:,hi": inline content needs a target: inline=data:,hi:/inputs/NAME`},
		{[]string{"-o", "outputs", "alpine"}, `invalid --output "outputs": want NAME:PATH with an absolute PATH, e.g. outputs:/outputs`},
		{[]string{"-p", "s3", "alpine"}, `invalid --publisher "s3": want noop or local`},
		{[]string{"-e", "NOVALUE", "alpine"}, `invalid --env "NOVALUE": want NAME=VALUE`},
		{[]string{"--timeout", "soon", "alpine"}, `invalid argument "soon" for "--timeout" flag: want seconds (600) or a duration (10m)`},
		{[]string{"--constraints", "region in eu", "alpine"}, `invalid --constraints: invalid constraints: "region in eu"`},
		{[]string{"--cpu", "lots", "alpine"}, `invalid job: task main validation failed: task resources validation failed: invalid CPU value: "lots"`},
		{[]string{}, `requires at least 1 arg(s), only received 0`},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			got, res := submitted(t, append([]string{"docker", "run", "--wait=false"}, c.args...)...)
			if got != nil {
				t.Error("a refused command sent a job")
			}
			if res.code != exitUsage || !strings.HasPrefix(lastLine(res.stderr), "Error: "+c.want) {
				t.Errorf("exit %d, %q\nwant %d, Error: %s…", res.code, lastLine(res.stderr), exitUsage, c.want)
			}
		})
	}
}

func TestParseInput(t *testing.T) {
	cases := []struct {
		in                 string
		typ, param, target string
		wantErr            bool
	}{
		{"url=https://example.com/a/data.csv", "urlDownload", "https://example.com/a/data.csv", "/inputs/data.csv", false},
		{"https://example.com:8443/data.csv:/in/d.csv", "urlDownload", "https://example.com:8443/data.csv", "/in/d.csv", false},
		{"URL=http://example.com/x?y=1:/x", "urlDownload", "http://example.com/x?y=1", "/x", false},
		{"url=https://example.com/", "", "", "", true},
		{"url=ftp://example.com/f:/f", "", "", "", true},
		{"data:text/plain;base64,aGk=:/hi.txt", "inline", "data:text/plain;base64,aGk=", "/hi.txt", false},
		{"inline=hello:/hi.txt", "", "", "", true},
		{"file=/srv/data", "localDirectory", "/srv/data", "/inputs/data", false},
		{"file:///srv/data:/data:ro", "localDirectory", "/srv/data", "/data", false},
		{"file=relative/path:/data", "", "", "", true},
		{"s3://bucket/key", "", "", "", true},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			src, err := parseInput(c.in)
			if c.wantErr {
				if err == nil || exitCodeOf(err) != exitUsage {
					t.Fatalf("got %+v, %v: want a usage error", src, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			param := src.Source.Params["URL"]
			if c.typ == "localDirectory" {
				param = src.Source.Params["SourcePath"]
			}
			if src.Source.Type != c.typ || param != c.param || src.Target != c.target {
				t.Errorf("got %s %v → %s, want %s %s → %s", src.Source.Type, param, src.Target, c.typ, c.param, c.target)
			}
		})
	}
}

func TestSecondsFlag(t *testing.T) {
	cases := []struct {
		in   string
		want int64
		bad  bool
	}{{"90", 90, false}, {"90s", 90, false}, {"10m", 600, false}, {"1.5s", 2, false}, {"-1", 0, true}, {"-1m", 0, true}, {"x", 0, true}}
	for _, c := range cases {
		var n int64
		err := secondsFlag{&n}.Set(c.in)
		if (err != nil) != c.bad || n != c.want {
			t.Errorf("%q: %d, %v; want %d, error %v", c.in, n, err, c.want, c.bad)
		}
	}
}

func TestWasmRunTranslatesFlags(t *testing.T) {
	module := filepath.Join(t.TempDir(), "hello.wasm")
	code := []byte("\x00asm\x01\x00\x00\x00")
	if err := os.WriteFile(module, code, 0o600); err != nil {
		t.Fatal(err)
	}
	inline := "data:application/wasm;base64," + base64.StdEncoding.EncodeToString(code)
	cases := []struct {
		name string
		args []string
		want func() *api.Job
	}{
		{"a local module goes inline", []string{"--entry-point", "run", "-e", "A=1", "-e", "B=2", "--cpu", "1",
			"--name", "w", "--wait=false", module, "--", "--verbose", "x"}, func() *api.Job {
			return &api.Job{Name: "w", Type: "batch", Count: 1, Tasks: []*api.Task{{
				Name: "main",
				Engine: &api.SpecConfig{Type: "wasm", Params: map[string]any{
					"EntryModule": &api.InputSource{Source: &api.SpecConfig{Type: "inline", Params: map[string]any{"URL": inline}},
						Target: "/hello.wasm"},
					"EntryPoint": "run", "Parameters": []string{"--verbose", "x"},
					"EnvironmentVariables": map[string]string{"A": "1", "B": "2"}}},
				Resources: &api.ResourcesConfig{CPU: "1"}, Network: &api.NetworkConfig{}, Timeouts: &api.TimeoutConfig{},
			}}}
		}},
		{"a URL module is downloaded by the node", []string{"--wait=false", "https://example.com/m/cli.wasm", "3", "4"}, func() *api.Job {
			return &api.Job{Type: "batch", Count: 1, Tasks: []*api.Task{{
				Name: "main",
				Engine: &api.SpecConfig{Type: "wasm", Params: map[string]any{
					"EntryModule": &api.InputSource{Source: &api.SpecConfig{Type: "urlDownload",
						Params: map[string]any{"URL": "https://example.com/m/cli.wasm"}}, Target: "/cli.wasm"},
					"EntryPoint": "_start", "Parameters": []string{"3", "4"}}},
				Resources: &api.ResourcesConfig{}, Network: &api.NetworkConfig{}, Timeouts: &api.TimeoutConfig{},
			}}}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, res := submitted(t, append([]string{"wasm", "run"}, c.args...)...)
			if res.code != 0 {
				t.Fatalf("exit %d: %s", res.code, res.stderr)
			}
			if want := asJSON(t, c.want()); !reflect.DeepEqual(got, want) {
				t.Errorf("sent\n%s\nwant\n%s", mustJSON(t, got), mustJSON(t, want))
			}
		})
	}
}

func TestWasmRunRefusesModules(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big.wasm")
	if err := os.WriteFile(big, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(big, maxInlineModule+1); err != nil {
		t.Fatal(err)
	}
	cases := []struct{ module, want string }{
		{big, "module " + big + " is 7.0 MB: too large to send inside the job (at most 7.0 MB); serve it over http(s) and give its URL"},
		{filepath.Join(dir, "missing.wasm"), "reading module: stat " + filepath.Join(dir, "missing.wasm") + ": no such file or directory"},
		{dir, "module " + dir + " is a folder, not a .wasm file"},
	}
	for _, c := range cases {
		got, res := submitted(t, "wasm", "run", "--wait=false", c.module)
		if got != nil || res.code != exitUsage || !strings.HasPrefix(lastLine(res.stderr), "Error: "+c.want) {
			t.Errorf("%s: exit %d, %q\nwant Error: %s", c.module, res.code, lastLine(res.stderr), c.want)
		}
	}
}
