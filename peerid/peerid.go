// Package peerid owns a node's libp2p identity: an Ed25519 key kept in the
// node's data folder, and the libp2p peer ID derived from it, which Shoal
// reports as NodeInfo.PeerInfo.ID so that tools built on libp2p (upstream
// Bacalhau's CLI parses that field as a peer ID) read it. The operator's
// --node-id stays the node's name everywhere else.
package peerid

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
)

// KeyFile is the key's file name in the data folder.
const KeyFile = "peer-key"

// LoadOrCreate returns the peer ID of the key in dir, creating the key (and
// dir) the first time. The same folder always gives the same ID.
func LoadOrCreate(dir string) (string, error) {
	path := filepath.Join(dir, KeyFile)
	data, err := os.ReadFile(path)
	switch {
	case err == nil:
		key, err := crypto.UnmarshalPrivateKey(data)
		if err != nil {
			return "", fmt.Errorf("peer key %s: %w", path, err)
		}
		return idOf(key)
	case !errors.Is(err, fs.ErrNotExist):
		return "", fmt.Errorf("read peer key: %w", err)
	}
	key, _, err := crypto.GenerateEd25519Key(rand.Reader)
	if err != nil {
		return "", fmt.Errorf("generate peer key: %w", err)
	}
	if data, err = crypto.MarshalPrivateKey(key); err != nil {
		return "", fmt.Errorf("encode peer key: %w", err)
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return "", fmt.Errorf("create %s: %w", dir, err)
	}
	// Written aside and renamed, so a crash never leaves half a key.
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return "", fmt.Errorf("write peer key: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return "", fmt.Errorf("write peer key: %w", err)
	}
	return idOf(key)
}

func idOf(key crypto.PrivKey) (string, error) {
	id, err := peer.IDFromPrivateKey(key)
	if err != nil {
		return "", fmt.Errorf("peer ID: %w", err)
	}
	return id.String(), nil
}

// Valid reports whether s parses as a libp2p peer ID.
func Valid(s string) bool {
	_, err := peer.Decode(s)
	return err == nil
}
