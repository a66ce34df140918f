package ops

import (
	"math"
	"sync"
	"unsafe"

	"github.com/ebm-go/ebm/internal/parallel"
)

// Matrix products for the fused ops (Affine, AffineT and the gradient xᵀg). They are written
// for the shapes of energy-based models: a left operand with few non-zero entries per row (MNIST
// pixels are about 19% non-zero, sampled hidden and visible states are binary), so a product is
// a gather-and-add over the rows its non-zeros select (gather.go), not a dense GEMM. Dense
// operands take the same path at the cost of a dense product, or a BLAS GEMM when one is
// installed (see SetDenseGEMM).

// number is the element type of the kernels.
type number interface{ float32 | float64 }

// gatherAdd dispatches to the float32 or float64 gather kernel, without bounds checks: the
// products below check their operands' sizes once, and the indices of a sparse view are
// in range by construction.
func gatherAdd[T number](dst, m []T, ld int, idx []int32, val []T) {
	switch d := any(dst).(type) {
	case []float32:
		v, _ := any(val).([]float32)
		gatherRows32(d, any(m).([]float32), ld, idx, v)
	case []float64:
		v, _ := any(val).([]float64)
		gatherRows64(d, any(m).([]float64), ld, idx, v)
	}
}

// sparse is a compressed-row view of the non-zero entries of a (rows, cols) matrix: row r has
// the entries idx[start[r]:start[r+1]] (in increasing column order) with values
// val[start[r]:start[r+1]]. When every non-zero entry is exactly 1 (binary states), binary is
// set and val is left empty. Its slices are reused from call to call.
type sparse[T number] struct {
	start  []int32
	idx    []int32
	val    []T
	binary bool
	nnz    int

	// pad holds a copy of the dense operand with 64-byte aligned rows (alignedRows).
	pad []T
}

// rowsOf fills s with the non-zeros of x (rows, cols), row by row. The loops have no
// data-dependent branch (a branch on x ≠ 0 is mispredicted on every other entry of a sampled
// binary state): with AVX2, blocks of 8 (4) entries are compacted by a permutation looked up
// from their non-zero mask; the scalar loop writes every entry and advances the write position
// past non-zeros only.
func (s *sparse[T]) rowsOf(x []T, rows, cols int) {
	x = x[:rows*cols]
	s.start = resize(s.start, rows+1)
	s.idx = resize(s.idx, rows*cols+8) // slack for the vector stores
	s.val = resize(s.val, rows*cols+8)
	var notOne uint64
	switch xs := any(x).(type) {
	case []float32:
		if haveVMath {
			notOne = compactRows32(s.start, s.idx, any(s.val).([]float32), xs, rows, cols)
		} else {
			notOne = rowsOf32(s.start, s.idx, any(s.val).([]float32), xs, rows, cols)
		}
	case []float64:
		if haveVMath {
			notOne = compactRows64(s.start, s.idx, any(s.val).([]float64), xs, rows, cols)
		} else {
			notOne = rowsOf64(s.start, s.idx, any(s.val).([]float64), xs, rows, cols)
		}
	}
	s.idx = s.idx[:s.start[rows]]
	s.val = s.val[:s.start[rows]]
	s.binary = notOne == 0
	s.finish()
}

// rowsOf32 writes the compressed rows of x into start, idx and val (each long enough) and
// returns a non-zero value iff some non-zero entry differs from 1.
func rowsOf32(start, idx []int32, val, x []float32, rows, cols int) (notOne uint64) {
	n := 0
	for r := range rows {
		start[r] = int32(n)
		row := x[r*cols : (r+1)*cols]
		ix, vx := idx[n:n+cols], val[n:n+cols] // n ≤ r·cols, so these fit
		k := 0
		for c, v := range row {
			b := math.Float32bits(v)
			nz := (b<<1 | -(b << 1)) >> 31 // 1 iff v ≠ ±0
			ix[k] = int32(c)               // k ≤ c < cols
			vx[k] = v
			notOne |= uint64((b ^ 0x3f800000) & -nz)
			k += int(nz)
		}
		n += k
	}
	start[rows] = int32(n)
	return notOne
}

// compactLUT32 holds, for each 8-bit non-zero mask, the lane indices of its set bits in
// increasing order (then zeros): the VPERMD permutation that compacts a block of 8.
// compactLUT64 holds the same for 4-bit masks of doubles: rows 0-15 move pairs of 32-bit lanes,
// rows 16-31 the int32 indices.
var compactLUT32, compactLUT64 = func() (a [256][8]int32, b [32][8]int32) {
	for m := range 256 {
		k := 0
		for j := range 8 {
			if m>>j&1 == 1 {
				a[m][k] = int32(j)
				k++
			}
		}
	}
	for m := range 16 {
		k := 0
		for j := range 4 {
			if m>>j&1 == 1 {
				b[m][2*k], b[m][2*k+1] = int32(2*j), int32(2*j+1)
				b[16+m][k] = int32(j)
				k++
			}
		}
	}
	return a, b
}()

// compactRows32 is rowsOf32 with the AVX2 compaction kernel for blocks of 8 and the scalar
// loop for the last cols mod 8 entries of each row.
func compactRows32(start, idx []int32, val, x []float32, rows, cols int) (notOne uint64) {
	n := 0
	body := cols &^ 7
	for r := range rows {
		start[r] = int32(n)
		row := x[r*cols : (r+1)*cols]
		if body > 0 {
			k, no := compact32AVX2(unsafe.Pointer(&row[0]), body, 0, unsafe.Pointer(&idx[n]), unsafe.Pointer(&val[n]), unsafe.Pointer(&compactLUT32))
			n += k
			if no {
				notOne = 1
			}
		}
		for c := body; c < cols; c++ {
			v := row[c]
			b := math.Float32bits(v)
			nz := (b<<1 | -(b << 1)) >> 31
			idx[n], val[n] = int32(c), v
			notOne |= uint64((b ^ 0x3f800000) & -nz)
			n += int(nz)
		}
	}
	start[rows] = int32(n)
	return notOne
}

// compactRows64 is compactRows32 for float64 (blocks of 4).
func compactRows64(start, idx []int32, val, x []float64, rows, cols int) (notOne uint64) {
	n := 0
	body := cols &^ 3
	for r := range rows {
		start[r] = int32(n)
		row := x[r*cols : (r+1)*cols]
		if body > 0 {
			k, no := compact64AVX2(unsafe.Pointer(&row[0]), body, 0, unsafe.Pointer(&idx[n]), unsafe.Pointer(&val[n]), unsafe.Pointer(&compactLUT64))
			n += k
			if no {
				notOne = 1
			}
		}
		for c := body; c < cols; c++ {
			v := row[c]
			b := math.Float64bits(v)
			nz := (b<<1 | -(b << 1)) >> 63
			idx[n], val[n] = int32(c), v
			notOne |= (b ^ 0x3ff0000000000000) & -nz
			n += int(nz)
		}
	}
	start[rows] = int32(n)
	return notOne
}

// rowsOf64 is rowsOf32 for float64.
func rowsOf64(start, idx []int32, val, x []float64, rows, cols int) (notOne uint64) {
	n := 0
	for r := range rows {
		start[r] = int32(n)
		row := x[r*cols : (r+1)*cols]
		ix, vx := idx[n:n+cols], val[n:n+cols]
		k := 0
		for c, v := range row {
			b := math.Float64bits(v)
			nz := (b<<1 | -(b << 1)) >> 63
			ix[k] = int32(c)
			vx[k] = v
			notOne |= (b ^ 0x3ff0000000000000) & -nz
			k += int(nz)
		}
		n += k
	}
	start[rows] = int32(n)
	return notOne
}

// colsOf fills s with the non-zeros of x (rows, cols) column by column: "row" c of s lists the
// rows r (increasing) with x[r, c] ≠ 0. It is the compressed-row view of xᵀ, built from the
// row view rv of x (rowsOf) by a counting sort; count is scratch space, returned for reuse.
func (s *sparse[T]) colsOf(rv *sparse[T], rows, cols int, count []int32) []int32 {
	count = resize(count, cols)
	clear(count)
	for _, c := range rv.idx {
		count[c]++
	}
	s.start = resize(s.start, cols+1)
	at := int32(0)
	for c := range cols {
		s.start[c] = at
		at += count[c]
		count[c] = s.start[c] // next free slot of column c
	}
	s.start[cols] = at
	s.idx = resize(s.idx, int(at))
	s.val = resize(s.val, int(at))
	s.binary = rv.binary
	for r := range rows {
		lo, hi := rv.start[r], rv.start[r+1]
		for k, c := range rv.idx[lo:hi] {
			slot := count[c]
			s.idx[slot] = int32(r)
			if !rv.binary {
				s.val[slot] = rv.val[int(lo)+k]
			}
			count[c] = slot + 1
		}
	}
	s.finish()
	return count
}

func (s *sparse[T]) finish() {
	s.nnz = len(s.idx)
	if s.binary {
		s.val = s.val[:0]
	}
}

// row returns the indices and multipliers (nil when binary) of row r.
func (s *sparse[T]) row(r int) ([]int32, []T) {
	lo, hi := s.start[r], s.start[r+1]
	if s.binary {
		return s.idx[lo:hi], nil
	}
	return s.idx[lo:hi], s.val[lo:hi]
}

// rowIndices returns idx resized to n and holding 0, 1, …, n-1: the index list that makes a
// row-gather kernel add every row (ColSum, the MatVec weight gradient).
func rowIndices(idx []int32, n int) []int32 {
	idx = resize(idx, n)
	for r := range idx {
		idx[r] = int32(r)
	}
	return idx
}

// resize returns s with length n, reallocating only when its capacity is too small.
func resize[E any](s []E, n int) []E {
	if cap(s) < n {
		return make([]E, n)
	}
	return s[:n]
}

// blockCols is the width of the column blocks of the gather products: the 8 vector registers
// the kernels accumulate in, 256 bytes of each row of the right operand (512 with AVX-512), so
// that a block of a 784-row matrix (200 or 400 KB) stays in a core's L2 cache while every row of
// the result is accumulated.
func blockCols[T number]() int {
	var z T
	bytes := 256
	if useAVX512 {
		bytes = 512
	}
	if any(z) == any(float32(0)) {
		return bytes / 4
	}
	return bytes / 8
}

// gatherProduct sets out (rows, m), row stride m, to s·mat where s is the compressed-row view
// of a (rows, k) matrix and mat is (k, m) with row stride ld: out[r, :] = Σ s[r, i]·mat[i, :],
// summed in increasing i, then bias[:m] added when bias is not nil (out = s·mat + 1 biasᵀ,
// the sum rounded before the bias is added). The column blocks are shared among up to
// GOMAXPROCS goroutines when the product is large enough to pay for them.
func gatherProduct[T number](out []T, s *sparse[T], rows, k int, mat []T, m, ld int, bias []T) {
	if len(out) < rows*m || ld < m || len(mat) < (k-1)*ld+m || len(s.start) < rows+1 || (bias != nil && len(bias) < m) {
		panic("ops: gatherProduct: operands too short")
	}
	cb := blockCols[T]()
	blocks := (m + cb - 1) / cb
	run := func(lo, hi int) {
		for b := lo; b < hi; b++ {
			c0, c1 := b*cb, min((b+1)*cb, m)
			for r := range rows {
				dst := out[r*m+c0 : r*m+c1]
				clear(dst)
				idx, val := s.row(r)
				gatherAdd(dst, mat[c0:], ld, idx, val)
				if bias != nil {
					for j, cj := range bias[c0:c1] {
						dst[j] += cj
					}
				}
			}
		}
	}
	parallelRange(blocks, s.nnz*m+rows*m, run)
}

// gatherProductT is gatherProduct with the transpose of w, a (m, k) matrix: out = s·wᵀ + 1 biasᵀ.
// Instead of transposing all of w first (a pass that writes wᵀ to memory and another that reads
// it back), each goroutine transposes one block of rows of w, the columns of out it computes,
// into a scratch block that stays in its cache (k × the block width: 256 KB for 500 float32
// hidden units), then gathers from it for every row of out. The sums are those of
// gatherProduct on wᵀ, bit for bit.
func gatherProductT[T number](out []T, s *sparse[T], rows, k int, w []T, m int, bias []T, pool *blockPool[T]) {
	if len(out) < rows*m || len(w) < m*k || len(s.start) < rows+1 || (bias != nil && len(bias) < m) {
		panic("ops: gatherProductT: operands too short")
	}
	cb := blockCols[T]()
	blocks := (m + cb - 1) / cb
	run := func(lo, hi int) {
		t := pool.get(k * cb)
		defer pool.put(t)
		for b := lo; b < hi; b++ {
			c0, c1 := b*cb, min((b+1)*cb, m)
			n := c1 - c0
			wt := (*t)[:k*n]
			transpose(wt, w[c0*k:c1*k], n, k) // wt (k, n): wt[j, c] = w[c0+c, j]
			for r := range rows {
				dst := out[r*m+c0 : r*m+c1]
				clear(dst)
				idx, val := s.row(r)
				gatherAdd(dst, wt, n, idx, val)
				if bias != nil {
					for j, cj := range bias[c0:c1] {
						dst[j] += cj
					}
				}
			}
		}
	}
	parallelRange(blocks, s.nnz*m+rows*m+m*k, run)
}

// blockPool lends scratch slices to the goroutines of a product (one each while it runs).
type blockPool[T number] struct{ p sync.Pool }

func (bp *blockPool[T]) get(n int) *[]T {
	if t, ok := bp.p.Get().(*[]T); ok && cap(*t) >= n {
		*t = (*t)[:n]
		return t
	}
	t := make([]T, n)
	return &t
}

func (bp *blockPool[T]) put(t *[]T) { bp.p.Put(t) }

// outerProduct sets out (k, m) to xᵀ·g for x (rows, k) and g (rows, m) with row stride ld, given
// s, the column view of x (colsOf): out[i, :] = Σ_r x[r, i]·g[r, :], summed in increasing r. The columns are
// cut in blocks (a block of a 100-row g is 25 KB: it stays in L1 while every row of out
// gathers from it); rows of out are shared among goroutines.
func outerProduct[T number](out []T, s *sparse[T], rows, k int, g []T, m, ld int) {
	if len(out) < k*m || ld < m || len(g) < (rows-1)*ld+m || len(s.start) < k+1 {
		panic("ops: outerProduct: operands too short")
	}
	cb := blockCols[T]()
	run := func(lo, hi int) {
		for c0 := 0; c0 < m; c0 += cb {
			c1 := min(c0+cb, m)
			for i := lo; i < hi; i++ {
				dst := out[i*m+c0 : i*m+c1]
				clear(dst)
				idx, val := s.row(i)
				gatherAdd(dst, g[c0:], ld, idx, val)
			}
		}
	}
	parallelRange(k, s.nnz*m+k*m, run)
}

// alignedRows returns the (rows, m) matrix x with rows that start on 64-byte boundaries, and its
// row stride: x itself when its rows are aligned, else a copy in buf (returned for reuse) with
// the stride rounded up to an odd number of 64-byte lines. The gather kernels read whole 64-byte vectors from the
// rows of their dense operand: rows of 500 float32 (2,000 bytes) put three vectors in four
// across two cache lines, which made the kernels about 1.5 times slower.
func alignedRows[T number](buf, x []T, rows, m int) (out []T, ld int, newBuf []T) {
	var z T
	size := int(unsafe.Sizeof(z))
	per := 64 / size // entries per 64 bytes
	if rows <= 1 || m%per == 0 && uintptr(unsafe.Pointer(unsafe.SliceData(x)))%64 == 0 {
		return x, m, buf
	}
	// An odd number of 64-byte lines per row: a power-of-two stride would map the rows of a
	// column block to a few sets of the L1 cache.
	lines := (m + per - 1) / per
	lines |= 1
	ld = lines * per
	buf = resize(buf, rows*ld+per)
	// Start at the first 64-byte boundary of buf.
	skip := int((64 - uintptr(unsafe.Pointer(unsafe.SliceData(buf)))%64) % 64 / uintptr(size))
	out = buf[skip : skip+rows*ld]
	parallelRange(rows, rows*m/4, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			copy(out[r*ld:r*ld+m], x[r*m:(r+1)*m])
		}
	})
	return out, ld, buf
}

// parallelWork is the least amount of work (multiply-adds) given to one goroutine by
// parallelRange: about 10 µs, well above the ≈ 1 µs it takes a spinning helper of package
// parallel to pick a chunk up.
const parallelWork = 1 << 16

// parallelRange calls f on disjoint chunks [lo, hi) covering [0, n), on up to GOMAXPROCS
// goroutines (package parallel's helpers) when work (an estimate of the total cost in
// multiply-adds) is large enough, and returns when every call has returned.
func parallelRange(n, work int, f func(lo, hi int)) {
	parallel.For(n, work/parallelWork, f)
}

// transpose sets dst (cols, rows) to the transpose of src (rows, cols): strips of 8 (float32)
// or 4 (float64) source rows, each cut into square blocks transposed in registers (AVX2), the
// ragged edges and CPUs without AVX2 in tiled scalar loops. Strips are shared among goroutines.
func transpose[T number](dst, src []T, rows, cols int) {
	if len(src) < rows*cols || len(dst) < rows*cols {
		panic("ops: transpose: short slices")
	}
	var z T
	_, is32 := any(z).(float32)
	bs := 4
	if is32 {
		bs = 8
	}
	strips := rows / bs
	run := func(lo, hi int) {
		for s := lo; s < hi; s++ {
			r0 := s * bs
			done := 0
			if haveVMath && cols >= bs {
				blocks := cols / bs
				if is32 {
					transposeBlocks32AVX2(unsafe.Pointer(&dst[r0]), unsafe.Pointer(&src[r0*cols]), rows, cols, blocks)
				} else {
					transposeBlocks64AVX2(unsafe.Pointer(&dst[r0]), unsafe.Pointer(&src[r0*cols]), rows, cols, blocks)
				}
				done = blocks * bs
			}
			transposeTile(dst, src, rows, cols, r0, r0+bs, done, cols)
		}
	}
	parallelRange(strips, rows*cols, run)
	transposeTile(dst, src, rows, cols, strips*bs, rows, 0, cols)
}

// transposeTile transposes src[r0:r1, c0:c1] into dst, in 32×32 tiles.
func transposeTile[T number](dst, src []T, rows, cols, r0, r1, c0, c1 int) {
	const tile = 32
	for rt := r0; rt < r1; rt += tile {
		re := min(rt+tile, r1)
		for ct := c0; ct < c1; ct += tile {
			ce := min(ct+tile, c1)
			for c := ct; c < ce; c++ {
				d := dst[c*rows+rt : c*rows+re]
				for i := range d {
					d[i] = src[(rt+i)*cols+c]
				}
			}
		}
	}
}
