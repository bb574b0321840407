package compute

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/shoal-io/shoal/api"
)

// serveLogs streams an execution's output as NDJSON api.ExecutionLog
// records, in the order the task wrote them.
//
// follow=true keeps the stream open until the execution ends or the client
// goes away. tail=true skips what was already written and sends only new
// output (upstream's meaning of Tail); the default sends it from the start.
func (n *Node) serveLogs(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	follow, err := boolParam(r, "follow")
	if err == nil {
		var tail bool
		tail, err = boolParam(r, "tail")
		if err == nil {
			err = n.streamLogs(r.Context(), w, id, follow, tail)
		}
	}
	if err != nil {
		if errors.Is(err, errStreamStarted) {
			return
		}
		writeError(w, err)
	}
}

// errStreamStarted marks a failure after the answer began: nothing more can
// be said to the client.
var errStreamStarted = errors.New("log stream already started")

// logSource is what the logs endpoint reads: the log file and, while the
// execution runs, its live capture and end signal.
type logSource struct {
	known    bool
	finished bool
	capture  *outputCapture  // nil: no live output (not started, noop, or over)
	done     <-chan struct{} // nil unless running
}

func (n *Node) logSource(id string) logSource {
	n.execs.mu.Lock()
	defer n.execs.mu.Unlock()
	e := n.execs.m[id]
	if e == nil {
		return logSource{}
	}
	src := logSource{known: true, finished: e.phase == phaseFinished}
	if e.phase == phaseRunning {
		src.capture, src.done = e.output, e.done
	}
	return src
}

// captureStartPoll is how often a follower of a run that has just started
// looks for its output capture to appear.
const captureStartPoll = 100 * time.Millisecond

func (n *Node) streamLogs(ctx context.Context, w http.ResponseWriter, id string, follow, tail bool) error {
	if !validID(id) {
		return api.NotFoundf("ComputeNode", "no execution %q on this node", id)
	}
	path := filepath.Join(n.execDir(id), logFile)
	src := n.logSource(id)
	if _, err := os.Stat(path); err != nil && !src.known {
		return api.NotFoundf("ComputeNode", "no logs for execution %s on this node", id)
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)

	var offset int64
	if tail {
		if src.capture != nil {
			offset, _, _ = src.capture.watch()
		} else if info, err := os.Stat(path); err == nil {
			offset = info.Size()
		}
	}
	// An execution that is known here but has not started yet (waiting for
	// approval, fetching inputs) is followed until it runs and ends.
	ended := !src.known || src.finished
	for {
		// Take the change signal before reading, so output written after
		// the read still wakes us.
		var changed <-chan struct{}
		closed := false
		if src.capture != nil {
			_, changed, closed = src.capture.watch()
		}
		next, err := copyLines(w, path, offset)
		if err != nil {
			return errStreamStarted
		}
		offset = next
		_ = rc.Flush()
		if !follow || ended || closed {
			return nil
		}
		var poll <-chan time.Time
		var timer *time.Timer
		if src.capture == nil {
			timer = time.NewTimer(captureStartPoll)
			poll = timer.C
		}
		select {
		case <-ctx.Done():
			return nil
		case <-changed:
		case <-src.done:
			ended = true // one last read
		case <-poll:
			fresh := n.logSource(id)
			switch {
			case fresh.capture != nil:
				src.capture, src.done = fresh.capture, fresh.done
			case !fresh.known || fresh.finished:
				ended = true // one last read
			}
		}
		if timer != nil {
			timer.Stop()
		}
	}
}

// copyLines copies the complete lines of f from offset and returns the
// offset after the last one copied.
func copyLines(w io.Writer, path string, offset int64) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return offset, nil // no output yet
	}
	defer f.Close()
	br := bufio.NewReaderSize(io.NewSectionReader(f, offset, 1<<62), 64<<10)
	for {
		line, err := br.ReadBytes('\n')
		if len(line) > 0 && line[len(line)-1] == '\n' {
			if _, werr := w.Write(line); werr != nil {
				return offset, werr
			}
			offset += int64(len(line))
		}
		if err != nil {
			// EOF, possibly after a line still being written: it is
			// read again next time.
			return offset, nil
		}
	}
}
