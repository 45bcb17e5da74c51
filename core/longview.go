package core

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
)

// profiled serves no Longview (no clients, no Pro plans): an account's
// Longview plan is always the free one. The plan's endpoints exist
// because account tools set it beside the account's settings: the
// Terraform provider's linode_account_settings puts an empty plan on
// every create and update, and fails if it cannot.

// LongviewPlan checks that the actor may read the account's Longview
// plan, which is always none. As on the Linode API, a restricted user
// needs the longview_subscription grant.
func (s *Service) LongviewPlan(ctx context.Context, a Actor) error {
	return s.longviewAccess(ctx, a, ReadOnly)
}

// SetLongviewPlan sets the account's Longview plan: plan "" (or null, on
// the wire) is none, the one plan profiled has.
func (s *Service) SetLongviewPlan(ctx context.Context, a Actor, plan string) error {
	if err := s.longviewAccess(ctx, a, ReadWrite); err != nil {
		return err
	}
	if plan != "" {
		return Invalid("longview_subscription", "profiled serves no Longview, so there are no plans to choose: send null (or \"\") for none")
	}
	return nil
}

var errNoLongviewGrant = &Error{Kind: KindForbidden,
	Reason: "Unauthorized: a restricted user needs the longview_subscription grant to see or change the Longview plan; ask an unrestricted user of the account"}

func (s *Service) longviewAccess(ctx context.Context, a Actor, level string) error {
	if err := require(a, "longview", level); err != nil {
		return err
	}
	if !a.User.Restricted {
		return nil
	}
	g, err := s.store.Grants(ctx, a.User.ID)
	if errors.Is(err, ErrNotFound) {
		return errNoLongviewGrant
	}
	if err != nil {
		return notFound(err, "get grants")
	}
	var doc GrantsDoc
	if err := json.Unmarshal(g, &doc); err != nil {
		return fmt.Errorf("stored grants: %w", err)
	}
	if !doc.Global.LongviewSubscription {
		return errNoLongviewGrant
	}
	return nil
}
