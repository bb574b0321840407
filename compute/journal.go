package compute

import (
	"bufio"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// journalFile lists, one ID a line, the executions this node started. A
// restarted node reads it to tell work it was running (interrupted by the
// restart) from work placed on it that it never started.
const journalFile = "started.log"

// journalCompactAfter is how many starts the journal takes before it is
// rewritten with only the executions still running.
const journalCompactAfter = 10000

type startJournal struct {
	mu      sync.Mutex
	path    string
	f       *os.File
	written int
	log     *slog.Logger
	// previous holds what the last process started; existed says whether
	// there was a last process with this DataDir at all.
	previous map[string]bool
	existed  bool
}

func openJournal(dataDir string, log *slog.Logger) (*startJournal, error) {
	j := &startJournal{path: filepath.Join(dataDir, journalFile), log: log, previous: map[string]bool{}}
	f, err := os.Open(j.path)
	switch {
	case err == nil:
		j.existed = true
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if id := strings.TrimSpace(sc.Text()); id != "" {
				j.previous[id] = true
			}
		}
		f.Close()
		if err := sc.Err(); err != nil {
			return nil, err
		}
	case !errors.Is(err, fs.ErrNotExist):
		return nil, err
	}
	j.f, err = os.OpenFile(j.path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	return j, nil
}

// startedBefore reports whether the previous process started id, and
// whether it can know (false when there was no previous process here).
func (j *startJournal) startedBefore(id string) (started, known bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.previous[id], j.existed
}

// record notes that id starts. running lists what runs now, for when the
// journal is compacted.
func (j *startJournal) record(id string, running func() []string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.f == nil {
		return
	}
	if j.written >= journalCompactAfter {
		j.compact(running())
	}
	if _, err := j.f.WriteString(id + "\n"); err != nil {
		j.log.Warn("could not record a started execution", "execution", id, "err", err)
	}
	j.written++
}

// compact rewrites the journal with the running executions and those of
// the previous process not yet reconciled; j.mu is held.
func (j *startJournal) compact(running []string) {
	tmp := j.path + ".tmp"
	var b strings.Builder
	for id := range j.previous {
		b.WriteString(id + "\n")
	}
	for _, id := range running {
		b.WriteString(id + "\n")
	}
	err := os.WriteFile(tmp, []byte(b.String()), 0o644)
	if err == nil {
		err = os.Rename(tmp, j.path)
	}
	if err != nil {
		j.log.Warn("could not compact the start journal", "err", err)
		return
	}
	f, err := os.OpenFile(j.path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		j.log.Warn("could not reopen the start journal", "err", err)
		return
	}
	j.f.Close()
	j.f = f
	j.written = 0
}

// reconciled drops what the previous process started: the first listing
// after the restart has dealt with all of it.
func (j *startJournal) reconciled() {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.previous = map[string]bool{}
}

func (j *startJournal) close() {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.f != nil {
		j.f.Close()
		j.f = nil
	}
}
