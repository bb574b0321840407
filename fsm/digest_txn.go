package fsm

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
)

// Digest hashes this view's replicated content exactly as Store.Digest
// does. A view opened right after an entry is applied can be hashed later,
// off the apply path, and still names the state at that entry.
func (t *ReadTxn) Digest() (string, error) {
	h := sha256.New()
	if err := writeTables(h, t.txn, false); err != nil {
		return "", fmt.Errorf("digest: %w", err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
