package compute

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestStartJournal(t *testing.T) {
	dir := t.TempDir()
	log := slog.New(slog.DiscardHandler)
	j, err := openJournal(dir, log)
	if err != nil {
		t.Fatal(err)
	}
	if started, known := j.startedBefore("e-1"); started || known {
		t.Fatalf("fresh journal: started %v known %v", started, known)
	}
	running := func() []string { return []string{"e-still-running"} }
	for i := range journalCompactAfter + 5 {
		j.record(fmt.Sprintf("e-%d", i), running)
	}
	j.close()
	data, err := os.ReadFile(filepath.Join(dir, journalFile))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Fields(string(data))
	if len(lines) != 6 || lines[0] != "e-still-running" || lines[5] != fmt.Sprintf("e-%d", journalCompactAfter+4) {
		t.Fatalf("compacted journal = %v", lines)
	}

	again, err := openJournal(dir, log)
	if err != nil {
		t.Fatal(err)
	}
	defer again.close()
	for id, want := range map[string]bool{"e-still-running": true, "e-10004": true, "e-0": false} {
		if started, known := again.startedBefore(id); started != want || !known {
			t.Errorf("startedBefore(%s) = %v, %v; want %v, true", id, started, known, want)
		}
	}
	again.reconciled()
	if started, known := again.startedBefore("e-10004"); started || !known {
		t.Errorf("after reconciling: started %v known %v", started, known)
	}
}
