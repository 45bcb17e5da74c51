package iam_test

import (
	"bytes"
	"image"
	"image/png"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/profiled/profiled/core"
	"github.com/profiled/profiled/internal/imagetest"
)

func pngFile(w, h int) []byte { return imagetest.PNG(imagetest.Framed(w, h)) }

// avatarPath returns the path of the avatar_url in a User body.
func avatarPath(t *testing.T, r response) string {
	t.Helper()
	u, _ := r.json(t)["avatar_url"].(string)
	if !strings.HasPrefix(u, "/iam/v1/avatars/") || !strings.HasSuffix(u, ".png") {
		t.Fatalf("avatar_url %q in %s", u, r.body)
	}
	return u
}

func (e *env) testAvatar(t *testing.T) {
	const path = "/iam/v1/users/me/avatar/"
	files := map[string][]byte{
		"png":  pngFile(300, 200),
		"jpeg": imagetest.WithOrientation(imagetest.JPEG(imagetest.Framed(120, 160)), 6),
		"gif":  imagetest.GIF(imagetest.Framed(64, 64)),
		"webp": imagetest.WebP(imagetest.WebPLossy), "webp lossless": imagetest.WebP(imagetest.WebPLossless),
		"webp alpha": imagetest.WebP(imagetest.WebPWithAlpha),
	}
	seen := map[string]bool{}
	for name, data := range files {
		r := e.do("POST", path, upload("", "file", data))
		if r.status != http.StatusCreated {
			t.Errorf("%s: %d %s", name, r.status, r.body)
			continue
		}
		u := avatarPath(t, r)
		if seen[u] {
			t.Errorf("%s: the avatar URL %s was used before", name, u)
		}
		seen[u] = true
		// Public, a 256x256 PNG, cacheable.
		got := e.do("GET", u, req{token: "-"})
		if got.status != 200 || got.header.Get("Content-Type") != "image/png" || got.header.Get("ETag") == "" ||
			!strings.Contains(got.header.Get("Cache-Control"), "max-age") {
			t.Fatalf("%s: GET %s: %d %v", name, u, got.status, got.header)
		}
		img, err := png.Decode(bytes.NewReader(got.body))
		if err != nil || img.Bounds() != image.Rect(0, 0, core.AvatarSide, core.AvatarSide) {
			t.Errorf("%s: the served avatar: %v %v", name, err, img)
		}
		if bytes.Contains(got.body, []byte("Exif")) {
			t.Errorf("%s: the served avatar keeps EXIF", name)
		}
		again := e.do("GET", u, req{token: "-", header: map[string]string{"If-None-Match": got.header.Get("ETag")}})
		if again.status != http.StatusNotModified {
			t.Errorf("%s: revalidation: %d", name, again.status)
		}
	}
	// Only the last upload is served: the others' URLs stop working.
	current := avatarPath(t, e.do("GET", "/iam/v1/users/me/", req{}))
	for u := range seen {
		want := 404
		if u == current {
			want = 200
		}
		if r := e.do("GET", u, req{token: "-"}); r.status != want {
			t.Errorf("GET %s: %d, want %d", u, r.status, want)
		}
	}
	for _, bad := range []string{"/iam/v1/avatars/" + strings.Repeat("0", 32) + ".png", "/iam/v1/avatars/x.png",
		"/iam/v1/avatars/" + strings.TrimSuffix(strings.TrimPrefix(current, "/iam/v1/avatars/"), ".png")} {
		wantDetail(t, "GET "+bad, e.do("GET", bad, req{token: "-"}), 404, "")
	}

	r := e.do("DELETE", path, req{})
	if r.status != http.StatusAccepted || r.json(t)["message"] == nil {
		t.Errorf("DELETE avatar: %d %s", r.status, r.body)
	}
	if u := e.do("GET", "/iam/v1/users/me/", req{}).json(t); u["avatar_url"] != nil {
		t.Errorf("avatar_url after DELETE: %v", u["avatar_url"])
	}
	wantDetail(t, "the deleted avatar", e.do("GET", current, req{token: "-"}), 404, "")
	if r := e.do("DELETE", path, req{}); r.status != http.StatusAccepted {
		t.Errorf("DELETE with no avatar: %d", r.status)
	}
}

// testAvatarRefusals sends every kind of bad file: each is refused, fast,
// and the avatar stays as it was.
func (e *env) testAvatarRefusals(t *testing.T) {
	const path = "/iam/v1/users/me/avatar/"
	keep := avatarPath(t, e.do("POST", path, upload("", "file", pngFile(10, 10))))
	cases := map[string][]byte{
		"truncated png":      imagetest.Truncated(pngFile(200, 200)),
		"truncated jpeg":     imagetest.Truncated(imagetest.JPEG(imagetest.Framed(200, 200))),
		"truncated webp":     imagetest.Truncated(imagetest.WebP(imagetest.WebPWithAlpha)),
		"too wide":           imagetest.PNGClaiming(5000, 10),
		"gif too large":      imagetest.GIFClaiming(4097, 4097),
		"jpeg too large":     imagetest.JPEGClaiming(10000, 100),
		"decompression bomb": imagetest.Bomb(),
		"empty":              {},
	}
	for name, data := range imagetest.NotImages {
		cases["not an image: "+name] = data
	}
	for name, data := range cases {
		start := time.Now()
		r := e.do("POST", path, upload("", "file", data))
		wantProblem(t, name, r, "value_error", "body", "file")
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("%s: refusing took %v", name, d)
		}
	}
	wantProblem(t, "no file field", e.do("POST", path, upload("", "picture", pngFile(4, 4))), "missing", "body", "file")
	wantDetail(t, "JSON", e.do("POST", path, jsonReq("", `{"file": "x"}`)), 415, "multipart/form-data")
	wantDetail(t, "no boundary", e.do("POST", path, req{contentType: "multipart/form-data", body: []byte("x")}), 415, "multipart/form-data")
	wantProblem(t, "a broken multipart body", e.do("POST", path, req{contentType: "multipart/form-data; boundary=zzz", body: []byte("--zzz\r\nbroken")}), "value_error", "body")

	// Over 5 MiB: 413, without the server reading the rest.
	big := make([]byte, core.MaxAvatarBytes+1)
	copy(big, pngFile(10, 10))
	wantDetail(t, "5 MiB + 1 byte", e.do("POST", path, upload("", "file", big)), http.StatusRequestEntityTooLarge, "5 MiB")
	e.testStreamedUpload(t, path)

	if now := avatarPath(t, e.do("GET", "/iam/v1/users/me/", req{})); now != keep {
		t.Errorf("a refused upload changed the avatar: %s, was %s", now, keep)
	}
}

// testStreamedUpload sends an endless file: the server answers 413 once
// it has read past the limit, and does not wait for the end.
func (e *env) testStreamedUpload(t *testing.T, path string) {
	pr, pw := io.Pipe()
	boundary := "streamboundary"
	go func() {
		_, _ = io.WriteString(pw, "--"+boundary+"\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x.png\"\r\n\r\n")
		chunk := bytes.Repeat([]byte{0x89}, 64<<10)
		sent := 0
		for sent < 64<<20 { // 64 MiB, far more than the server may read
			if _, err := pw.Write(chunk); err != nil {
				return // the server stopped reading
			}
			sent += len(chunk)
		}
		pw.Close()
	}()
	httpReq, _ := http.NewRequest("POST", e.srv.URL+path, pr)
	httpReq.Header.Set("Authorization", "Bearer "+e.token)
	httpReq.Header.Set("Content-Type", "multipart/form-data; boundary="+boundary)
	start := time.Now()
	resp, err := http.DefaultClient.Do(httpReq) // not recorded: the body cannot be replayed
	pr.CloseWithError(io.ErrClosedPipe)
	if err != nil {
		t.Fatalf("streamed upload: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("streamed upload: %d", resp.StatusCode)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("streamed upload answered after %v", d)
	}
}
