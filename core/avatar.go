package core

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"regexp"
	"strconv"
	"sync"
	"time"

	"golang.org/x/image/draw"
	"golang.org/x/image/webp"
	"golang.org/x/sync/semaphore"
)

// Avatar limits: what an upload may be, and what profiled keeps.
const (
	MaxAvatarBytes = 5 << 20 // the largest file accepted
	MaxAvatarSide  = 4096    // the widest and tallest image accepted, in pixels
	AvatarSide     = 256     // every stored avatar is a square PNG of this side
)

// avatarFormat is one image format accepted for avatars.
type avatarFormat struct {
	name   string
	config func(io.Reader) (image.Config, error)
	decode func(io.Reader) (image.Image, error)
}

var (
	formatPNG  = avatarFormat{"PNG", png.DecodeConfig, png.Decode}
	formatJPEG = avatarFormat{"JPEG", jpeg.DecodeConfig, jpeg.Decode}
	formatGIF  = avatarFormat{"GIF", gif.DecodeConfig, gif.Decode} // the first frame
	formatWebP = avatarFormat{"WebP", webp.DecodeConfig, webp.Decode}
)

// sniffImage tells an image's format from its first bytes, never from a
// name or a declared type. The signatures are those of the WHATWG MIME
// Sniffing standard, which net/http's DetectContentType implements too
// (the tests check that both agree); the core does not import net/http.
func sniffImage(b []byte) (avatarFormat, bool) {
	switch {
	case bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")):
		return formatPNG, true
	case bytes.HasPrefix(b, []byte("\xff\xd8\xff")):
		return formatJPEG, true
	case bytes.HasPrefix(b, []byte("GIF87a")), bytes.HasPrefix(b, []byte("GIF89a")):
		return formatGIF, true
	case len(b) >= 14 && string(b[:4]) == "RIFF" && string(b[8:14]) == "WEBPVP":
		return formatWebP, true
	}
	return avatarFormat{}, false
}

// decodePixels bounds the pixels of the uploads decoded at once in this
// process, weighted by each image's size (golang.org/x/sync's weighted
// semaphore): one image of the largest accepted size (its 16 Mpx take up
// to 128 MiB decoded, and a second of CPU to scale) at a time, or many
// small ones. Eight such uploads at once reached 635 MB when a count of
// two decodes was the only bound. An upload waits at most decodeMaxWait
// for room, then is answered 503.
var decodePixels = semaphore.NewWeighted(MaxAvatarSide * MaxAvatarSide)

const decodeMaxWait = 5 * time.Second

// Uploads per user: each costs up to a second of CPU.
const (
	avatarUploads      = 10
	avatarUploadWindow = time.Hour
)

// MakeAvatar turns an uploaded file into the avatar profiled stores: a
// PNG, AvatarSide pixels square, cut from the centre of the image, turned
// upright if a JPEG says it was taken sideways, and without any of the
// original's metadata. The format comes from the bytes; the dimensions
// are checked before the image is decoded, so a small file that claims to
// be a huge image is refused without allocating it.
func MakeAvatar(ctx context.Context, data []byte) ([]byte, error) {
	f, cfg, err := avatarConfig(data)
	if err != nil {
		return nil, err
	}
	px := int64(cfg.Width) * int64(cfg.Height)
	wctx, cancel := context.WithTimeout(ctx, decodeMaxWait)
	err = decodePixels.Acquire(wctx, px)
	cancel()
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, &Error{Kind: KindUnavailable, RetryAfter: time.Second, Field: "file",
			Reason: "The server is busy decoding other images: try again in a moment"}
	}
	defer decodePixels.Release(px)
	noteDecoding(px)
	defer noteDecoding(-px)
	img, err := f.decode(bytes.NewReader(data))
	if err != nil {
		return nil, Invalid("file", "file is not a valid %s image: it is truncated or corrupt", f.name)
	}
	b := img.Bounds()
	if b.Empty() || b.Dx() > MaxAvatarSide || b.Dy() > MaxAvatarSide {
		return nil, Invalid("file", "file is not a valid %s image", f.name)
	}
	side := min(b.Dx(), b.Dy())
	crop := image.Rect(0, 0, side, side).Add(b.Min).Add(image.Pt((b.Dx()-side)/2, (b.Dy()-side)/2))
	dst := image.NewRGBA(image.Rect(0, 0, AvatarSide, AvatarSide))
	draw.CatmullRom.Scale(dst, dst.Bounds(), img, crop, draw.Src, nil)
	if f.name == formatJPEG.name {
		dst = orient(dst, jpegOrientation(data))
	}
	var out bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(&out, dst); err != nil {
		return nil, fmt.Errorf("encode avatar: %w", err)
	}
	return out.Bytes(), nil
}

// avatarConfig makes the cheap checks of an upload, without decoding it:
// its size, its format from its bytes, and its dimensions from its header.
func avatarConfig(data []byte) (avatarFormat, image.Config, error) {
	if len(data) == 0 {
		return avatarFormat{}, image.Config{}, Invalid("file", "file is empty: send a PNG, JPEG, GIF or WebP image")
	}
	if len(data) > MaxAvatarBytes {
		return avatarFormat{}, image.Config{}, &Error{Kind: KindTooLarge, Field: "file", Reason: fmt.Sprintf("file must be at most %d bytes (5 MiB)", MaxAvatarBytes)}
	}
	f, ok := sniffImage(data)
	if !ok {
		return avatarFormat{}, image.Config{}, Invalid("file", "file must be a PNG, JPEG, GIF or WebP image")
	}
	cfg, err := f.config(bytes.NewReader(data))
	if err != nil {
		return avatarFormat{}, image.Config{}, Invalid("file", "file is not a valid %s image", f.name)
	}
	if cfg.Width < 1 || cfg.Height < 1 {
		return avatarFormat{}, image.Config{}, Invalid("file", "the image has no pixels")
	}
	if cfg.Width > MaxAvatarSide || cfg.Height > MaxAvatarSide {
		return avatarFormat{}, image.Config{}, Invalid("file", "the image must be at most %dx%d pixels; this one is %dx%d", MaxAvatarSide, MaxAvatarSide, cfg.Width, cfg.Height)
	}
	return f, cfg, nil
}

// decoding tracks the pixels being decoded and the most ever at once, for
// the test that holds the bound.
var decoding struct {
	mu        sync.Mutex
	now, peak int64
}

func noteDecoding(px int64) {
	decoding.mu.Lock()
	defer decoding.mu.Unlock()
	decoding.now += px
	decoding.peak = max(decoding.peak, decoding.now)
}

// AvatarPixelsPeak is the most pixels of uploads ever decoded at once in
// this process.
func AvatarPixelsPeak() int64 {
	decoding.mu.Lock()
	defer decoding.mu.Unlock()
	return decoding.peak
}

// jpegOrientation returns the EXIF Orientation (1 to 8) of a JPEG, 1 if it
// has none or it cannot be read.
func jpegOrientation(b []byte) int {
	if len(b) < 4 || b[0] != 0xff || b[1] != 0xd8 {
		return 1
	}
	for i := 2; i+4 <= len(b); {
		if b[i] != 0xff {
			return 1
		}
		marker := b[i+1]
		if marker == 0xff { // fill byte
			i++
			continue
		}
		if marker == 0xda || marker == 0xd9 { // start of scan, end of image: no more headers
			return 1
		}
		n := int(binary.BigEndian.Uint16(b[i+2:]))
		if n < 2 || i+2+n > len(b) {
			return 1
		}
		seg := b[i+4 : i+2+n]
		if marker == 0xe1 && bytes.HasPrefix(seg, []byte("Exif\x00\x00")) {
			return exifOrientation(seg[6:])
		}
		i += 2 + n
	}
	return 1
}

// exifOrientation reads tag 0x0112 of IFD0 in a TIFF structure.
func exifOrientation(t []byte) int {
	if len(t) < 8 {
		return 1
	}
	var order binary.ByteOrder
	switch string(t[:4]) {
	case "II*\x00":
		order = binary.LittleEndian
	case "MM\x00*":
		order = binary.BigEndian
	default:
		return 1
	}
	off := int(order.Uint32(t[4:]))
	if off < 8 || off+2 > len(t) {
		return 1
	}
	count := int(order.Uint16(t[off:]))
	for k := range count {
		e := off + 2 + 12*k
		if e+12 > len(t) {
			return 1
		}
		if order.Uint16(t[e:]) == 0x0112 && order.Uint16(t[e+2:]) == 3 { // Orientation, SHORT
			if v := int(order.Uint16(t[e+8:])); v >= 1 && v <= 8 {
				return v
			}
			return 1
		}
	}
	return 1
}

// orient applies an EXIF orientation to a square image, so that it shows
// upright.
func orient(src *image.RGBA, o int) *image.RGBA {
	if o <= 1 || o > 8 {
		return src
	}
	n := src.Bounds().Dx()
	dst := image.NewRGBA(src.Bounds())
	for y := range n {
		for x := range n {
			var sx, sy int
			switch o {
			case 2: // mirror horizontal
				sx, sy = n-1-x, y
			case 3: // rotate 180
				sx, sy = n-1-x, n-1-y
			case 4: // mirror vertical
				sx, sy = x, n-1-y
			case 5: // mirror horizontal, rotate 270 CW (transpose)
				sx, sy = y, x
			case 6: // rotate 90 CW
				sx, sy = y, n-1-x
			case 7: // mirror horizontal, rotate 90 CW (transverse)
				sx, sy = n-1-y, n-1-x
			case 8: // rotate 270 CW
				sx, sy = n-1-y, x
			}
			dst.SetRGBA(x, y, src.RGBAAt(sx, sy))
		}
	}
	return dst
}

var avatarIDPattern = regexp.MustCompile(`^[0-9a-f]{32}$`)

// SetAvatar replaces the actor's avatar with the picture in data (see
// MakeAvatar) and returns the user, whose avatar now has a new id and URL.
// Human users only; it needs account:read_write.
func (s *Service) SetAvatar(ctx context.Context, a Actor, data []byte) (Me, error) {
	if err := mustWrite(a); err != nil {
		return Me{}, err
	}
	// Refuse service accounts before spending time on the image.
	m, err := loadHuman(ctx, s.store, a.User.ID)
	if err != nil {
		return Me{}, err
	}
	// What is refused by its header costs nothing to speak of; what
	// would be decoded draws from the user's budget first.
	if _, _, err := avatarConfig(data); err != nil {
		return Me{}, err
	}
	if err := s.attempt(ctx, "avatar:"+strconv.FormatInt(a.User.ID, 10), avatarUploads, avatarUploadWindow); err != nil {
		return Me{}, err
	}
	pic, err := MakeAvatar(ctx, data)
	if err != nil {
		return Me{}, err
	}
	id, err := s.newSecret(16)
	if err != nil {
		return Me{}, err
	}
	av := Avatar{UserID: a.User.ID, ID: id, PNG: pic, Created: s.clock()}
	err = s.store.Update(ctx, func(tx Tx) error {
		if m, err = lockHuman(ctx, tx, a.User.ID); err != nil {
			return err
		}
		if err := tx.PutAvatar(ctx, av); err != nil {
			return notFound(err, "put avatar")
		}
		m.Profile.AvatarID = av.ID
		return nil
	})
	m.Profile = m.Profile.withDefaults()
	return m, err
}

// DeleteAvatar removes the actor's picture: the uploaded avatar, and the
// picture the identity provider reported (until the next sync-from-auth).
// Human users only; it needs account:read_write.
func (s *Service) DeleteAvatar(ctx context.Context, a Actor) error {
	if err := mustWrite(a); err != nil {
		return err
	}
	return s.store.Update(ctx, func(tx Tx) error {
		m, err := lockHuman(ctx, tx, a.User.ID)
		if err != nil {
			return err
		}
		if err := tx.DeleteAvatar(ctx, a.User.ID); err != nil {
			return notFound(err, "delete avatar")
		}
		if m.Profile.PictureURL != "" {
			m.Profile.PictureURL = ""
			return notFound(tx.PutIAMProfile(ctx, m.Profile), "forget picture")
		}
		return nil
	})
}

// AvatarImage returns an avatar by its public id, for anyone: avatar URLs
// are public, and unguessable.
func (s *Service) AvatarImage(ctx context.Context, id string) (Avatar, error) {
	if !avatarIDPattern.MatchString(id) {
		return Avatar{}, NotFound()
	}
	av, err := s.store.Avatar(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return Avatar{}, NotFound()
	}
	return av, notFound(err, "get avatar")
}
