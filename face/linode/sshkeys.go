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

func (s *server) listSSHKeys(w http.ResponseWriter, r *http.Request, a core.Actor) {
	q, err := listQuery(r, core.SSHKeyFields)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p, err := s.svc.SSHKeys(r.Context(), a, q)
	s.reply(w, r, toPage(p, toSSHKey), err)
}

func (s *server) getSSHKey(w http.ResponseWriter, r *http.Request, a core.Actor) {
	id, err := pathID(r, "sshKeyId")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	k, err := s.svc.SSHKey(r.Context(), a, id)
	s.reply(w, r, toSSHKey(k), err)
}

func (s *server) postSSHKey(w http.ResponseWriter, r *http.Request, a core.Actor) {
	var in sshKeyCreateJSON
	if err := decode(r, &in); err != nil {
		s.fail(w, r, err)
		return
	}
	k, err := s.svc.AddSSHKey(r.Context(), a, core.SSHKeyCreate{Label: in.Label, Key: in.SSHKey})
	s.reply(w, r, toSSHKey(k), err)
}

func (s *server) putSSHKey(w http.ResponseWriter, r *http.Request, a core.Actor) {
	id, err := pathID(r, "sshKeyId")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var in struct {
		Label *string `json:"label"`
	}
	if err := decode(r, &in); err != nil {
		s.fail(w, r, err)
		return
	}
	if in.Label == nil {
		s.fail(w, r, core.Invalid("label", "label is required: only the label of an SSH key can change"))
		return
	}
	k, err := s.svc.RenameSSHKey(r.Context(), a, id, *in.Label)
	s.reply(w, r, toSSHKey(k), err)
}

func (s *server) deleteSSHKey(w http.ResponseWriter, r *http.Request, a core.Actor) {
	id, err := pathID(r, "sshKeyId")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.reply(w, r, empty, s.svc.DeleteSSHKey(r.Context(), a, id))
}
