package auth

import (
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func testAuth(t *testing.T) *Auth {
	t.Helper()
	a, err := New([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func mint(t *testing.T, a *Auth, g Grants) string {
	t.Helper()
	tok, err := a.Mint("tester", g, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestTokens(t *testing.T) {
	a := testAuth(t)
	tok := mint(t, a, Grants{View: true, ViewRep: "Dana"})
	g, sub, err := a.Verify(tok)
	if err != nil || sub != "tester" || !g.View || g.ViewRep != "Dana" || g.Admin {
		t.Fatalf("verify: %+v %q %v", g, sub, err)
	}
	other, _ := New([]byte("ffffffffffffffffffffffffffffffff"))
	expired, _ := a.Mint("x", Grants{Admin: true}, -time.Hour)
	none := jwt.NewWithClaims(jwt.SigningMethodNone, claims{RegisteredClaims: jwt.RegisteredClaims{Issuer: tokenIssuer, ExpiresAt: jwt.NewNumericDate(time.Now().Add(time.Hour))}, Grants: Grants{Admin: true}})
	noneTok, _ := none.SignedString(jwt.UnsafeAllowNoneSignatureType)
	foreign := jwt.NewWithClaims(jwt.SigningMethodHS256, claims{RegisteredClaims: jwt.RegisteredClaims{Issuer: "other", ExpiresAt: jwt.NewNumericDate(time.Now().Add(time.Hour))}, Grants: Grants{Admin: true}})
	foreignTok, _ := foreign.SignedString(a.key)
	noExp := jwt.NewWithClaims(jwt.SigningMethodHS256, claims{RegisteredClaims: jwt.RegisteredClaims{Issuer: tokenIssuer}, Grants: Grants{Admin: true}})
	noExpTok, _ := noExp.SignedString(a.key)
	for name, bad := range map[string]string{
		"other key": mint(t, other, Grants{Admin: true}), "expired": expired, "alg none": noneTok,
		"other issuer": foreignTok, "no expiry": noExpTok, "garbage": "a.b.c", "tampered": tok[:len(tok)-2] + "xx",
	} {
		if _, _, err := a.Verify(bad); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := New([]byte("short")); err == nil {
		t.Error("short key accepted")
	}
	if _, err := a.Mint("x", Grants{}, time.Hour); err == nil {
		t.Error("token without grants minted")
	}
}
