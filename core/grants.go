package core

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
)

// GrantsDoc is the GrantsResponse of the Linode API: what a restricted
// user may do. It exists to validate what operators store.
type GrantsDoc struct {
	Global       GlobalGrants  `json:"global"`
	Database     []EntityGrant `json:"database"`
	Domain       []EntityGrant `json:"domain"`
	Firewall     []EntityGrant `json:"firewall"`
	Image        []EntityGrant `json:"image"`
	Linode       []EntityGrant `json:"linode"`
	Longview     []EntityGrant `json:"longview"`
	NodeBalancer []EntityGrant `json:"nodebalancer"`
	StackScript  []EntityGrant `json:"stackscript"`
	Volume       []EntityGrant `json:"volume"`
	VPC          []EntityGrant `json:"vpc"`
}

// GlobalGrants are the account-wide permissions of a restricted user.
type GlobalGrants struct {
	AccountAccess        *string `json:"account_access"`
	AddDatabases         bool    `json:"add_databases"`
	AddDomains           bool    `json:"add_domains"`
	AddFirewalls         bool    `json:"add_firewalls"`
	AddImages            bool    `json:"add_images"`
	AddLinodes           bool    `json:"add_linodes"`
	AddLongview          bool    `json:"add_longview"`
	AddNodeBalancers     bool    `json:"add_nodebalancers"`
	AddStackScripts      bool    `json:"add_stackscripts"`
	AddVolumes           bool    `json:"add_volumes"`
	AddVPCs              bool    `json:"add_vpcs"`
	CancelAccount        bool    `json:"cancel_account"`
	ChildAccountAccess   *bool   `json:"child_account_access"`
	LongviewSubscription bool    `json:"longview_subscription"`
}

// EntityGrant is a permission on one entity.
type EntityGrant struct {
	ID          int     `json:"id"`
	Label       string  `json:"label"`
	Permissions *string `json:"permissions"`
}

func validPermission(p *string) bool { return p == nil || *p == ReadOnly || *p == ReadWrite }

// ParseGrants validates a GrantsResponse document and returns it in canonical form.
func ParseGrants(data []byte) (Grants, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var g GrantsDoc
	if err := dec.Decode(&g); err != nil {
		return nil, Invalid("grants", "grants must be a GrantsResponse object: %v", err)
	}
	if dec.More() {
		return nil, Invalid("grants", "grants must be one JSON object")
	}
	if !validPermission(g.Global.AccountAccess) {
		return nil, Invalid("global.account_access", "account_access must be read_only, read_write or null")
	}
	lists := map[string][]EntityGrant{"database": g.Database, "domain": g.Domain, "firewall": g.Firewall,
		"image": g.Image, "linode": g.Linode, "longview": g.Longview, "nodebalancer": g.NodeBalancer,
		"stackscript": g.StackScript, "volume": g.Volume, "vpc": g.VPC}
	for name, list := range lists {
		for _, e := range list {
			if !validPermission(e.Permissions) {
				return nil, Invalid(name+".permissions", "permissions must be read_only, read_write or null")
			}
		}
	}
	return json.Marshal(normalizeGrants(g))
}

// normalizeGrants turns absent lists into empty ones, as the API shows them.
func normalizeGrants(g GrantsDoc) GrantsDoc {
	for _, l := range []*[]EntityGrant{&g.Database, &g.Domain, &g.Firewall, &g.Image, &g.Linode,
		&g.Longview, &g.NodeBalancer, &g.StackScript, &g.Volume, &g.VPC} {
		if *l == nil {
			*l = []EntityGrant{}
		}
	}
	return g
}

// Grants returns what the actor's user was granted, or nil for an
// unrestricted user, who has access to everything. Any token may ask.
func (s *Service) Grants(ctx context.Context, a Actor) (Grants, error) {
	if err := anyLinodeScope(a); err != nil {
		return nil, err
	}
	u, err := s.store.UserByID(ctx, a.User.ID)
	if err != nil {
		return nil, notFound(err, "load user")
	}
	if !u.Restricted {
		return nil, nil
	}
	g, err := s.store.Grants(ctx, a.User.ID)
	if errors.Is(err, ErrNotFound) {
		return json.Marshal(normalizeGrants(GrantsDoc{}))
	}
	return g, notFound(err, "get grants")
}

// SetGrants stores the grants of a restricted user, for operators.
func (s *Service) SetGrants(ctx context.Context, username string, data []byte) error {
	g, err := ParseGrants(data)
	if err != nil {
		return err
	}
	return s.store.Update(ctx, func(tx Tx) error {
		u, err := tx.UserByUsername(ctx, username)
		if err != nil {
			return notFound(err, "find user")
		}
		if !u.Restricted {
			return Conflict("username", "%s is not restricted: grants apply only to restricted users (create them with --restricted)", username)
		}
		return tx.SetGrants(ctx, u.ID, g)
	})
}
