package peerid

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadOrCreate(t *testing.T) {
	a, b := t.TempDir(), filepath.Join(t.TempDir(), "not", "yet")
	idA, err := LoadOrCreate(a)
	if err != nil {
		t.Fatal(err)
	}
	idB, err := LoadOrCreate(b)
	if err != nil {
		t.Fatal(err)
	}
	again, err := LoadOrCreate(a)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		ok   bool
	}{
		{"the same folder gives the same ID", again == idA},
		{"two folders give two IDs", idA != idB},
		{"an Ed25519 peer ID (identity multihash, base58)", strings.HasPrefix(idA, "12D3KooW")},
		{"it parses as a peer ID", Valid(idA) && Valid(idB)},
	}
	for _, tc := range tests {
		if !tc.ok {
			t.Errorf("%s: %s, %s, %s", tc.name, idA, again, idB)
		}
	}
	info, err := os.Stat(filepath.Join(a, KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v, want 0600", info.Mode().Perm())
	}
}

func TestLoadOrCreateRefusesABadKey(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, KeyFile), []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	if id, err := LoadOrCreate(dir); err == nil {
		t.Fatalf("a corrupt key gave ID %s; want an error rather than a new identity", id)
	}
}

func TestValid(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want bool
	}{
		{"QmaJkc6Y", false}, // a short form, not an ID
		{"QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N", true},
		{"12D3KooWGRUVh2HvBoSZ1vu4hTk5EdZy2nGDvEHkF1cBKPe6xYgk", true},
		{"n-69103e4e-0a44-40de-9fb9-68505030f538", false},
		{"", false},
	} {
		if got := Valid(tc.in); got != tc.want {
			t.Errorf("Valid(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}
