package core_test

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/profiled/profiled/core"
	"github.com/profiled/profiled/internal/imagetest"
)

// decodeAvatar checks that b is a 256x256 PNG and returns it.
func decodeAvatar(t *testing.T, b []byte) image.Image {
	t.Helper()
	if !bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")) {
		t.Fatalf("not a PNG: % x", b[:min(8, len(b))])
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("decode the avatar: %v", err)
	}
	if img.Bounds() != image.Rect(0, 0, core.AvatarSide, core.AvatarSide) {
		t.Fatalf("avatar bounds %v", img.Bounds())
	}
	return img
}

// near reports whether c is within 40 of want on every channel.
func near(c color.Color, want color.RGBA) bool {
	r, g, b, _ := c.RGBA()
	d := func(x uint32, y uint8) bool { v := int(x>>8) - int(y); return v > -40 && v < 40 }
	return d(r, want.R) && d(g, want.G) && d(b, want.B)
}

func TestMakeAvatarFormats(t *testing.T) {
	framed := imagetest.Framed(300, 120) // wide: red margins left and right
	tall := imagetest.Framed(90, 200)    // tall: red margins top and bottom
	for name, data := range map[string][]byte{
		"png":  imagetest.PNG(framed),
		"jpeg": imagetest.JPEG(framed),
		"gif":  imagetest.GIF(framed),
		"tall": imagetest.PNG(tall),
		"tiny": imagetest.PNG(imagetest.Framed(1, 1)),
	} {
		t.Run(name, func(t *testing.T) {
			out, err := core.MakeAvatar(t.Context(), data)
			if err != nil {
				t.Fatal(err)
			}
			img := decodeAvatar(t, out)
			// Cut from the centre: no red margin is left, at the edges either.
			for _, p := range []image.Point{{0, 0}, {128, 128}, {255, 255}, {0, 255}, {255, 0}, {5, 128}, {250, 128}} {
				if c := img.At(p.X, p.Y); !near(c, imagetest.Green) {
					t.Errorf("pixel %v is %v, want green", p, c)
				}
			}
		})
	}
	for _, name := range []string{imagetest.WebPLossy, imagetest.WebPLossless, imagetest.WebPWithAlpha} {
		t.Run(name, func(t *testing.T) {
			out, err := core.MakeAvatar(t.Context(), imagetest.WebP(name))
			if err != nil {
				t.Fatal(err)
			}
			decodeAvatar(t, out)
		})
	}
}

func TestMakeAvatarStripsMetadata(t *testing.T) {
	jpg := imagetest.WithOrientation(imagetest.JPEG(imagetest.Halves(64)), 1)
	jpg = append(jpg[:2], append([]byte("\xff\xfe\x00\x10SECRET-COMMENT"), jpg[2:]...)...)
	out, err := core.MakeAvatar(t.Context(), jpg)
	noErr(t, err)
	if bytes.Contains(out, []byte("Exif")) || bytes.Contains(out, []byte("SECRET-COMMENT")) {
		t.Error("the avatar keeps the original's metadata")
	}
	// A PNG's text chunks do not survive either.
	withText := imagetest.WithPNGText(imagetest.PNG(imagetest.Halves(16)), "GPS", "52.5200,13.4050")
	if _, err := png.Decode(bytes.NewReader(withText)); err != nil {
		t.Fatalf("fixture: %v", err)
	}
	out, err = core.MakeAvatar(t.Context(), withText)
	noErr(t, err)
	if bytes.Contains(out, []byte("GPS")) || bytes.Contains(out, []byte("tEXt")) {
		t.Error("the avatar keeps a PNG text chunk")
	}
}

func TestMakeAvatarOrientation(t *testing.T) {
	// Halves is red on the left, blue on the right, as stored.
	base := imagetest.JPEG(imagetest.Halves(100))
	for o, want := range map[int]struct{ top, bottom, left, right color.RGBA }{
		1: {left: imagetest.Red, right: imagetest.Blue},
		2: {left: imagetest.Blue, right: imagetest.Red},
		3: {left: imagetest.Blue, right: imagetest.Red},
		4: {left: imagetest.Red, right: imagetest.Blue},
		5: {top: imagetest.Red, bottom: imagetest.Blue},
		6: {top: imagetest.Red, bottom: imagetest.Blue},
		7: {top: imagetest.Blue, bottom: imagetest.Red},
		8: {top: imagetest.Blue, bottom: imagetest.Red},
	} {
		out, err := core.MakeAvatar(t.Context(), imagetest.WithOrientation(base, o))
		noErr(t, err)
		img := decodeAvatar(t, out)
		check := func(where string, p image.Point, c color.RGBA) {
			if c != (color.RGBA{}) && !near(img.At(p.X, p.Y), c) {
				t.Errorf("orientation %d: %s pixel %v is %v, want %v", o, where, p, img.At(p.X, p.Y), c)
			}
		}
		check("top", image.Pt(128, 20), want.top)
		check("bottom", image.Pt(128, 235), want.bottom)
		check("left", image.Pt(20, 128), want.left)
		check("right", image.Pt(235, 128), want.right)
	}
}

func TestMakeAvatarRefusals(t *testing.T) {
	good := imagetest.PNG(imagetest.Framed(10, 10))
	big := make([]byte, core.MaxAvatarBytes+1)
	copy(big, good)
	cases := map[string]struct {
		data []byte
		kind core.Kind
		msg  string
	}{
		"empty":              {nil, core.KindInvalid, "empty"},
		"too many bytes":     {big, core.KindTooLarge, "5 MiB"},
		"truncated png":      {imagetest.Truncated(imagetest.PNG(imagetest.Framed(200, 200))), core.KindInvalid, "truncated"},
		"truncated jpeg":     {imagetest.Truncated(imagetest.JPEG(imagetest.Framed(200, 200))), core.KindInvalid, "JPEG"},
		"truncated gif":      {imagetest.Truncated(imagetest.GIF(imagetest.Framed(200, 200))), core.KindInvalid, "GIF"},
		"truncated webp":     {imagetest.Truncated(imagetest.WebP(imagetest.WebPLossy)), core.KindInvalid, "WebP"},
		"header only":        {good[:20], core.KindInvalid, "PNG"},
		"png 4097 wide":      {imagetest.PNGClaiming(4097, 10), core.KindInvalid, "4096x4096"},
		"png 4097 tall":      {imagetest.PNGClaiming(10, 4097), core.KindInvalid, "4096x4096"},
		"png huge":           {imagetest.PNGClaiming(1<<30, 1<<30), core.KindInvalid, "-"},
		"gif huge":           {imagetest.GIFClaiming(65535, 65535), core.KindInvalid, "4096x4096"},
		"jpeg huge":          {imagetest.JPEGClaiming(60000, 60000), core.KindInvalid, "4096x4096"},
		"decompression bomb": {imagetest.Bomb(), core.KindInvalid, "30000x30000"},
		"zero width":         {imagetest.PNGClaiming(0, 10), core.KindInvalid, "-"},
	}
	for name, data := range imagetest.NotImages {
		cases["not an image: "+name] = struct {
			data []byte
			kind core.Kind
			msg  string
		}{data, core.KindInvalid, "PNG, JPEG, GIF or WebP"}
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			start := time.Now()
			out, err := core.MakeAvatar(t.Context(), c.data)
			ce := core.AsError(err)
			if ce == nil || ce.Kind != c.kind || ce.Field != "file" || (c.msg != "-" && !strings.Contains(ce.Reason, c.msg)) {
				t.Fatalf("got %d bytes, %v; want kind %d saying %q", len(out), err, c.kind, c.msg)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("refusing took %v", d)
			}
		})
	}
}

// TestSniffAgreesWithNetHTTP checks the core's signatures against
// http.DetectContentType on every fixture.
func TestSniffAgreesWithNetHTTP(t *testing.T) {
	files := map[string][]byte{
		"png": imagetest.PNG(imagetest.Framed(4, 4)), "jpeg": imagetest.JPEG(imagetest.Framed(4, 4)),
		"gif": imagetest.GIF(imagetest.Framed(4, 4)), "webp": imagetest.WebP(imagetest.WebPLossless),
		"webp-alpha": imagetest.WebP(imagetest.WebPWithAlpha),
	}
	for name, b := range imagetest.NotImages {
		files[name] = b
	}
	accepted := map[string]bool{"image/png": true, "image/jpeg": true, "image/gif": true, "image/webp": true}
	for name, b := range files {
		_, err := core.MakeAvatar(t.Context(), b)
		sniffedAsImage := core.AsError(err) == nil || !strings.Contains(core.AsError(err).Reason, "must be a PNG")
		if want := accepted[http.DetectContentType(b)]; sniffedAsImage != want {
			t.Errorf("%s: net/http says %s, the core accepts the type: %v", name, http.DetectContentType(b), sniffedAsImage)
		}
	}
}

func TestAvatarService(t *testing.T) {
	e := newEnv(t)
	a := e.user("alice", false)
	m, err := e.svc.SetAvatar(e.ctx, a, imagetest.PNG(imagetest.Framed(40, 30)))
	noErr(t, err)
	first := m.Profile.AvatarID
	if len(first) != 32 {
		t.Fatalf("avatar id %q", first)
	}
	av, err := e.svc.AvatarImage(e.ctx, first)
	noErr(t, err)
	decodeAvatar(t, av.PNG)
	if av.UserID != a.User.ID || !av.Created.Equal(start) {
		t.Errorf("avatar: %+v", av)
	}
	// A new upload gets a new id; the old URL stops working.
	m, err = e.svc.SetAvatar(e.ctx, a, imagetest.JPEG(imagetest.Framed(30, 40)))
	noErr(t, err)
	if m.Profile.AvatarID == first {
		t.Error("the new avatar kept the old id")
	}
	if _, err := e.svc.AvatarImage(e.ctx, first); core.KindOf(err) != core.KindNotFound {
		t.Errorf("the old id: %v", err)
	}
	for _, bad := range []string{"", "x", strings.Repeat("A", 32), "../" + first[3:], first + "0"} {
		if _, err := e.svc.AvatarImage(e.ctx, bad); core.KindOf(err) != core.KindNotFound {
			t.Errorf("AvatarImage(%q): %v", bad, err)
		}
	}
	// A refused upload leaves the avatar as it was.
	_, err = e.svc.SetAvatar(e.ctx, a, []byte("not an image"))
	wantKind(t, "SetAvatar with text", err, core.KindInvalid, "file")
	if now, _ := e.svc.Me(e.ctx, a); now.Profile.AvatarID != m.Profile.AvatarID {
		t.Error("a refused upload changed the avatar")
	}
	ro := e.token("alice", "account:read_only")
	if _, err := e.svc.SetAvatar(e.ctx, ro, imagetest.PNG(imagetest.Framed(4, 4))); core.KindOf(err) != core.KindForbidden {
		t.Errorf("SetAvatar read-only: %v", err)
	}
	noErr(t, e.svc.DeleteAvatar(e.ctx, a))
	if now, _ := e.svc.Me(e.ctx, a); now.Profile.AvatarID != "" {
		t.Error("DeleteAvatar left an avatar")
	}
	if _, err := e.svc.AvatarImage(e.ctx, m.Profile.AvatarID); core.KindOf(err) != core.KindNotFound {
		t.Errorf("a deleted avatar: %v", err)
	}
	noErr(t, e.svc.DeleteAvatar(e.ctx, a)) // nothing to delete: still fine
}

// TestAvatarUploadsBounded: a user gets ten decoded uploads an hour, and
// the process decodes at most one largest-size image's pixels at once,
// however many arrive together (issue 11, item 19).
func TestAvatarUploadsBounded(t *testing.T) {
	e := newEnv(t)
	a := e.user("alice", false)
	small := imagetest.PNG(imagetest.Framed(8, 8))
	for i := range 10 {
		if _, err := e.svc.SetAvatar(e.ctx, a, small); err != nil {
			t.Fatalf("upload %d: %v", i, err)
		}
	}
	_, err := e.svc.SetAvatar(e.ctx, a, small)
	wantErr(t, err, core.KindTooManyRequests, "-")
	// A refusal by the header does not draw from the budget.
	e.clock.Advance(time.Hour)
	for range 20 {
		_, err := e.svc.SetAvatar(e.ctx, a, []byte("not an image"))
		wantErr(t, err, core.KindInvalid, "file")
	}
	if _, err := e.svc.SetAvatar(e.ctx, a, small); err != nil {
		t.Fatalf("an upload after refused ones: %v", err)
	}

	// Six uploads of the largest size at once, by six users.
	big := imagetest.PNG(imagetest.Framed(core.MaxAvatarSide, core.MaxAvatarSide))
	var wg sync.WaitGroup
	for i := range 6 {
		u := e.user(fmt.Sprintf("user%d", i), false)
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := e.svc.SetAvatar(e.ctx, u, big); err != nil && core.KindOf(err) != core.KindUnavailable {
				t.Errorf("a large upload: %v", err)
			}
		}()
	}
	wg.Wait()
	if peak := core.AvatarPixelsPeak(); peak > core.MaxAvatarSide*core.MaxAvatarSide {
		t.Fatalf("%d pixels decoded at once, more than one largest image's %d", peak, core.MaxAvatarSide*core.MaxAvatarSide)
	}
}
