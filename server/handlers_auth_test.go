package server

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func signProof(t *testing.T, key *rsa.PrivateKey, phrase []byte, pub []byte) []byte {
	t.Helper()
	digest := sha256.Sum256(phrase)
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(clientKeyProof{PhraseSignature: sig, PublicKey: pub})
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestVerifyClientKey(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pub := x509.MarshalPKCS1PublicKey(&key.PublicKey)
	now := time.Date(2026, 11, 27, 12, 0, 30, 0, time.UTC)
	tests := []struct {
		name    string
		data    []byte
		wantErr string
	}{
		{"current phrase", signProof(t, key, challengePhrase(now), pub), ""},
		{"phrase handed out a minute ago", signProof(t, key, challengePhrase(now.Add(-time.Minute)), pub), ""},
		{"stale phrase", signProof(t, key, challengePhrase(now.Add(-time.Hour)), pub), "does not match"},
		{"signed by another key", signProof(t, other, challengePhrase(now), pub), "does not match"},
		{"not a public key", signProof(t, key, challengePhrase(now), []byte("junk")), "PKCS#1"},
		{"not JSON", []byte("{"), "not a clientkey proof"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			token, err := verifyClientKey(tt.data, now)
			if tt.wantErr == "" {
				if err != nil || !strings.HasPrefix(token, "shoal.") {
					t.Fatalf("token %q, err %v", token, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err %v, want it to mention %q", err, tt.wantErr)
			}
		})
	}
}
