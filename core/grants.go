package core

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"
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
	// PlacementGroup is what linodego (UserGrantsUpdateOptions) sends
	// and newer Linode APIs answer; shown only when some are granted, as
	// the API description profiled answers by has no such list.
	PlacementGroup []EntityGrant `json:"placement_group,omitempty"`
	StackScript    []EntityGrant `json:"stackscript"`
	Volume         []EntityGrant `json:"volume"`
	VPC            []EntityGrant `json:"vpc"`
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

// maxGrantLabel bounds the label of an entity in grants, and
// MaxGrantEntities the entities of each kind one user holds grants on, so
// that a user's grants stay a document any client can read in one answer.
const (
	maxGrantLabel    = 128
	MaxGrantEntities = 5000
)

// ParseGrants validates a GrantsResponse document and returns it in
// canonical form. A field the document does not have is an error: the
// document replaces the user's grants (SetGrants), and a misspelt grant
// must not quietly become no grant.
func ParseGrants(data []byte) (Grants, error) { return parseGrants(data, false) }

// parseGrants is ParseGrants; with ignoreUnknown it drops the fields the
// document does not have instead, as the Linode API ignores them in PUT
// /account/users/{username}/grants: newer APIs and consoles know grants
// profiled does not (add_buckets, add_kubernetes, lkecluster), and a
// client that sends such a document back must not be refused for them.
// That PUT changes only what it names (MergeGrants), so an ignored field
// changes nothing.
func parseGrants(data []byte, ignoreUnknown bool) (Grants, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	if !ignoreUnknown {
		dec.DisallowUnknownFields()
	}
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
	for name, list := range g.lists() {
		if len(*list) > MaxGrantEntities {
			return nil, Invalid(name, "a user may hold grants on at most %d entities of each kind", MaxGrantEntities)
		}
		for _, e := range *list {
			if !validPermission(e.Permissions) {
				return nil, Invalid(name+".permissions", "permissions must be read_only, read_write or null")
			}
			if e.ID <= 0 {
				return nil, Invalid(name+".id", "%s grants need the id of the entity, a positive integer", name)
			}
			if utf8.RuneCountInString(e.Label) > maxGrantLabel || checkText(name+".label", e.Label) != nil {
				return nil, Invalid(name+".label", "labels must be at most %d characters of text", maxGrantLabel)
			}
		}
	}
	return json.Marshal(normalizeGrants(g))
}

// lists are the document's entity lists, by their JSON names.
func (g *GrantsDoc) lists() map[string]*[]EntityGrant {
	return map[string]*[]EntityGrant{"database": &g.Database, "domain": &g.Domain, "firewall": &g.Firewall,
		"image": &g.Image, "linode": &g.Linode, "longview": &g.Longview, "nodebalancer": &g.NodeBalancer,
		"placement_group": &g.PlacementGroup, "stackscript": &g.StackScript, "volume": &g.Volume, "vpc": &g.VPC}
}

// emptyGrants is the document of a restricted user granted nothing.
func emptyGrants() Grants {
	b, _ := json.Marshal(normalizeGrants(GrantsDoc{}))
	return b
}

// MergeGrants applies patch, a GrantsResponse as PUT
// /account/users/{username}/grants takes it, to current: the global
// grants it gives replace the current ones, and each entity it lists
// takes the permissions given (and the label, if one is given), while the
// entities and lists it leaves out stay as they are, as the Linode API
// says: "any that are not included will remain unchanged". Fields a
// GrantsResponse does not have are ignored (parseGrants).
func MergeGrants(current Grants, patch []byte) (Grants, error) {
	if _, err := parseGrants(patch, true); err != nil {
		return nil, err
	}
	var cur, in GrantsDoc
	if err := json.Unmarshal(current, &cur); err != nil {
		return nil, fmt.Errorf("stored grants: %w", err)
	}
	var given map[string]json.RawMessage
	if err := json.Unmarshal(patch, &given); err != nil {
		return nil, Invalid("grants", "grants must be a GrantsResponse object")
	}
	if err := json.Unmarshal(patch, &in); err != nil {
		return nil, Invalid("grants", "grants must be a GrantsResponse object: %v", err)
	}
	if _, ok := given["global"]; ok {
		cur.Global = in.Global
	}
	curLists, inLists := cur.lists(), in.lists()
	for name, list := range inLists {
		if _, ok := given[name]; !ok {
			continue
		}
		dst := curLists[name]
		at := make(map[int]int, len(*dst)) // entity id -> its index in dst
		for i, e := range *dst {
			at[e.ID] = i
		}
		for _, e := range *list {
			i, ok := at[e.ID]
			if !ok {
				at[e.ID] = len(*dst)
				*dst = append(*dst, e)
				continue
			}
			(*dst)[i].Permissions = e.Permissions
			if e.Label != "" {
				(*dst)[i].Label = e.Label
			}
		}
		if len(*dst) > MaxGrantEntities {
			return nil, Invalid(name, "a user may hold grants on at most %d entities of each kind", MaxGrantEntities)
		}
	}
	return json.Marshal(normalizeGrants(cur))
}

// normalizeGrants turns absent lists into empty ones, as the API shows them.
func normalizeGrants(g GrantsDoc) GrantsDoc {
	for name, l := range g.lists() {
		if *l == nil && name != "placement_group" {
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
		return emptyGrants(), nil
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
