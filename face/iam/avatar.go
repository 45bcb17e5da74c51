package iam

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"

	"github.com/profiled/profiled/core"
)

// drain reads and discards the body of a body-less operation, within its limit.
func drain(r *http.Request) (int64, error) { return io.Copy(io.Discard, r.Body) }

// errAvatarTooLarge is the answer as soon as the file passes the limit:
// the rest is never read.
var errAvatarTooLarge = &core.Error{Kind: core.KindTooLarge, Field: "file",
	Reason: fmt.Sprintf("file must be at most %d bytes (5 MiB)", core.MaxAvatarBytes)}

// postAvatar reads the multipart field "file", at most 5 MiB of it, and
// hands the bytes to the core, which tells the format from them (the
// part's file name and Content-Type are not trusted) and makes the avatar.
// It answers 201 with the User.
func (s *server) postAvatar(r *http.Request, a core.Actor) (answer, error) {
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		return answer{}, detailError(http.StatusUnsupportedMediaType, "Content-Type must be multipart/form-data, with the picture in the field file")
	}
	data, err := readFilePart(multipart.NewReader(r.Body, params["boundary"]))
	var missing *missingFile
	if errors.As(err, &missing) {
		return answer{}, problems(problem{Type: typeMissing, Loc: []any{"body", "file"}, Msg: msgFieldRequired})
	}
	if err != nil {
		return answer{}, err
	}
	m, err := s.svc.SetAvatar(r.Context(), a, data)
	return answer{http.StatusCreated, s.toUser(m)}, err
}

// readFilePart returns the content of the one part named "file", holding
// at most core.MaxAvatarBytes of it in memory.
func readFilePart(mr *multipart.Reader) ([]byte, error) {
	var data []byte
	found := false
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				return nil, errAvatarTooLarge
			}
			return nil, core.Invalid("", "the body is not valid multipart/form-data: %v", err)
		}
		if part.FormName() != "file" {
			continue // NextPart skips what is left of it, within the body's limit
		}
		if found {
			return nil, core.Invalid("file", "send one file")
		}
		found = true
		var buf bytes.Buffer
		n, err := io.Copy(&buf, io.LimitReader(part, core.MaxAvatarBytes+1))
		var tooBig *http.MaxBytesError
		switch {
		case n > core.MaxAvatarBytes, errors.As(err, &tooBig):
			return nil, errAvatarTooLarge
		case err != nil:
			return nil, core.Invalid("file", "the file could not be read: %v", err)
		}
		data = buf.Bytes()
	}
	if !found {
		return nil, &missingFile{}
	}
	return data, nil
}

// missingFile is the 422 "missing" of a form without the field file.
type missingFile struct{}

func (*missingFile) Error() string { return "file: " + msgFieldRequired }

// getAvatar serves an avatar by its public URL, /iam/v1/avatars/<id>.png:
// no credentials, cacheable, revalidated by ETag. An avatar's id changes
// with every upload, so a URL always shows the same picture; it stops
// working when the picture is deleted.
func (s *server) getAvatar(w http.ResponseWriter, r *http.Request) {
	id, ok := strings.CutSuffix(r.PathValue("file"), ".png")
	if !ok {
		writeDetail(w, http.StatusNotFound, "Not Found")
		return
	}
	av, err := s.svc.AvatarImage(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "image/png")
	h.Set("ETag", `"`+av.ID+`"`)
	h.Set("Cache-Control", "public, max-age=3600")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	http.ServeContent(w, r, "", av.Created, bytes.NewReader(av.PNG))
}

func (s *server) deleteAvatar(r *http.Request, a core.Actor) (answer, error) {
	_, _ = drain(r)
	return accepted("Avatar deleted"), s.svc.DeleteAvatar(r.Context(), a)
}
