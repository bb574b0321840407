package server

import "testing"

func TestSnapshotDue(t *testing.T) {
	tests := []struct {
		name       string
		limit, n   uint64
		quiet      bool
		wantReason string
	}{
		{"nothing applied", 65536, 0, true, ""},
		{"busy, under the limit", 65536, 65535, false, ""},
		{"busy, at the limit", 65536, 65536, false, "commands"},
		{"quiet, a little left", 65536, 8191, true, ""},
		{"quiet, an eighth left", 65536, 8192, true, "quiet"},
		{"quiet with a tiny limit still needs a command", 4, 0, true, ""},
		{"quiet with a tiny limit", 4, 1, true, "quiet"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reason, ok := snapshotDue(tt.limit, tt.n, tt.quiet)
			if ok != (tt.wantReason != "") || reason != tt.wantReason {
				t.Fatalf("snapshotDue(%d, %d, %v) = %q, %v; want %q", tt.limit, tt.n, tt.quiet, reason, ok, tt.wantReason)
			}
		})
	}
}
