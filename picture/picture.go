// Package picture is the image mechanics of avatars: it tells an upload's
// format from its bytes, checks its dimensions from its header before
// decoding anything, decodes it under a process-wide bound on the pixels
// being decoded at once, cuts a centred square, scales it, turns a
// sideways JPEG upright, and encodes a PNG without any of the original's
// metadata. The rules (how large, how many, for whom) are the core's: it
// gives the Limits and words the errors.
package picture

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"image"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"sync"
	"time"

	"golang.org/x/image/draw"
	"golang.org/x/image/webp"
	"golang.org/x/sync/semaphore"
)

// Limits are what an upload may be, and the side of the square made.
type Limits struct {
	MaxBytes int // the largest file
	MaxSide  int // the widest and tallest image, in pixels
	Side     int // the side of the square PNG made
}

// Problem says what is wrong with an upload.
type Problem int

const (
	Empty      Problem = iota + 1 // no bytes
	TooLarge                      // more bytes than Limits.MaxBytes
	NotAnImage                    // not PNG, JPEG, GIF or WebP by its bytes
	Corrupt                       // the format's header or data does not decode
	NoPixels                      // a zero width or height
	TooWide                       // wider or taller than Limits.MaxSide
	Busy                          // no room to decode it now
)

// Error is an upload refused, with the problem and a sentence for people.
type Error struct {
	Problem Problem
	Reason  string
}

func (e *Error) Error() string { return e.Reason }

func refuse(p Problem, format string, args ...any) *Error {
	return &Error{Problem: p, Reason: fmt.Sprintf(format, args...)}
}

// Format is one image format accepted.
type Format struct {
	Name   string
	config func(io.Reader) (image.Config, error)
	decode func(io.Reader) (image.Image, error)
}

var (
	formatPNG  = Format{"PNG", png.DecodeConfig, png.Decode}
	formatJPEG = Format{"JPEG", jpeg.DecodeConfig, jpeg.Decode}
	formatGIF  = Format{"GIF", gif.DecodeConfig, gif.Decode} // the first frame
	formatWebP = Format{"WebP", webp.DecodeConfig, webp.Decode}
)

// sniff tells an image's format from its first bytes, never from a name
// or a declared type. The signatures are those of the WHATWG MIME
// Sniffing standard, which net/http's DetectContentType implements too
// (the tests check that both agree).
func sniff(b []byte) (Format, bool) {
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
	return Format{}, false
}

// Check makes the cheap checks of an upload, without decoding it: its
// size, its format from its bytes, and its dimensions from its header. A
// small file that claims to be a huge image is refused here, before
// anything is allocated for it.
func Check(data []byte, l Limits) (Format, image.Config, error) {
	if len(data) == 0 {
		return Format{}, image.Config{}, refuse(Empty, "file is empty: send a PNG, JPEG, GIF or WebP image")
	}
	if len(data) > l.MaxBytes {
		return Format{}, image.Config{}, refuse(TooLarge, "file must be at most %d bytes", l.MaxBytes)
	}
	f, ok := sniff(data)
	if !ok {
		return Format{}, image.Config{}, refuse(NotAnImage, "file must be a PNG, JPEG, GIF or WebP image")
	}
	cfg, err := f.config(bytes.NewReader(data))
	if err != nil {
		return Format{}, image.Config{}, refuse(Corrupt, "file is not a valid %s image", f.Name)
	}
	if cfg.Width < 1 || cfg.Height < 1 {
		return Format{}, image.Config{}, refuse(NoPixels, "the image has no pixels")
	}
	if cfg.Width > l.MaxSide || cfg.Height > l.MaxSide {
		return Format{}, image.Config{}, refuse(TooWide, "the image must be at most %dx%d pixels; this one is %dx%d", l.MaxSide, l.MaxSide, cfg.Width, cfg.Height)
	}
	return f, cfg, nil
}

// decodePixels bounds the pixels of the uploads decoded at once in this
// process, weighted by each image's size (golang.org/x/sync's weighted
// semaphore): by default one image of 4096x4096 (its 16 Mpx take up to
// 128 MiB decoded, and a second of CPU to scale) at a time, or many small
// ones. Eight such uploads at once reached 635 MB when a count of two
// decodes was the only bound. An upload waits at most decodeMaxWait for
// room, then is refused as Busy.
var decodePixels = semaphore.NewWeighted(maxDecodingPixels)

const (
	maxDecodingPixels = 4096 * 4096
	decodeMaxWait     = 5 * time.Second
)

// Square turns an upload into a square PNG of l.Side pixels, cut from the
// centre of the image, turned upright if a JPEG says it was taken
// sideways, and without any of the original's metadata.
func Square(ctx context.Context, data []byte, l Limits) ([]byte, error) {
	f, cfg, err := Check(data, l)
	if err != nil {
		return nil, err
	}
	px := min(int64(cfg.Width)*int64(cfg.Height), maxDecodingPixels)
	wctx, cancel := context.WithTimeout(ctx, decodeMaxWait)
	err = decodePixels.Acquire(wctx, px)
	cancel()
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, refuse(Busy, "The server is busy decoding other images: try again in a moment")
	}
	defer decodePixels.Release(px)
	noteDecoding(px)
	defer noteDecoding(-px)
	img, err := f.decode(bytes.NewReader(data))
	if err != nil {
		return nil, refuse(Corrupt, "file is not a valid %s image: it is truncated or corrupt", f.Name)
	}
	b := img.Bounds()
	if b.Empty() || b.Dx() > l.MaxSide || b.Dy() > l.MaxSide {
		return nil, refuse(Corrupt, "file is not a valid %s image", f.Name)
	}
	side := min(b.Dx(), b.Dy())
	crop := image.Rect(0, 0, side, side).Add(b.Min).Add(image.Pt((b.Dx()-side)/2, (b.Dy()-side)/2))
	dst := image.NewRGBA(image.Rect(0, 0, l.Side, l.Side))
	draw.CatmullRom.Scale(dst, dst.Bounds(), img, crop, draw.Src, nil)
	if f.Name == formatJPEG.Name {
		dst = orient(dst, jpegOrientation(data))
	}
	var out bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(&out, dst); err != nil {
		return nil, fmt.Errorf("encode the picture: %w", err)
	}
	return out.Bytes(), nil
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

// PixelsPeak is the most pixels ever decoded at once in this process.
func PixelsPeak() int64 {
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
