package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shoal-io/shoal/api"
)

type tarEntry struct {
	name, body, link string
	typ              byte
}

func file(name, body string) tarEntry  { return tarEntry{name: name, body: body, typ: tar.TypeReg} }
func dir(name string) tarEntry         { return tarEntry{name: name, typ: tar.TypeDir} }
func symlink(name, to string) tarEntry { return tarEntry{name: name, link: to, typ: tar.TypeSymlink} }

func tarGz(t *testing.T, entries ...tarEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, e := range entries {
		hdr := &tar.Header{Name: e.name, Typeflag: e.typ, Mode: 0o644, Size: int64(len(e.body)), Linkname: e.link}
		if e.typ == tar.TypeDir {
			hdr.Mode = 0o755
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(e.body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestExtractTarGz(t *testing.T) {
	root := t.TempDir()
	dest := filepath.Join(root, "out")
	archive := tarGz(t, dir("./"), file("stdout", "hello\n"), file("exitCode", "0"), dir("outputs/"),
		file("outputs/a/b.txt", "deep"), symlink("latest", "outputs/a"), file("latest/c.txt", "via a link inside"))
	if err := extractTarGz(bytes.NewReader(archive), dest); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"stdout": "hello\n", "exitCode": "0", "outputs/a/b.txt": "deep",
		"outputs/a/c.txt": "via a link inside"} {
		got, err := os.ReadFile(filepath.Join(dest, name))
		if err != nil || string(got) != want {
			t.Errorf("%s: %q, %v; want %q", name, got, err, want)
		}
	}
}

func TestExtractTarGzRefusesTraversal(t *testing.T) {
	cases := []struct {
		name    string
		entries []tarEntry
	}{
		{"parent", []tarEntry{file("../evil", "x")}},
		{"parent inside a path", []tarEntry{file("outputs/../../evil", "x")}},
		{"absolute", []tarEntry{file("/tmp/evil", "x")}},
		{"link out", []tarEntry{symlink("link", "../../")}},
		{"absolute link", []tarEntry{symlink("etc", "/etc")}},
		{"link out through a folder", []tarEntry{symlink("outputs/up", "../..")}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			root := t.TempDir()
			dest := filepath.Join(root, "a", "b")
			err := extractTarGz(bytes.NewReader(tarGz(t, c.entries...)), dest)
			if !errors.Is(err, errUnsafeEntry) {
				t.Fatalf("got %v, want a refusal", err)
			}
			var outside []string
			_ = filepath.WalkDir(root, func(p string, _ os.DirEntry, _ error) error {
				if !strings.HasPrefix(p, dest) && p != root && p != filepath.Join(root, "a") {
					outside = append(outside, p)
				}
				return nil
			})
			if len(outside) > 0 {
				t.Errorf("wrote outside the output folder: %v", outside)
			}
		})
	}
	if err := extractTarGz(strings.NewReader("not gzip"), t.TempDir()); err == nil {
		t.Error("a body that is not gzip was accepted")
	}
}

// getAPI fakes a job with one published result (served by the fake too,
// as a compute node would), a failed execution and a noop one.
func getAPI(t *testing.T, archive []byte) *fakeAPI {
	t.Helper()
	f := newFakeAPI(t, map[string]http.HandlerFunc{
		"GET /api/v1/orchestrator/jobs/j-450196c5": ok(mustJSON(t, api.GetJobResponse{Job: fixJob(api.JobStateTypeCompleted, "")})),
		"GET /results/e-5b1c7b48.tar.gz": func(w http.ResponseWriter, _ *http.Request) {
			_, _ = w.Write(archive)
		},
	})
	published := fixExecution(fixExecID, api.ExecutionStateCompleted, at(8, 35, 2), nil)
	published.PublishedResult = &api.SpecConfig{Type: "urlDownload", Params: map[string]any{"URL": f.srv.URL + "/results/e-5b1c7b48.tar.gz"}}
	failed := fixExecution(fixExec2ID, api.ExecutionStateFailed, at(8, 35, 1), nil)
	noop := fixExecution("e-00000000-1111-4111-8111-000000000000", api.ExecutionStateCompleted, at(8, 35, 3), nil)
	noop.PublishedResult = &api.SpecConfig{Type: ""}
	f.handle("GET /api/v1/orchestrator/jobs/"+fixJobID+"/executions", ok(mustJSON(t, api.ListJobExecutionsResponse{
		Executions: []*api.Execution{failed, published, noop}})))
	return f
}

func TestJobGetDownloadsEachResult(t *testing.T) {
	f := getAPI(t, tarGz(t, file("stdout", "hello\n"), file("outputs/x.txt", "result")))
	t.Chdir(t.TempDir())
	res := runCLI(t, f, "job", "get", "j-450196c5")
	if res.code != 0 {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	want := filepath.Join("job-j-450196c5", "e-5b1c7b48")
	if res.stdout != "Execution e-5b1c7b48: "+want+"\n" ||
		res.stderr != "Downloaded the results of 1 execution into job-j-450196c5\n" {
		t.Errorf("stdout %q stderr %q", res.stdout, res.stderr)
	}
	if got, err := os.ReadFile(filepath.Join(want, "outputs", "x.txt")); err != nil || string(got) != "result" {
		t.Errorf("outputs/x.txt: %q %v", got, err)
	}
	// Again into the same folder: refused rather than mixed.
	res = runCLI(t, f, "job", "get", "j-450196c5")
	if res.code != exitFailure || !strings.Contains(res.stderr, want+" already exists") {
		t.Errorf("second get: exit %d %q", res.code, res.stderr)
	}
}

func TestJobGetRaw(t *testing.T) {
	archive := tarGz(t, file("stdout", "hello\n"))
	f := getAPI(t, archive)
	out := filepath.Join(t.TempDir(), "res")
	res := runCLI(t, f, "job", "get", "j-450196c5", "--output-dir", out, "--raw")
	got, err := os.ReadFile(filepath.Join(out, "e-5b1c7b48.tar.gz"))
	if res.code != 0 || err != nil || !bytes.Equal(got, archive) {
		t.Errorf("exit %d %s; archive %v", res.code, res.stderr, err)
	}
}

func TestJobGetRefusesTraversal(t *testing.T) {
	f := getAPI(t, tarGz(t, file("../../escaped", "x")))
	root := t.TempDir()
	out := filepath.Join(root, "res")
	res := runCLI(t, f, "job", "get", "j-450196c5", "--output-dir", out)
	want := `Error: results of execution e-5b1c7b48: unsafe path in results archive: "../../escaped" leads out of the output folder`
	if res.code != exitFailure || lastLine(res.stderr) != want {
		t.Errorf("exit %d %q\nwant %q", res.code, lastLine(res.stderr), want)
	}
	if _, err := os.Stat(filepath.Join(root, "escaped")); err == nil {
		t.Error("the entry escaped")
	}
}

func TestJobGetWithoutResults(t *testing.T) {
	f := newFakeAPI(t, map[string]http.HandlerFunc{
		"GET /api/v1/orchestrator/jobs/j-450196c5": ok(mustJSON(t, api.GetJobResponse{Job: fixJob(api.JobStateTypeCompleted, "")})),
		"GET /api/v1/orchestrator/jobs/" + fixJobID + "/executions": ok(mustJSON(t, api.ListJobExecutionsResponse{
			Executions: []*api.Execution{fixExecution(fixExecID, api.ExecutionStateCompleted, at(8, 35, 2), nil)}})),
	})
	res := runCLI(t, f, "job", "get", "j-450196c5", "--output-dir", t.TempDir())
	want := "Error: job " + fixJobID + " published no results: only a job with a publisher (such as -p local) has results to download"
	if res.code != exitFailure || lastLine(res.stderr) != want {
		t.Errorf("exit %d %q", res.code, res.stderr)
	}
}

// A compute node out of reach from the CLI (on the cluster's private
// network) is relayed by the replica.
func TestJobGetRelaysThroughTheAPI(t *testing.T) {
	archive := tarGz(t, file("outputs/x.txt", "relayed"))
	f := newFakeAPI(t, map[string]http.HandlerFunc{
		"GET /api/v1/orchestrator/jobs/j-450196c5": ok(mustJSON(t, api.GetJobResponse{Job: fixJob(api.JobStateTypeCompleted, "")})),
		"GET /api/v1/orchestrator/jobs/" + fixJobID + "/executions/" + fixExecID + "/result": func(w http.ResponseWriter, _ *http.Request) {
			_, _ = w.Write(archive)
		},
	})
	published := fixExecution(fixExecID, api.ExecutionStateCompleted, at(8, 35, 2), nil)
	// Port 1 refuses connections: the node cannot be reached from here.
	published.PublishedResult = &api.SpecConfig{Type: "urlDownload", Params: map[string]any{"URL": "http://127.0.0.1:1/results/e-5b1c7b48.tar.gz"}}
	f.handle("GET /api/v1/orchestrator/jobs/"+fixJobID+"/executions", ok(mustJSON(t, api.ListJobExecutionsResponse{
		Executions: []*api.Execution{published}})))
	out := t.TempDir()
	res := runCLI(t, f, "job", "get", "j-450196c5", "--output-dir", out)
	if res.code != 0 {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	if got, err := os.ReadFile(filepath.Join(out, "e-5b1c7b48", "outputs", "x.txt")); err != nil || string(got) != "relayed" {
		t.Fatalf("outputs/x.txt: %q %v", got, err)
	}
}
