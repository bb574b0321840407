package auth

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"strings"

	"github.com/google/uuid"
)

// NewSecret returns a new random secret ID (a UUID, 122 random bits, as
// Nomad's). The leader makes it; only its hash enters the replicated state.
func NewSecret() string { return uuid.NewString() }

// NewAccessor returns a new public token ID.
func NewAccessor() string { return uuid.NewString() }

// HashSecret is the SHA-256 (hex) of a secret: what the state keeps and
// looks tokens up by. A snapshot therefore never holds a usable secret.
func HashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// EqualHash compares two hashes in constant time.
func EqualHash(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// AccessTokenParam is the query parameter a browser's websocket upgrade may
// carry the secret in, as it cannot set headers.
const AccessTokenParam = "access_token"

// BearerToken returns the secret a request carries: "Authorization: Bearer
// <secret>", or, on websocket upgrades only, ?access_token=. Query
// parameters end up in logs and browser histories, so no other request may
// use them.
func BearerToken(r *http.Request) string {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, rest, ok := strings.Cut(h, " ")
		if ok && strings.EqualFold(scheme, "Bearer") {
			return strings.TrimSpace(rest)
		}
		return ""
	}
	if IsWebsocketUpgrade(r) {
		return r.URL.Query().Get(AccessTokenParam)
	}
	return ""
}

// IsWebsocketUpgrade reports whether r asks to become a websocket.
func IsWebsocketUpgrade(r *http.Request) bool {
	return r.Method == http.MethodGet && strings.EqualFold(r.Header.Get("Upgrade"), "websocket")
}
