package compute

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"sync"
	"unicode/utf8"

	"github.com/shoal-io/shoal/api"
)

// File names of an execution's output in its working folder.
const (
	stdoutFile = "stdout"
	stderrFile = "stderr"
	// logFile interleaves both streams line by line, in the order the task
	// wrote them, as NDJSON api.ExecutionLog records: the logs endpoint
	// serves it as is.
	logFile = "output.ndjson"
)

// maxPartialLine bounds how much of a line without a newline is held before
// it is logged anyway.
const maxPartialLine = 64 << 10

// outputCapture records a task's stdout and stderr: in full to files, the
// first limit bytes of each in memory for RunOutput, and line by line into
// the interleaved log that followers are woken for.
type outputCapture struct {
	mu      sync.Mutex
	stdout  *streamCapture
	stderr  *streamCapture
	log     *os.File
	logSize int64
	changed chan struct{} // closed and replaced whenever the log grows
	closed  bool
	err     error // first write error; output after it is dropped
}

type streamCapture struct {
	parent    *outputCapture
	typ       int
	file      *os.File
	kept      []byte
	limit     int
	truncated bool
	partial   []byte
}

func newOutputCapture(dir string, limit int) (*outputCapture, error) {
	c := &outputCapture{changed: make(chan struct{})}
	var err error
	open := func(name string) *os.File {
		if err != nil {
			return nil
		}
		var f *os.File
		f, err = os.OpenFile(filepath.Join(dir, name), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
		return f
	}
	outF, errF, logF := open(stdoutFile), open(stderrFile), open(logFile)
	if err != nil {
		for _, f := range []*os.File{outF, errF, logF} {
			if f != nil {
				f.Close()
			}
		}
		return nil, err
	}
	c.stdout = &streamCapture{parent: c, typ: api.LogTypeStdout, file: outF, limit: limit}
	c.stderr = &streamCapture{parent: c, typ: api.LogTypeStderr, file: errF, limit: limit}
	c.log = logF
	return c, nil
}

// Write captures a chunk of one stream.
func (s *streamCapture) Write(p []byte) (int, error) {
	c := s.parent
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || c.err != nil {
		// The task must not fail because its output cannot be kept.
		return len(p), nil
	}
	if _, err := s.file.Write(p); err != nil {
		c.err = err
		return len(p), nil
	}
	s.keep(p)
	s.partial = append(s.partial, p...)
	for {
		i := bytes.IndexByte(s.partial, '\n')
		if i < 0 {
			break
		}
		c.appendLog(s.typ, s.partial[:i+1])
		s.partial = s.partial[i+1:]
	}
	if len(s.partial) >= maxPartialLine {
		c.appendLog(s.typ, s.partial)
		s.partial = s.partial[:0]
	}
	if len(s.partial) == 0 {
		s.partial = nil // let a big consumed buffer go
	}
	return len(p), nil
}

func (s *streamCapture) keep(p []byte) {
	room := s.limit - len(s.kept)
	if room >= len(p) {
		s.kept = append(s.kept, p...)
		return
	}
	s.truncated = true
	if room > 0 {
		s.kept = append(s.kept, p[:room]...)
	}
}

// text is the kept output, cut back to a whole UTF-8 character when the cut
// fell inside one.
func (s *streamCapture) text() string {
	b := s.kept
	if s.truncated {
		b = trimPartialRune(b)
	}
	return string(b)
}

func trimPartialRune(b []byte) []byte {
	for i := 1; i <= utf8.UTFMax && i <= len(b); i++ {
		start := len(b) - i
		if utf8.RuneStart(b[start]) {
			if !utf8.FullRune(b[start:]) {
				return b[:start]
			}
			return b
		}
	}
	return b
}

// appendLog writes one log record; c.mu is held.
func (c *outputCapture) appendLog(typ int, line []byte) {
	rec, err := json.Marshal(api.ExecutionLog{Type: typ, Line: string(line)})
	if err != nil {
		return
	}
	rec = append(rec, '\n')
	n, err := c.log.Write(rec)
	c.logSize += int64(n)
	if err != nil {
		c.err = err
	}
	close(c.changed)
	c.changed = make(chan struct{})
}

// watch returns the current size of the log and a channel closed when it
// grows or the capture closes.
func (c *outputCapture) watch() (int64, <-chan struct{}, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.logSize, c.changed, c.closed
}

// close flushes unfinished lines and closes the files; it returns the
// RunOutput with exitCode.
func (c *outputCapture) close() *api.RunCommandResult {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.closed {
		for _, s := range []*streamCapture{c.stdout, c.stderr} {
			if len(s.partial) > 0 && c.err == nil {
				c.appendLog(s.typ, s.partial)
			}
			s.partial = nil
			s.file.Close()
		}
		c.log.Close()
		c.closed = true
		close(c.changed)
	}
	return &api.RunCommandResult{
		STDOUT:          c.stdout.text(),
		StdoutTruncated: c.stdout.truncated,
		STDERR:          c.stderr.text(),
		StderrTruncated: c.stderr.truncated,
	}
}
