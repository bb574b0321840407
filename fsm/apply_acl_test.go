package fsm

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/shoal-io/shoal/api"
)

func hashOf(secret string) string {
	s := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(s[:])
}

func aclToken(accessor, role string, expires int64) *api.ACLToken {
	return &api.ACLToken{AccessorID: accessor, Name: accessor, Role: role, ExpirationTime: expires}
}

func TestACLBootstrapOnlyOnce(t *testing.T) {
	h := newHarness(t)
	res := ok[ACLTokenResult](h, &ACLBootstrapRequest{Token: aclToken("a-root", api.RoleManagement, 0), SecretHash: hashOf("s-root"), Now: h.now()})
	if res.Token.CreateTime == 0 || res.Token.CreateIndex != h.index {
		t.Fatalf("bootstrap token lacks create time/index: %+v", res.Token)
	}
	if done, err := h.txn().ACLBootstrapped(); err != nil || !done {
		t.Fatalf("ACLBootstrapped = %v, %v", done, err)
	}
	before := h.digest()
	r := h.apply(&ACLBootstrapRequest{Token: aclToken("a-other", api.RoleManagement, 0), SecretHash: hashOf("s-other"), Now: h.now()})
	if !errors.Is(r.Err, api.ErrConflict) {
		t.Fatalf("second bootstrap: %v, want a conflict", r.Err)
	}
	if h.digest() != before {
		t.Fatal("a refused bootstrap changed the state")
	}
	// Even with the first token revoked, the bootstrap stays spent.
	ok[ACLTokenResult](h, &ACLTokenDeleteRequest{AccessorID: "a-root", Now: h.now()})
	if r := h.apply(&ACLBootstrapRequest{Token: aclToken("a-3", api.RoleManagement, 0), SecretHash: hashOf("s-3"), Now: h.now()}); !errors.Is(r.Err, api.ErrConflict) {
		t.Fatalf("bootstrap after revoking the root token: %v, want a conflict", r.Err)
	}
}

func TestACLCommandsRefuseBadTokens(t *testing.T) {
	for _, tc := range []struct {
		name string
		cmd  func(h *harness) Command
		want error
	}{
		{"bootstrap not management", func(h *harness) Command {
			return &ACLBootstrapRequest{Token: aclToken("a", api.RoleRead, 0), SecretHash: hashOf("x"), Now: h.now()}
		}, api.ErrBadRequest},
		{"secret in state", func(h *harness) Command {
			tok := aclToken("a", api.RoleRead, 0)
			tok.SecretID = "plain"
			return &ACLTokenCreateRequest{Token: tok, SecretHash: hashOf("plain"), Now: h.now()}
		}, api.ErrBadRequest},
		{"no hash", func(h *harness) Command {
			return &ACLTokenCreateRequest{Token: aclToken("a", api.RoleRead, 0), Now: h.now()}
		}, api.ErrBadRequest},
		{"duplicate accessor", func(h *harness) Command {
			return &ACLTokenCreateRequest{Token: aclToken("a-1", api.RoleRead, 0), SecretHash: hashOf("new"), Now: h.now()}
		}, api.ErrConflict},
		{"duplicate secret", func(h *harness) Command {
			return &ACLTokenCreateRequest{Token: aclToken("a-new", api.RoleRead, 0), SecretHash: hashOf("s-1"), Now: h.now()}
		}, api.ErrConflict},
		{"revoke unknown", func(h *harness) Command {
			return &ACLTokenDeleteRequest{AccessorID: "nope", Now: h.now()}
		}, api.ErrNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			ok[ACLTokenResult](h, &ACLTokenCreateRequest{Token: aclToken("a-1", api.RoleRead, 0), SecretHash: hashOf("s-1"), Now: h.now()})
			before := h.digest()
			if r := h.apply(tc.cmd(h)); !errors.Is(r.Err, tc.want) {
				t.Fatalf("got %v, want %v", r.Err, tc.want)
			}
			if h.digest() != before {
				t.Fatal("a refused command changed the state")
			}
		})
	}
}

func TestACLStateHoldsHashesOnly(t *testing.T) {
	h := newHarness(t)
	secret := "3f0c8a52-secret-never-stored"
	ok[ACLTokenResult](h, &ACLBootstrapRequest{Token: aclToken("a-root", api.RoleManagement, 0), SecretHash: hashOf(secret), Now: h.now()})
	if bytes.Contains(h.snapshotBytes(), []byte(secret)) {
		t.Fatal("the snapshot holds a token secret")
	}
	tok, err := h.txn().ACLTokenBySecretHash(hashOf(secret))
	if err != nil || tok == nil || tok.AccessorID != "a-root" {
		t.Fatalf("lookup by hash: %+v, %v", tok, err)
	}
	if tok, _ := h.txn().ACLTokenBySecretHash(hashOf("other")); tok != nil {
		t.Fatal("a wrong secret found a token")
	}
}

func TestACLRevokeClientKeyRevokesItsTokens(t *testing.T) {
	h := newHarness(t)
	for _, a := range []string{"a-1", "a-2"} {
		tok := aclToken(a, api.RoleSubmit, h.now()+int64(3600e9))
		tok.ClientKey = "fp-1"
		ok[ACLTokenResult](h, &ACLTokenCreateRequest{Token: tok, SecretHash: hashOf(a), Now: h.now()})
	}
	ok[ACLTokenResult](h, &ACLTokenCreateRequest{Token: aclToken("a-other", api.RoleRead, 0), SecretHash: hashOf("other"), Now: h.now()})
	res := ok[ACLTokenResult](h, &ACLTokenDeleteRequest{AccessorID: "a-1", Now: h.now()})
	if res.Removed != 2 {
		t.Fatalf("removed %d tokens, want both of the key's", res.Removed)
	}
	toks, _ := h.txn().ACLTokens()
	if len(toks) != 1 || toks[0].AccessorID != "a-other" {
		t.Fatalf("left %v, want only a-other", toks)
	}
	if revoked, _ := h.txn().ClientKeyRevoked("fp-1"); !revoked {
		t.Fatal("the key is not marked revoked")
	}
	again := aclToken("a-3", api.RoleSubmit, 0)
	again.ClientKey = "fp-1"
	if r := h.apply(&ACLTokenCreateRequest{Token: again, SecretHash: hashOf("a-3"), Now: h.now()}); !errors.Is(r.Err, api.ErrUnauthorized) {
		t.Fatalf("a token for a revoked key: %v, want refused", r.Err)
	}
}

func TestACLCreatePrunesExpiredTokens(t *testing.T) {
	h := newHarness(t)
	soon := h.now() + 5_000_000
	ok[ACLTokenResult](h, &ACLTokenCreateRequest{Token: aclToken("a-short", api.RoleRead, soon), SecretHash: hashOf("1"), Now: h.now()})
	ok[ACLTokenResult](h, &ACLTokenCreateRequest{Token: aclToken("a-long", api.RoleRead, soon+int64(3600e9)), SecretHash: hashOf("2"), Now: h.now()})
	ok[ACLTokenResult](h, &ACLTokenCreateRequest{Token: aclToken("a-forever", api.RoleRead, 0), SecretHash: hashOf("3"), Now: h.now()})
	for range 10 {
		h.registerJob(fmt.Sprintf("j-%d", h.index), api.JobTypeBatch) // let time pass
	}
	ok[ACLTokenResult](h, &ACLTokenCreateRequest{Token: aclToken("a-new", api.RoleRead, 0), SecretHash: hashOf("4"), Now: h.now()})
	toks, _ := h.txn().ACLTokens()
	var got []string
	for _, tk := range toks {
		got = append(got, tk.AccessorID)
	}
	if strings.Join(got, ",") != "a-forever,a-long,a-new" {
		t.Fatalf("tokens after prune: %v", got)
	}
}

func TestACLSnapshotRoundTrip(t *testing.T) {
	h := richState(t)
	ok[ACLTokenResult](h, &ACLBootstrapRequest{Token: aclToken("a-root", api.RoleManagement, 0), SecretHash: hashOf("root"), Now: h.now()})
	tok := aclToken("a-key", api.RoleSubmit, h.now()+int64(3600e9))
	tok.ClientKey, tok.Namespace = "fp-9", "team-a"
	ok[ACLTokenResult](h, &ACLTokenCreateRequest{Token: tok, SecretHash: hashOf("key"), Now: h.now()})
	withTokens := h.digest()
	data := h.snapshotBytes()

	restored := newHarness(t)
	if err := restored.fsm.Restore(readCloser(data)); err != nil {
		t.Fatal(err)
	}
	if restored.digest() != withTokens {
		t.Fatal("digests differ after restore")
	}
	if done, _ := restored.txn().ACLBootstrapped(); !done {
		t.Fatal("the restored state forgot the bootstrap")
	}
	got, err := restored.txn().ACLTokenBySecretHash(hashOf("key"))
	if err != nil || got == nil || got.Namespace != "team-a" || got.ClientKey != "fp-9" {
		t.Fatalf("restored token: %+v, %v", got, err)
	}
	// The digest covers the ACL tables: revoking changes it.
	ok[ACLTokenResult](h, &ACLTokenDeleteRequest{AccessorID: "a-key", Now: h.now()})
	if h.digest() == withTokens {
		t.Fatal("the digest ignores the ACL tables")
	}
	if !bytes.Equal(h.snapshotBytes(), h.snapshotBytes()) {
		t.Fatal("snapshots are not deterministic")
	}
}
