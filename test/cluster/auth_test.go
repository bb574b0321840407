package cluster_test

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/shoal-io/shoal/test/testcluster"
)

// upstream's CLI (v1.2) will not talk to a server without its authentication
// handshake. This client does what that CLI does (reference §12): read the
// methods, sign the clientkey challenge with its RSA key (PKCS#1 v1.5 over
// SHA-256), trade the signature for a token, and call the API with it — on a
// different replica than the one that gave out the challenge.
func TestUpstreamClientKeyHandshake(t *testing.T) {
	skipShort(t)
	c := testcluster.Start(t, testcluster.Options{Replicas: 3})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	replicas := c.Running()

	r, err := replicas[0].Get(ctx, "/api/v1/auth")
	if err != nil || r.Status != http.StatusOK {
		t.Fatalf("GET /api/v1/auth: %v %+v", err, r)
	}
	var methods struct {
		Methods map[string]struct {
			Type   string `json:"type"`
			Params struct {
				InputPhrase []byte `json:"InputPhrase"`
			} `json:"params"`
		} `json:"Methods"`
	}
	if err := r.Decode(&methods); err != nil {
		t.Fatal(err)
	}
	m, ok := methods.Methods["clientkey"]
	if !ok || m.Type != "challenge" || len(m.Params.InputPhrase) == 0 {
		t.Fatalf("methods %s", r.Body)
	}

	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	digest := sha256.Sum256(m.Params.InputPhrase)
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	proof, _ := json.Marshal(map[string][]byte{"PhraseSignature": sig, "PublicKey": x509.MarshalPKCS1PublicKey(&key.PublicKey)})
	// MethodData is a byte slice, so it travels base64-encoded.
	body, _ := json.Marshal(map[string]any{"Name": "clientkey", "MethodData": proof})
	r, err = replicas[1].Do(ctx, http.MethodPost, "/api/v1/auth/clientkey", body)
	if err != nil || r.Status != http.StatusOK {
		t.Fatalf("POST /api/v1/auth/clientkey: %v %+v", err, r)
	}
	var answer struct {
		Authentication struct {
			Success bool   `json:"success"`
			Token   string `json:"token"`
		} `json:"Authentication"`
	}
	if err := r.Decode(&answer); err != nil || !answer.Authentication.Success || answer.Authentication.Token == "" {
		t.Fatalf("authentication answer %s (%v)", r.Body, err)
	}

	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, replicas[2].URL()+"/api/v1/orchestrator/jobs", nil)
	req.Header.Set("Authorization", "Bearer "+answer.Authentication.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("list jobs with the token: %d", resp.StatusCode)
	}

	// A signature of something else is refused with upstream's shape.
	bad, _ := json.Marshal(map[string]any{"Name": "clientkey", "MethodData": []byte(`{"PhraseSignature":"AAAA","PublicKey":"AAAA"}`)})
	r, err = replicas[0].Do(ctx, http.MethodPost, "/api/v1/auth/clientkey", bad)
	if err != nil || r.Status != http.StatusUnauthorized {
		t.Fatalf("bad proof answered %v %+v, want 401", err, r)
	}
	if err := r.Decode(&answer); err != nil || answer.Authentication.Success {
		t.Fatalf("bad proof answer %s", r.Body)
	}
}
