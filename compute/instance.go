package compute

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/uuid"
)

// instanceID names this node's data folder, created the first time and kept
// there: what the node leaves outside the folder (Docker containers) is
// labelled with it, so a restart finds its own leftovers and never another
// node's, even one with the same ID on the same Docker engine.
func instanceID(dataDir string) (string, error) {
	path := filepath.Join(dataDir, "instance-id")
	if b, err := os.ReadFile(path); err == nil {
		if id := strings.TrimSpace(string(b)); id != "" {
			return id, nil
		}
	}
	if err := os.MkdirAll(dataDir, 0o750); err != nil {
		return "", fmt.Errorf("compute node: data dir: %w", err)
	}
	id := uuid.NewString()
	if err := os.WriteFile(path, []byte(id+"\n"), 0o640); err != nil {
		return "", fmt.Errorf("compute node: save instance ID: %w", err)
	}
	return id, nil
}
