package core

import (
	"context"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/ssh"
)

const maxSSHKeyLabel = 64

// SSHKeyCreate is the input of AddSSHKey.
type SSHKeyCreate struct {
	Label string
	Key   string
}

func validateSSHKeyLabel(label string) error {
	if utf8.RuneCountInString(label) > maxSSHKeyLabel {
		return Invalid("label", "label must be at most %d characters", maxSSHKeyLabel)
	}
	return checkText("label", label)
}

// SSHKeys lists the actor's keys.
func (s *Service) SSHKeys(ctx context.Context, a Actor, q ListQuery) (Page[SSHKey], error) {
	if err := mustRead(a); err != nil {
		return Page[SSHKey]{}, err
	}
	data, n, err := s.store.ListSSHKeys(ctx, a.User.ID, q)
	return Page[SSHKey]{Data: data, Page: q.Page, PageSize: q.PageSize, Results: n}, notFound(err, "list ssh keys")
}

// SSHKey returns one of the actor's keys.
func (s *Service) SSHKey(ctx context.Context, a Actor, id int64) (SSHKey, error) {
	if err := mustRead(a); err != nil {
		return SSHKey{}, err
	}
	k, err := s.store.SSHKey(ctx, a.User.ID, id)
	return k, notFound(err, "get ssh key")
}

// AddSSHKey stores a new public key. The same key may be stored more than
// once, each with its own id, as the real API does: the Terraform
// provider's acceptance tests add one key twice (WIRE-FACTS.md).
func (s *Service) AddSSHKey(ctx context.Context, a Actor, in SSHKeyCreate) (SSHKey, error) {
	if err := mustWrite(a); err != nil {
		return SSHKey{}, err
	}
	in.Key = strings.TrimRight(in.Key, "\r\n")
	if in.Key == "" {
		return SSHKey{}, Invalid("ssh_key", "ssh_key is required")
	}
	if err := validateSSHKeyLabel(in.Label); err != nil {
		return SSHKey{}, err
	}
	pub, err := parseSSHKey(in.Key)
	if err != nil {
		return SSHKey{}, err
	}
	k := SSHKey{UserID: a.User.ID, Label: in.Label, Key: in.Key, Fingerprint: ssh.FingerprintSHA256(pub), Created: s.clock()}
	err = s.update(ctx, func(tx Tx, note func(Event)) error {
		if err := s.holdQuota(ctx, tx, QuotaSSHKeys, a.User.ID); err != nil {
			return err
		}
		note(eventOf(EventSSHKeyAdded, a, k.Label))
		return notFound(tx.CreateSSHKey(ctx, &k), "create ssh key")
	})
	return k, s.overQuota(ctx, err, QuotaSSHKeys, a)
}

// RenameSSHKey changes a key's label, the only thing about a key that can change.
func (s *Service) RenameSSHKey(ctx context.Context, a Actor, id int64, label string) (SSHKey, error) {
	if err := mustWrite(a); err != nil {
		return SSHKey{}, err
	}
	if err := validateSSHKeyLabel(label); err != nil {
		return SSHKey{}, err
	}
	var k SSHKey
	err := s.store.Update(ctx, func(tx Tx) error {
		var err error
		k, err = tx.UpdateSSHKeyLabel(ctx, a.User.ID, id, label)
		return notFound(err, "rename ssh key")
	})
	return k, err
}

// DeleteSSHKey removes a key from the profile.
func (s *Service) DeleteSSHKey(ctx context.Context, a Actor, id int64) error {
	if err := mustWrite(a); err != nil {
		return err
	}
	return s.update(ctx, func(tx Tx, note func(Event)) error {
		k, err := tx.SSHKey(ctx, a.User.ID, id)
		if err != nil {
			return notFound(err, "find ssh key")
		}
		note(eventOf(EventSSHKeyDeleted, a, k.Label))
		return notFound(tx.DeleteSSHKey(ctx, a.User.ID, id), "delete ssh key")
	})
}
