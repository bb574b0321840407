package server

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/shoal-io/shoal/api"
)

// Upstream's CLI refuses to talk to a server without its authentication
// handshake (reference §12): it asks GET /api/v1/auth for methods, signs the
// "clientkey" challenge with its RSA key and trades the signature for a
// token. Shoal serves that handshake and lets every verified key in, as
// upstream's default policy does; tokens and roles come later.

const (
	authMethodClientKey = "clientkey"
	// challengeWindow is how long a challenge phrase stays valid. The phrase
	// is derived from the time, so any replica can check a signature made
	// for a phrase another replica handed out.
	challengeWindow = time.Minute
	challengeSlack  = 5
)

type authRequirement struct {
	Type   string         `json:"type"`
	Params map[string]any `json:"params"`
}

type authMethodsResponse struct {
	NextToken string                     `json:"NextToken"`
	Methods   map[string]authRequirement `json:"Methods"`
}

type authRequest struct {
	Name       string `json:"Name"`
	MethodData []byte `json:"MethodData"`
}

type clientKeyProof struct {
	PhraseSignature []byte `json:"PhraseSignature"`
	PublicKey       []byte `json:"PublicKey"`
}

type authentication struct {
	Success bool   `json:"success"`
	Token   string `json:"token,omitempty"`
	Reason  string `json:"reason,omitempty"`
}

type authResponse struct {
	Authentication authentication `json:"Authentication"`
}

func challengePhrase(t time.Time) []byte {
	return []byte("shoal-clientkey-challenge:" + strconv.FormatInt(t.Unix()/int64(challengeWindow/time.Second), 10))
}

func clientKeyRequirement() authRequirement {
	return authRequirement{Type: "challenge", Params: map[string]any{"InputPhrase": challengePhrase(time.Now())}}
}

func (s *Server) handleAuthMethods(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.fsm.State().Index(), authMethodsResponse{Methods: map[string]authRequirement{authMethodClientKey: clientKeyRequirement()}})
}

func (s *Server) handleAuthMethod(w http.ResponseWriter, r *http.Request) {
	if chi.URLParam(r, "method") != authMethodClientKey {
		s.writeError(w, r, api.NotFoundf(api.ComponentAPI, "unknown authentication method %q: use %s", chi.URLParam(r, "method"), authMethodClientKey))
		return
	}
	writeJSON(w, http.StatusOK, s.fsm.State().Index(), clientKeyRequirement())
}

func (s *Server) handleAuthenticate(w http.ResponseWriter, r *http.Request) {
	if chi.URLParam(r, "method") != authMethodClientKey {
		s.writeError(w, r, api.NotFoundf(api.ComponentAPI, "unknown authentication method %q: use %s", chi.URLParam(r, "method"), authMethodClientKey))
		return
	}
	if s.cfg.ACL {
		// With ACLs on the token is real: the leader verifies the proof
		// itself and commits the token (handlers_acl_clientkey.go).
		s.leaderWrite(never, s.issueClientKeyToken).ServeHTTP(w, r)
		return
	}
	var req authRequest
	if err := decodeBody(r, &req, false); err != nil {
		s.writeError(w, r, err)
		return
	}
	token, err := verifyClientKey(req.MethodData, time.Now())
	if err != nil {
		writeJSON(w, http.StatusUnauthorized, s.fsm.State().Index(), authResponse{Authentication: authentication{Reason: err.Error()}})
		return
	}
	writeJSON(w, http.StatusOK, s.fsm.State().Index(), authResponse{Authentication: authentication{Success: true, Token: token}})
}

// verifyClientKey checks a PKCS#1 v1.5 SHA-256 signature of a recent
// challenge phrase and returns a token naming the key.
func verifyClientKey(methodData []byte, now time.Time) (string, error) {
	var proof clientKeyProof
	if err := json.Unmarshal(methodData, &proof); err != nil {
		return "", fmt.Errorf("MethodData is not a clientkey proof: %w", err)
	}
	key, err := x509.ParsePKCS1PublicKey(proof.PublicKey)
	if err != nil {
		return "", fmt.Errorf("PublicKey is not a PKCS#1 RSA public key: %w", err)
	}
	for i := range challengeSlack {
		digest := sha256.Sum256(challengePhrase(now.Add(-time.Duration(i) * challengeWindow)))
		if rsa.VerifyPKCS1v15(key, crypto.SHA256, digest[:], proof.PhraseSignature) == nil {
			fp := sha256.Sum256(proof.PublicKey)
			return "shoal." + hex.EncodeToString(fp[:16]) + "." + base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(now.Unix(), 10))), nil
		}
	}
	return "", fmt.Errorf("the signature does not match a current challenge phrase")
}
