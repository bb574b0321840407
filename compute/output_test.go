package compute

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/shoal-io/shoal/api"
)

func TestRunOutputTruncation(t *testing.T) {
	tests := []struct {
		name          string
		limit         int
		writes        []string
		wantKept      string
		wantTruncated bool
	}{
		{name: "under the limit", limit: 10, writes: []string{"hello"}, wantKept: "hello"},
		{name: "exactly the limit", limit: 5, writes: []string{"hel", "lo"}, wantKept: "hello"},
		{name: "over the limit in one write", limit: 5, writes: []string{"hello world"}, wantKept: "hello", wantTruncated: true},
		{name: "over the limit across writes", limit: 7, writes: []string{"hello", " world", "!"}, wantKept: "hello w", wantTruncated: true},
		{name: "cut inside a character", limit: 5, writes: []string{"aé€"}, wantKept: "aé", wantTruncated: true},
		{name: "cut after a whole character", limit: 6, writes: []string{"aé€x"}, wantKept: "aé€", wantTruncated: true},
		{name: "empty", limit: 5, writes: nil, wantKept: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			c, err := newOutputCapture(dir, tt.limit)
			if err != nil {
				t.Fatal(err)
			}
			full := ""
			for _, w := range tt.writes {
				if _, err := c.stdout.Write([]byte(w)); err != nil {
					t.Fatal(err)
				}
				if _, err := c.stderr.Write([]byte(w)); err != nil {
					t.Fatal(err)
				}
				full += w
			}
			out := c.close()
			if out.STDOUT != tt.wantKept || out.StdoutTruncated != tt.wantTruncated {
				t.Errorf("stdout = %q truncated %v, want %q %v", out.STDOUT, out.StdoutTruncated, tt.wantKept, tt.wantTruncated)
			}
			if out.STDERR != tt.wantKept || out.StderrTruncated != tt.wantTruncated {
				t.Errorf("stderr = %q truncated %v, want %q %v", out.STDERR, out.StderrTruncated, tt.wantKept, tt.wantTruncated)
			}
			for _, name := range []string{stdoutFile, stderrFile} {
				got, err := os.ReadFile(filepath.Join(dir, name))
				if err != nil || string(got) != full {
					t.Errorf("%s file = %q, %v; want the full %q", name, got, err, full)
				}
			}
		})
	}
}

func readLog(t *testing.T, dir string) []api.ExecutionLog {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, logFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []api.ExecutionLog
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var l api.ExecutionLog
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("log line %q: %v", sc.Text(), err)
		}
		out = append(out, l)
	}
	return out
}

func TestInterleavedLog(t *testing.T) {
	dir := t.TempDir()
	c, err := newOutputCapture(dir, 1024)
	if err != nil {
		t.Fatal(err)
	}
	write := func(s *streamCapture, text string) {
		if _, err := s.Write([]byte(text)); err != nil {
			t.Fatal(err)
		}
	}
	write(c.stdout, "a\nb")
	write(c.stderr, "err1\n")
	write(c.stdout, "c\nd\n")
	write(c.stderr, "no newline")
	write(c.stdout, strings.Repeat("x", maxPartialLine))
	c.close()
	// Writes after close are dropped, not failed.
	if n, err := c.stdout.Write([]byte("late\n")); err != nil || n != 5 {
		t.Fatalf("write after close = %d, %v", n, err)
	}
	want := []api.ExecutionLog{
		{Type: api.LogTypeStdout, Line: "a\n"},
		{Type: api.LogTypeStderr, Line: "err1\n"},
		{Type: api.LogTypeStdout, Line: "bc\n"},
		{Type: api.LogTypeStdout, Line: "d\n"},
		{Type: api.LogTypeStdout, Line: strings.Repeat("x", maxPartialLine)},
		{Type: api.LogTypeStderr, Line: "no newline"},
	}
	if got := readLog(t, dir); !reflect.DeepEqual(got, want) {
		t.Fatalf("log =\n%s\nwant\n%s", summarize(got), summarize(want))
	}
}

// summarize shows log records with long lines shortened.
func summarize(logs []api.ExecutionLog) string {
	var b strings.Builder
	for _, l := range logs {
		line := l.Line
		if len(line) > 40 {
			line = fmt.Sprintf("%s…(%d bytes)", line[:20], len(line))
		}
		fmt.Fprintf(&b, "  %d %q\n", l.Type, line)
	}
	return b.String()
}
