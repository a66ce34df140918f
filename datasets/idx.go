package datasets

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
)

// IDX magic numbers: two zero bytes, the element type (0x08 = unsigned byte) and the number of dimensions.
const (
	// MagicImages is the magic number of an IDX3 file of unsigned bytes (images: count, rows, cols).
	MagicImages = 0x00000803
	// MagicLabels is the magic number of an IDX1 file of unsigned bytes (labels: count).
	MagicLabels = 0x00000801

	// MaxBytes bounds the payload a header may declare (count×rows×cols bytes for images, count for
	// labels). Larger headers are rejected before anything is allocated.
	MaxBytes = 1 << 31
)

// Sentinel errors. Every error returned by this package that falls into one of these classes wraps the
// matching sentinel, so callers can test with errors.Is; the message itself carries the specifics
// (what was found, what was expected, which file).
var (
	ErrBadMagic      = errors.New("bad magic number")
	ErrTruncated     = errors.New("truncated")
	ErrZeroDim       = errors.New("zero dimension")
	ErrTooLarge      = errors.New("declared size too large")
	ErrCorruptGzip   = errors.New("corrupt gzip stream")
	ErrCountMismatch = errors.New("count mismatch")
	ErrNotFound      = errors.New("not found")
	ErrDtype         = errors.New("unsupported dtype")
	ErrRange         = errors.New("value out of range")
)

const (
	imagesWhat = "IDX3 image file"
	labelsWhat = "IDX1 label file"

	firstChunk = 1 << 20 // first body chunk; later ones double up to maxChunk, so a lying header cannot force a huge allocation
	maxChunk   = 1 << 26

	maxDeflateRatio = 1032    // deflate cannot expand data by more than about 1032:1
	maxGzipPrealloc = 1 << 28 // most bytes allocated up front for gzip input
	drainLimit      = 1 << 16 // decompressed bytes read past the payload to reach the gzip trailer (CRC check)
)

// ReadImages reads an IDX3 image file (magic 0x00000803): a big-endian header of magic, count, rows and
// cols, followed by count×rows×cols pixel bytes, image after image, each row-major. If the stream starts
// with the gzip magic (0x1f 0x8b) it is gunzipped transparently, otherwise it is read raw. Bytes after the
// payload are ignored (for gzip input the stream is still read up to its trailer so the CRC is checked).
func ReadImages(r io.Reader) (*Images, error) {
	im, err := readImages(r)
	if err != nil {
		return nil, fmt.Errorf("datasets: %w", err)
	}
	return im, nil
}

// ReadLabels reads an IDX1 label file (magic 0x00000801): a big-endian header of magic and count,
// followed by count label bytes. Gzip or raw as for ReadImages.
func ReadLabels(r io.Reader) ([]uint8, error) {
	l, err := readLabels(r)
	if err != nil {
		return nil, fmt.Errorf("datasets: %w", err)
	}
	return l, nil
}

func readImages(r io.Reader) (*Images, error) {
	if r == nil {
		return nil, fmt.Errorf("%s: nil reader", imagesWhat)
	}
	src, zr, err := maybeGunzip(r)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", imagesWhat, err)
	}
	var hdr [16]byte
	if err := readHeader(src, hdr[:], zr != nil, MagicImages); err != nil {
		return nil, fmt.Errorf("%s: %w", imagesWhat, err)
	}
	n := uint64(binary.BigEndian.Uint32(hdr[4:]))
	rows := uint64(binary.BigEndian.Uint32(hdr[8:]))
	cols := uint64(binary.BigEndian.Uint32(hdr[12:]))
	if n == 0 || rows == 0 || cols == 0 {
		return nil, fmt.Errorf("%s: %w: header declares %d images of %d×%d pixels; all three must be positive",
			imagesWhat, ErrZeroDim, n, rows, cols)
	}
	// n, rows, cols < 2^32, so n*rows < 2^64; after bounding it by MaxBytes, (n*rows)*cols < 2^63.
	limit := maxPayload()
	if nr := n * rows; nr > limit || nr*cols > limit {
		return nil, fmt.Errorf("%s: %w: header declares %d images of %d×%d pixels, more than the %d-byte limit",
			imagesWhat, ErrTooLarge, n, rows, cols, limit)
	}
	total := int(n * rows * cols)
	pix, err := readBody(src, total, preallocLimit(r, zr != nil))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", imagesWhat, bodyError(err, zr != nil,
			fmt.Sprintf("header declares %d images of %d×%d = %d pixel bytes, got %d bytes", n, rows, cols, total, len(pix))))
	}
	if err := drainGzip(zr); err != nil {
		return nil, fmt.Errorf("%s: %w", imagesWhat, err)
	}
	return &Images{N: int(n), Rows: int(rows), Cols: int(cols), Pixels: pix}, nil
}

func readLabels(r io.Reader) ([]uint8, error) {
	if r == nil {
		return nil, fmt.Errorf("%s: nil reader", labelsWhat)
	}
	src, zr, err := maybeGunzip(r)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", labelsWhat, err)
	}
	var hdr [8]byte
	if err := readHeader(src, hdr[:], zr != nil, MagicLabels); err != nil {
		return nil, fmt.Errorf("%s: %w", labelsWhat, err)
	}
	n := uint64(binary.BigEndian.Uint32(hdr[4:]))
	if n == 0 {
		return nil, fmt.Errorf("%s: %w: header declares 0 labels", labelsWhat, ErrZeroDim)
	}
	if limit := maxPayload(); n > limit {
		return nil, fmt.Errorf("%s: %w: header declares %d labels, more than the %d-byte limit",
			labelsWhat, ErrTooLarge, n, limit)
	}
	labels, err := readBody(src, int(n), preallocLimit(r, zr != nil))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", labelsWhat, bodyError(err, zr != nil,
			fmt.Sprintf("header declares %d labels, got %d", n, len(labels))))
	}
	if err := drainGzip(zr); err != nil {
		return nil, fmt.Errorf("%s: %w", labelsWhat, err)
	}
	return labels, nil
}

// maxPayload is MaxBytes, or less where int is narrower than that.
func maxPayload() uint64 {
	if uint64(math.MaxInt) < MaxBytes {
		return uint64(math.MaxInt)
	}
	return MaxBytes
}

// maybeGunzip peeks at the first two bytes and wraps the stream in a gzip reader if they are the gzip
// magic. The returned *gzip.Reader is nil for raw input.
func maybeGunzip(r io.Reader) (io.Reader, *gzip.Reader, error) {
	br := bufio.NewReader(r)
	magic, err := br.Peek(2)
	if err != nil || magic[0] != 0x1f || magic[1] != 0x8b {
		// Too short to be gzip, or not gzip: read raw. A short stream then fails as a truncated header;
		// a read error other than EOF will surface again on the next read.
		return br, nil, nil
	}
	zr, err := gzip.NewReader(br)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrCorruptGzip, err)
	}
	return zr, zr, nil
}

// readHeader fills hdr, checking the magic number as soon as its 4 bytes are in, so that a short file
// of the wrong kind is reported as such rather than as truncated.
func readHeader(r io.Reader, hdr []byte, gz bool, magic uint32) error {
	n, err := io.ReadFull(r, hdr[:4])
	if err == nil {
		if err := checkMagic(binary.BigEndian.Uint32(hdr), magic); err != nil {
			return err
		}
		var m int
		m, err = io.ReadFull(r, hdr[4:])
		n += m
	}
	if err == nil {
		return nil
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		what := ""
		if gz {
			what = " (after gunzip)"
		}
		return fmt.Errorf("%w header: expected %d bytes%s, got %d", ErrTruncated, len(hdr), what, n)
	}
	if gz {
		return fmt.Errorf("%w while reading header: %w", ErrCorruptGzip, err)
	}
	return fmt.Errorf("reading header: %w", err)
}

func checkMagic(got, want uint32) error {
	if got == want {
		return nil
	}
	hint := ""
	switch {
	case got == MagicLabels:
		hint = " (this looks like an IDX1 label file)"
	case got == MagicImages:
		hint = " (this looks like an IDX3 image file)"
	case got>>16 != 0:
		hint = " (the first two bytes of an IDX file are zero; is this an IDX file?)"
	case got>>8&0xff != 0x08:
		hint = fmt.Sprintf(" (element type 0x%02x; only 0x08, unsigned byte, is supported)", got>>8&0xff)
	}
	return fmt.Errorf("%w: found 0x%08x, expected 0x%08x%s", ErrBadMagic, got, want, hint)
}

// readBody reads exactly n bytes. If n <= limit (see preallocLimit) the whole buffer is allocated at once. Otherwise memory is claimed
// only as data actually arrives (chunks of growing size, joined once at the end), so a header that
// over-declares its size costs no more than the data present. On error it returns what it got.
func readBody(r io.Reader, n int, limit int64) ([]byte, error) {
	var chunks [][]byte
	got, size := 0, firstChunk
	if limit >= int64(n) {
		size = n
	}
	for got < n {
		c := make([]byte, min(size, n-got))
		m, err := io.ReadFull(r, c)
		got += m
		chunks = append(chunks, c[:m])
		if err != nil {
			return join(chunks, got), err
		}
		size = min(2*size, maxChunk)
	}
	return join(chunks, got), nil
}

// preallocLimit returns how many bytes may be allocated up front for reading r (gunzipped if gz): an
// upper limit on what r can still deliver, or 0 if unknown. It recognises readers with a Size method
// (bytes.Reader, strings.Reader, io.SectionReader) and regular files. For gzip input it allows deflate's
// maximum expansion ratio but at most maxGzipPrealloc, so a corrupt header in a large gzip file cannot
// claim gigabytes before the data runs out.
func preallocLimit(r io.Reader, gz bool) int64 {
	var size int64
	switch v := r.(type) {
	case interface{ Size() int64 }:
		size = v.Size()
	case interface{ Stat() (fs.FileInfo, error) }:
		fi, err := v.Stat()
		if err != nil || !fi.Mode().IsRegular() {
			return 0
		}
		size = fi.Size()
	}
	if size <= 0 {
		return 0
	}
	if gz {
		return min(size, maxGzipPrealloc/maxDeflateRatio) * maxDeflateRatio
	}
	return size
}

func join(chunks [][]byte, n int) []byte {
	if len(chunks) == 1 {
		return chunks[0]
	}
	out := make([]byte, 0, n)
	for _, c := range chunks {
		out = append(out, c...)
	}
	return out
}

func bodyError(err error, gz bool, detail string) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		if gz {
			detail += " (gzip stream ended early)"
		}
		return fmt.Errorf("%w body: %s", ErrTruncated, detail)
	}
	if gz {
		return fmt.Errorf("%w: %w (%s)", ErrCorruptGzip, err, detail)
	}
	return fmt.Errorf("reading body: %w (%s)", err, detail)
}

// drainGzip reads past the payload up to the end of the gzip stream, which is where the gzip reader
// verifies the CRC-32 and length in the trailer. At most drainLimit trailing bytes are read.
func drainGzip(zr *gzip.Reader) error {
	if zr == nil {
		return nil
	}
	_, err := io.CopyN(io.Discard, zr, drainLimit)
	if err != nil && err != io.EOF {
		return fmt.Errorf("%w after the payload: %w", ErrCorruptGzip, err)
	}
	return nil
}
