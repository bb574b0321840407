package server

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
	wal "github.com/hashicorp/raft-wal"
	walmetrics "github.com/hashicorp/raft-wal/metrics"
)

// Raft log stores a replica can keep its log in (--raft-log-store). The
// stable store (current term, vote) is raft-boltdb's raft.db with either.
const (
	LogStoreBolt = "bolt"
	LogStoreWAL  = "wal"
	// DefaultLogStore is what a new data folder gets when no store is
	// asked for: raft-wal writes the log with about half the CPU of
	// raft-boltdb (see README, figures), and the fault tests pass on it.
	// A folder that already has a log keeps its store.
	DefaultLogStore = LogStoreWAL
)

// logStoreMarker names the file in the Raft folder that records which log
// store wrote the folder: the other store would find no log there and start
// the replica from nothing, so it must refuse the folder instead.
const logStoreMarker = "log-store"

// ValidLogStore reports whether name is a log store the replica can use.
func ValidLogStore(name string) bool { return name == LogStoreBolt || name == LogStoreWAL }

// logStore is a Raft log store the replica closes on shutdown.
type logStore interface {
	raft.LogStore
	io.Closer
}

// checkLogStore settles which log store dir uses and records it in a folder
// that has none. want is the store asked for, or "" to take the folder's
// (DefaultLogStore for a new folder). A folder with a raft.db and no marker
// predates the option and was written by bolt. Asking for the other store
// than the folder's is an error, never a fresh start.
func checkLogStore(dir, want string) (string, error) {
	marker := filepath.Join(dir, logStoreMarker)
	data, err := os.ReadFile(marker)
	have := ""
	switch {
	case err == nil:
		have = strings.TrimSpace(string(data))
		if !ValidLogStore(have) {
			return "", fmt.Errorf("%s names an unknown Raft log store %q", marker, have)
		}
	case !errors.Is(err, fs.ErrNotExist):
		return "", fmt.Errorf("read %s: %w", marker, err)
	default:
		if _, err := os.Stat(filepath.Join(dir, "raft.db")); err == nil {
			have = LogStoreBolt // written before the option existed
		}
	}
	switch {
	case have != "" && want != "" && have != want:
		return "", fmt.Errorf("the Raft folder %s was written with --raft-log-store %s, not %s: start this replica with --raft-log-store %s (a replica cannot switch log stores in place; to switch, remove it from the cluster and add it back with an empty data folder)",
			dir, have, want, have)
	case have == "" && want == "":
		have = DefaultLogStore
	case have == "":
		have = want
	}
	if err := writeFileSync(marker, []byte(have+"\n")); err != nil {
		return "", fmt.Errorf("record the Raft log store: %w", err)
	}
	return have, nil
}

// writeFileSync writes a small file and its folder entry durably, so the
// marker exists before any log entry does.
func writeFileSync(name string, data []byte) error {
	f, err := os.OpenFile(name, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o640)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	d, err := os.Open(filepath.Dir(name))
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// openLogStore opens the log store kind in dir; stable is raft.db, which
// bolt also uses for the log.
func openLogStore(dir, kind string, stable *raftboltdb.BoltStore) (logStore, error) {
	switch kind {
	case LogStoreBolt:
		return nopCloser{stable}, nil
	case LogStoreWAL:
		walDir := filepath.Join(dir, "wal")
		if err := os.MkdirAll(walDir, 0o750); err != nil {
			return nil, fmt.Errorf("create Raft WAL folder: %w", err)
		}
		w, err := wal.Open(walDir, wal.WithMetricsCollector(&walmetrics.NoOpCollector{}))
		if err != nil {
			return nil, fmt.Errorf("open Raft WAL in %s: %w", walDir, err)
		}
		return truncatedWAL{w}, nil
	default:
		return nil, fmt.Errorf("unknown Raft log store %q: use %s or %s", kind, LogStoreBolt, LogStoreWAL)
	}
}

// truncatedWAL answers raft.ErrLogNotFound for entries before the log's
// first index. raft-wal's head truncation is logical: an entry still in the
// open tail segment stays readable after DeleteRange. A leader asked for such
// an entry by a brand-new replica would then replicate its whole log from
// index 1 (minutes of replay at scale) instead of sending its snapshot.
type truncatedWAL struct{ *wal.WAL }

func (w truncatedWAL) GetLog(index uint64, l *raft.Log) error {
	first, err := w.FirstIndex()
	if err != nil {
		return err
	}
	if index < first {
		return raft.ErrLogNotFound
	}
	return w.WAL.GetLog(index, l)
}

// nopCloser is bolt's log store: raft.db is closed as the stable store.
type nopCloser struct{ *raftboltdb.BoltStore }

func (nopCloser) Close() error { return nil }
