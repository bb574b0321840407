package publisher_test

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/shoal-io/shoal/api"
	"github.com/shoal-io/shoal/compute/publisher"
)

// ReadTarball returns a tarball's entries: file name → content ("<dir>"
// for folders, "-> target" for symlinks).
func readTarball(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	out := map[string]string{}
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		switch hdr.Typeflag {
		case tar.TypeDir:
			out[hdr.Name] = "<dir>"
		case tar.TypeSymlink:
			out[hdr.Name] = "-> " + hdr.Linkname
		default:
			data, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			out[hdr.Name] = string(data)
		}
	}
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestLocalTarballLayout(t *testing.T) {
	work := t.TempDir()
	write(t, filepath.Join(work, "stdout"), "out\n")
	write(t, filepath.Join(work, "stderr"), "err\n")
	write(t, filepath.Join(work, "outputs/a.txt"), "A")
	write(t, filepath.Join(work, "outputs/sub/b.txt"), "B")
	write(t, filepath.Join(work, "logs/run.log"), "L")
	if err := os.Symlink("/etc/passwd", filepath.Join(work, "outputs/link")); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(work, "empty"), 0o755); err != nil {
		t.Fatal(err)
	}

	results := t.TempDir()
	l := &publisher.Local{Dir: results, BaseURL: "http://10.0.0.5:4234/"}
	got, err := l.Publish(context.Background(), &publisher.Request{
		ExecutionID: "e-1",
		ExitCode:    3,
		StdoutPath:  filepath.Join(work, "stdout"),
		StderrPath:  filepath.Join(work, "stderr"),
		Results: []publisher.ResultDir{
			{Name: "outputs", Dir: filepath.Join(work, "outputs")},
			{Name: "logs", Dir: filepath.Join(work, "logs")},
			{Name: "empty", Dir: filepath.Join(work, "empty")},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := &api.SpecConfig{Type: "urlDownload", Params: map[string]any{"URL": "http://10.0.0.5:4234/results/e-1.tar.gz"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("published = %+v, want %+v", got, want)
	}
	entries := readTarball(t, filepath.Join(results, "e-1.tar.gz"))
	wantEntries := map[string]string{
		"stdout":            "out\n",
		"stderr":            "err\n",
		"exitCode":          "3",
		"outputs/":          "<dir>",
		"outputs/a.txt":     "A",
		"outputs/sub/":      "<dir>",
		"outputs/sub/b.txt": "B",
		"outputs/link":      "-> /etc/passwd",
		"logs/":             "<dir>",
		"logs/run.log":      "L",
		"empty/":            "<dir>",
	}
	if !reflect.DeepEqual(entries, wantEntries) {
		t.Fatalf("tarball entries:\n got %v\nwant %v", entries, wantEntries)
	}
	leftovers, _ := filepath.Glob(filepath.Join(results, ".tarball-*"))
	if len(leftovers) != 0 {
		t.Fatalf("temporary files left: %v", leftovers)
	}
}

func TestTarballWithoutOutputFiles(t *testing.T) {
	dst := filepath.Join(t.TempDir(), "x.tar.gz")
	if err := publisher.WriteTarball(context.Background(), dst, &publisher.Request{ExecutionID: "x",
		StdoutPath: "/nonexistent/stdout"}); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"stdout": "", "stderr": "", "exitCode": "0"}
	if got := readTarball(t, dst); !reflect.DeepEqual(got, want) {
		t.Fatalf("entries = %v, want %v", got, want)
	}
}

func TestTarballMissingResultDir(t *testing.T) {
	dst := filepath.Join(t.TempDir(), "x.tar.gz")
	err := publisher.WriteTarball(context.Background(), dst, &publisher.Request{ExecutionID: "x",
		Results: []publisher.ResultDir{{Name: "outputs", Dir: "/nonexistent/outputs"}}})
	if err == nil {
		t.Fatal("no error for a missing result folder")
	}
	if _, statErr := os.Stat(dst); !os.IsNotExist(statErr) {
		t.Fatalf("a tarball was left after the failure: %v", statErr)
	}
}

func TestNoop(t *testing.T) {
	got, err := publisher.Noop{}.Publish(context.Background(), &publisher.Request{ExecutionID: "x"})
	if err != nil || !reflect.DeepEqual(got, &api.SpecConfig{Type: ""}) {
		t.Fatalf("noop published %+v, %v", got, err)
	}
}
