package auth

import (
	"context"
	"strings"
)

// Principal is who a request acts as: a token's grants and subject, or
// everyone at once when the service runs open (no token key, loopback
// only).
type Principal struct {
	Grants  Grants
	Subject string
	// Open: auth is off, everything is allowed.
	Open bool
}

// Permission is what a route needs.
type Permission int

// Permissions, from none to all.
const (
	None Permission = iota
	Publish
	View
	Admin
)

type principalKey struct{}

// NewContext returns ctx carrying p.
func NewContext(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// FromContext returns the principal ctx carries; without one, an
// anonymous principal, who may do nothing.
func FromContext(ctx context.Context) *Principal {
	p, _ := ctx.Value(principalKey{}).(*Principal)
	if p == nil {
		return &Principal{}
	}
	return p
}

// Has reports whether the principal holds a permission.
func (p *Principal) Has(perm Permission) bool {
	switch {
	case p.Open || p.Grants.Admin || perm == None:
		return true
	case perm == Publish:
		return p.Grants.Publish
	case perm == View:
		return p.Grants.View
	}
	return false
}

// Anonymous reports whether the request came without a token (and auth is
// on): it is asked to sign in rather than refused.
func (p *Principal) Anonymous() bool {
	return !p.Open && p.Subject == "" && !p.Grants.Admin && !p.Grants.View && !p.Grants.Publish
}

// CanSee reports whether the principal may see a call of this rep.
func (p *Principal) CanSee(rep string) bool {
	if p.Open || p.Grants.Admin {
		return true
	}
	return p.Grants.View && (p.Grants.ViewRep == "" || strings.EqualFold(p.Grants.ViewRep, rep))
}

// ViewRep is the only rep whose calls the principal sees ("" for all).
func (p *Principal) ViewRep() string {
	if p.Open || p.Grants.Admin {
		return ""
	}
	return p.Grants.ViewRep
}

// PublishAs is the per-rep publish check of every way a call comes in (WHIP,
// uploads): it returns the rep a call published as given must carry, and
// false when the principal may publish only another rep's calls. A token
// limited to one rep forces that rep on calls that name none.
func (p *Principal) PublishAs(given string) (rep string, ok bool) {
	if p.Open || p.Grants.Admin || p.Grants.PublishRep == "" {
		return given, true
	}
	forced := p.Grants.PublishRep
	if given != "" && !strings.EqualFold(given, forced) {
		return forced, false
	}
	return forced, true
}
