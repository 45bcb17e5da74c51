// Package imagetest makes image files for the avatar tests: each accepted
// format, and each kind of bad file (truncated, of another type, claiming
// more pixels than allowed, a decompression bomb).
//
// The WebP files in testdata come from golang.org/x/image's own testdata
// (BSD licence, Copyright The Go Authors): Go has no WebP encoder.
package imagetest

import (
	"bytes"
	"compress/zlib"
	"embed"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"sync"
)

//go:embed testdata/*.webp
var webpFiles embed.FS

// Colours of the test pictures.
var (
	Red   = color.RGBA{0xff, 0, 0, 0xff}
	Green = color.RGBA{0, 0xff, 0, 0xff}
	Blue  = color.RGBA{0, 0, 0xff, 0xff}
)

// Framed is a w x h picture whose centred square is green and whose margins
// (left and right, or top and bottom) are red: cut from the centre, it is
// all green.
func Framed(w, h int) image.Image {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	side := min(w, h)
	x0, y0 := (w-side)/2, (h-side)/2
	for y := range h {
		for x := range w {
			c := Red
			if x >= x0 && x < x0+side && y >= y0 && y < y0+side {
				c = Green
			}
			img.SetRGBA(x, y, c)
		}
	}
	return img
}

// Halves is a square picture, red on the left and blue on the right.
func Halves(side int) image.Image {
	img := image.NewRGBA(image.Rect(0, 0, side, side))
	for y := range side {
		for x := range side {
			c := Red
			if x >= side/2 {
				c = Blue
			}
			img.SetRGBA(x, y, c)
		}
	}
	return img
}

func must(err error) {
	if err != nil {
		panic(err)
	}
}

// PNG encodes img.
func PNG(img image.Image) []byte {
	var b bytes.Buffer
	must(png.Encode(&b, img))
	return b.Bytes()
}

// JPEG encodes img at quality 95.
func JPEG(img image.Image) []byte {
	var b bytes.Buffer
	must(jpeg.Encode(&b, img, &jpeg.Options{Quality: 95}))
	return b.Bytes()
}

// GIF encodes img with the Plan 9 palette.
func GIF(img image.Image) []byte {
	var b bytes.Buffer
	must(gif.Encode(&b, img, nil))
	return b.Bytes()
}

// WebP files in testdata: a lossy one (VP8, 150x103), a lossless one
// (VP8L, 75x100) and an extended one with alpha (VP8X, 400x301).
const (
	WebPLossy     = "video-001.lossy.webp"
	WebPLossless  = "gopher-doc.8bpp.lossless.webp"
	WebPWithAlpha = "yellow_rose.lossy-with-alpha.webp"
)

// WebP returns one of the WebP files.
func WebP(name string) []byte {
	b, err := webpFiles.ReadFile("testdata/" + name)
	must(err)
	return b
}

// WithOrientation inserts an EXIF APP1 segment with the Orientation tag o
// (1 to 8) right after a JPEG's start-of-image marker.
func WithOrientation(jpg []byte, o int) []byte {
	var tiff bytes.Buffer
	tiff.WriteString("MM\x00*")
	binary.Write(&tiff, binary.BigEndian, uint32(8))      // IFD0 offset
	binary.Write(&tiff, binary.BigEndian, uint16(1))      // one entry
	binary.Write(&tiff, binary.BigEndian, uint16(0x0112)) // Orientation
	binary.Write(&tiff, binary.BigEndian, uint16(3))      // SHORT
	binary.Write(&tiff, binary.BigEndian, uint32(1))      // one value
	binary.Write(&tiff, binary.BigEndian, uint16(o))      // the value, left-justified
	binary.Write(&tiff, binary.BigEndian, uint16(0))
	binary.Write(&tiff, binary.BigEndian, uint32(0)) // no next IFD
	seg := append([]byte("Exif\x00\x00"), tiff.Bytes()...)
	var out bytes.Buffer
	out.Write(jpg[:2])
	out.Write([]byte{0xff, 0xe1})
	binary.Write(&out, binary.BigEndian, uint16(len(seg)+2))
	out.Write(seg)
	out.Write(jpg[2:])
	return out.Bytes()
}

// PNGClaiming is a valid 1x1 PNG whose header says it is w x h: what a
// decoder that trusts headers would allocate.
func PNGClaiming(w, h int) []byte {
	b := PNG(image.NewGray(image.Rect(0, 0, 1, 1)))
	// The signature (8), IHDR's length (4) and type (4), then width and height.
	binary.BigEndian.PutUint32(b[16:], uint32(w))
	binary.BigEndian.PutUint32(b[20:], uint32(h))
	binary.BigEndian.PutUint32(b[29:], crc32.ChecksumIEEE(b[12:29]))
	return b
}

// GIFClaiming is a 1x1 GIF whose logical screen is w x h (at most 65535).
func GIFClaiming(w, h int) []byte {
	b := GIF(image.NewGray(image.Rect(0, 0, 1, 1)))
	binary.LittleEndian.PutUint16(b[6:], uint16(w))
	binary.LittleEndian.PutUint16(b[8:], uint16(h))
	return b
}

// JPEGClaiming is a small JPEG whose frame header says w x h (at most 65535).
func JPEGClaiming(w, h int) []byte {
	b := JPEG(image.NewGray(image.Rect(0, 0, 8, 8)))
	for i := 2; i+9 < len(b); {
		marker := b[i+1]
		n := int(binary.BigEndian.Uint16(b[i+2:]))
		if marker == 0xc0 { // SOF0: length, precision, height, width
			binary.BigEndian.PutUint16(b[i+5:], uint16(h))
			binary.BigEndian.PutUint16(b[i+7:], uint16(w))
			return b
		}
		i += 2 + n
	}
	panic("imagetest: no SOF0 in the JPEG")
}

var bomb = sync.OnceValue(func() []byte {
	const side = 30000 // 900 MB once decoded, about 110 KB compressed
	var idat bytes.Buffer
	zw, err := zlib.NewWriterLevel(&idat, zlib.BestCompression)
	must(err)
	row := make([]byte, 1+(side+7)/8) // filter byte, then 1-bit pixels
	for range side {
		_, err := zw.Write(row)
		must(err)
	}
	must(zw.Close())
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, data []byte) {
		binary.Write(&b, binary.BigEndian, uint32(len(data)))
		c := append([]byte(typ), data...)
		b.Write(c)
		binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(c))
	}
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], side)
	binary.BigEndian.PutUint32(ihdr[4:], side)
	ihdr[8], ihdr[9] = 1, 0 // bit depth 1, greyscale
	chunk("IHDR", ihdr)
	chunk("IDAT", idat.Bytes())
	chunk("IEND", nil)
	return b.Bytes()
})

// Bomb is a real decompression bomb: a valid PNG of about 110 KB that
// decodes to a 30000 x 30000 image.
func Bomb() []byte { return bomb() }

// Truncated cuts a file in half.
func Truncated(b []byte) []byte { return b[:len(b)/2] }

// NotImages are files of other types, some named or shaped like images.
var NotImages = map[string][]byte{
	"text": []byte("hello, I am not a picture\n"),
	"svg":  []byte(`<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>`),
	"bmp":  append([]byte("BM"), make([]byte, 60)...),
	"pdf":  []byte("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"),
	"html": []byte("<html><body><img src=x onerror=alert(1)></body></html>"),
	"riff": append([]byte("RIFF\x10\x00\x00\x00WAVEfmt "), make([]byte, 16)...),
}

// WithPNGText inserts a tEXt chunk (metadata, such as a location) right
// after a PNG's header chunk.
func WithPNGText(p []byte, key, value string) []byte {
	data := append(append([]byte(key), 0), value...)
	var c bytes.Buffer
	binary.Write(&c, binary.BigEndian, uint32(len(data)))
	body := append([]byte("tEXt"), data...)
	c.Write(body)
	binary.Write(&c, binary.BigEndian, crc32.ChecksumIEEE(body))
	const afterIHDR = 8 + 4 + 4 + 13 + 4
	return append(append(append([]byte{}, p[:afterIHDR]...), c.Bytes()...), p[afterIHDR:]...)
}
