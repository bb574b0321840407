package server

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
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
