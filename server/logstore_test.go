package server

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/raft"
)

func TestCheckLogStore(t *testing.T) {
	tests := []struct {
		name    string
		marker  string // "" means no marker file
		raftDB  bool
		want    string // "" means the folder's store
		got     string
		wantErr string
	}{
		{name: "fresh folder, default", got: DefaultLogStore},
		{name: "fresh folder, wal", want: LogStoreWAL, got: LogStoreWAL},
		{name: "fresh folder, bolt", want: LogStoreBolt, got: LogStoreBolt},
		{name: "same store", marker: LogStoreWAL, raftDB: true, want: LogStoreWAL, got: LogStoreWAL},
		{name: "folder's store by default", marker: LogStoreBolt, raftDB: true, got: LogStoreBolt},
		{name: "wal folder opened with bolt", marker: LogStoreWAL, raftDB: true, want: LogStoreBolt, wantErr: "written with --raft-log-store wal, not bolt"},
		{name: "bolt folder opened with wal", marker: LogStoreBolt, raftDB: true, want: LogStoreWAL, wantErr: "written with --raft-log-store bolt, not wal"},
		{name: "folder from before the option, default", raftDB: true, got: LogStoreBolt},
		{name: "folder from before the option, bolt", raftDB: true, want: LogStoreBolt, got: LogStoreBolt},
		{name: "folder from before the option, wal", raftDB: true, want: LogStoreWAL, wantErr: "written with --raft-log-store bolt, not wal"},
		{name: "unknown marker", marker: "lsm", wantErr: "unknown Raft log store"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if tt.marker != "" {
				if err := os.WriteFile(filepath.Join(dir, logStoreMarker), []byte(tt.marker+"\n"), 0o640); err != nil {
					t.Fatal(err)
				}
			}
			if tt.raftDB {
				if err := os.WriteFile(filepath.Join(dir, "raft.db"), nil, 0o640); err != nil {
					t.Fatal(err)
				}
			}
			got, err := checkLogStore(dir, tt.want)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("checkLogStore = %v, want an error containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("checkLogStore: %v", err)
			}
			if got != tt.got {
				t.Fatalf("checkLogStore = %q, want %q", got, tt.got)
			}
			data, err := os.ReadFile(filepath.Join(dir, logStoreMarker))
			if err != nil || strings.TrimSpace(string(data)) != tt.got {
				t.Fatalf("marker = %q, %v; want %q", data, err, tt.got)
			}
		})
	}
}

// A log entry before the first index is gone, even while raft-wal still
// holds it in its open segment: a leader must send its snapshot to a replica
// that needs it, not replay its log from the start.
func TestWALTruncatedHeadIsNotFound(t *testing.T) {
	ls, err := openLogStore(t.TempDir(), LogStoreWAL, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ls.Close()
	var logs []*raft.Log
	for i := uint64(1); i <= 10; i++ {
		logs = append(logs, &raft.Log{Index: i, Term: 1, Type: raft.LogCommand, Data: []byte{byte(i)}})
	}
	if err := ls.StoreLogs(logs); err != nil {
		t.Fatal(err)
	}
	if err := ls.DeleteRange(1, 5); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		index   uint64
		wantErr error
	}{
		{1, raft.ErrLogNotFound},
		{5, raft.ErrLogNotFound},
		{6, nil},
		{10, nil},
		{11, raft.ErrLogNotFound},
	}
	for _, tt := range tests {
		var l raft.Log
		err := ls.GetLog(tt.index, &l)
		if !errors.Is(err, tt.wantErr) {
			t.Errorf("GetLog(%d) = %v, want %v", tt.index, err, tt.wantErr)
		}
		if err == nil && (l.Index != tt.index || l.Data[0] != byte(tt.index)) {
			t.Errorf("GetLog(%d) read entry %d %v", tt.index, l.Index, l.Data)
		}
	}
}
