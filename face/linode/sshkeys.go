package linode

import (
	"net/http"

	"github.com/profiled/profiled/core"
)

type sshKeyJSON struct {
	ID      int64      `json:"id"`
	Label   string     `json:"label"`
	SSHKey  string     `json:"ssh_key"`
	Created linodeTime `json:"created"`
}

func toSSHKey(k core.SSHKey) sshKeyJSON {
	return sshKeyJSON{ID: k.ID, Label: k.Label, SSHKey: k.Key, Created: linodeTime(k.Created)}
}

// sshKeyCreateJSON is the SSHKey schema; the read-only id and created are ignored.
type sshKeyCreateJSON struct {
	Label   string  `json:"label"`
	SSHKey  string  `json:"ssh_key"`
	ID      *int64  `json:"id"`
	Created *string `json:"created"`
}

func (s *server) listSSHKeys(w http.ResponseWriter, r *http.Request, a core.Actor) (any, error) {
	q, err := listQuery(r, core.SSHKeyFields)
	if err != nil {
		return nil, err
	}
	p, err := s.svc.SSHKeys(r.Context(), a, q)
	return toPage(p, toSSHKey), err
}

func (s *server) getSSHKey(w http.ResponseWriter, r *http.Request, a core.Actor) (any, error) {
	id, err := pathID(r, "sshKeyId")
	if err != nil {
		return nil, err
	}
	k, err := s.svc.SSHKey(r.Context(), a, id)
	return toSSHKey(k), err
}

func (s *server) postSSHKey(w http.ResponseWriter, r *http.Request, a core.Actor) (any, error) {
	var in sshKeyCreateJSON
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	k, err := s.svc.AddSSHKey(r.Context(), a, core.SSHKeyCreate{Label: in.Label, Key: in.SSHKey})
	return toSSHKey(k), err
}

func (s *server) putSSHKey(w http.ResponseWriter, r *http.Request, a core.Actor) (any, error) {
	id, err := pathID(r, "sshKeyId")
	if err != nil {
		return nil, err
	}
	var in struct {
		Label *string `json:"label"`
	}
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	if in.Label == nil {
		return nil, core.Invalid("label", "label is required: only the label of an SSH key can change")
	}
	k, err := s.svc.RenameSSHKey(r.Context(), a, id, *in.Label)
	return toSSHKey(k), err
}

func (s *server) deleteSSHKey(w http.ResponseWriter, r *http.Request, a core.Actor) (any, error) {
	id, err := pathID(r, "sshKeyId")
	if err != nil {
		return nil, err
	}
	return empty, s.svc.DeleteSSHKey(r.Context(), a, id)
}
