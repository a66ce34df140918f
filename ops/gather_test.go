package ops

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"unsafe"
)

// TestGatherKernels pins the row-gather kernels to a plain loop that adds the rounded products
// in index order, bit for bit, for widths covering the vector chunks and the scalar tails.
func TestGatherKernels(t *testing.T) {
	for _, avx512 := range []bool{false, true} {
		if avx512 && !haveAVX512 {
			t.Log("no AVX-512 on this CPU")
			continue
		}
		defer func(old bool) { useAVX512 = old }(useAVX512)
		useAVX512 = avx512
		testGatherKernels(t)
	}
}

func testGatherKernels(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	const rows, ld = 37, 150
	m64 := make([]float64, rows*ld)
	m32 := make([]float32, rows*ld)
	for i := range m64 {
		m64[i] = r.NormFloat64()
		m32[i] = float32(r.NormFloat64())
	}
	for _, n := range []int{1, 3, 4, 7, 8, 9, 31, 32, 33, 63, 64, 65, 100, 129, 150} {
		for _, withVal := range []bool{false, true} {
			var idx []int32
			for i := range rows {
				if r.Float64() < 0.4 {
					idx = append(idx, int32(i))
				}
			}
			idx = append(idx, 3, 3, 0) // repeats and out-of-order rows are allowed
			var v64 []float64
			var v32 []float32
			if withVal {
				for range idx {
					v64 = append(v64, r.Float64())
					v32 = append(v32, float32(r.Float64()))
				}
			}
			off := r.IntN(ld - n + 1)
			d64 := make([]float64, n)
			d32 := make([]float32, n)
			w64 := make([]float64, n)
			w32 := make([]float32, n)
			for j := range n {
				d64[j] = r.NormFloat64()
				d32[j] = float32(r.NormFloat64())
				w64[j], w32[j] = d64[j], d32[j]
			}
			axpyRows64(d64, m64[off:], ld, idx, v64)
			axpyRows32(d32, m32[off:], ld, idx, v32)
			for j := range n {
				for k, i := range idx {
					a64, a32 := m64[off+int(i)*ld+j], m32[off+int(i)*ld+j]
					if withVal {
						a64 = float64(v64[k] * a64)
						a32 = float32(v32[k] * a32)
					}
					w64[j] += a64
					w32[j] += a32
				}
				if d64[j] != w64[j] || d32[j] != w32[j] {
					t.Fatalf("n=%d val=%v col %d: got %v / %v, want %v / %v", n, withVal, j, d64[j], d32[j], w64[j], w32[j])
				}
			}
		}
	}
}

func TestGatherChecksBounds(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("out-of-range row index did not panic")
		}
	}()
	axpyRows64(make([]float64, 4), make([]float64, 8), 4, []int32{2}, nil)
}

// BenchmarkGather times x·W for a (100, 784) x with 19% non-zeros (MNIST-like) and a
// (784, 500) W, in column blocks of 64 (the layout Affine uses).
func BenchmarkGather(b *testing.B) {
	for _, avx512 := range []bool{false, true} {
		if avx512 && !haveAVX512 {
			continue
		}
		b.Run(fmt.Sprintf("avx512=%v", avx512), func(b *testing.B) {
			defer func(old bool) { useAVX512 = old }(useAVX512)
			useAVX512 = avx512
			benchmarkGather(b)
		})
	}
}

func benchmarkGather(b *testing.B) {
	const batch, nv, nh = 100, 784, 500
	r := rand.New(rand.NewPCG(1, 2))
	w := make([]float32, nv*nh)
	for i := range w {
		w[i] = float32(r.NormFloat64())
	}
	idx := make([][]int32, batch)
	val := make([][]float32, batch)
	nnz := 0
	for n := range idx {
		for i := range nv {
			if r.Float64() < 0.19 {
				idx[n] = append(idx[n], int32(i))
				val[n] = append(val[n], float32(r.Float64()))
				nnz++
			}
		}
	}
	out := make([]float32, batch*nh)
	for _, withVal := range []bool{false, true} {
		name := "binary"
		if withVal {
			name = "values"
		}
		b.Run(name, func(b *testing.B) {
			cbw := blockCols[float32]()
			c0 := cpuTime()
			for b.Loop() {
				clear(out)
				for cb := 0; cb < nh; cb += cbw {
					hi := min(cb+cbw, nh)
					for n := range batch {
						var v []float32
						if withVal {
							v = val[n]
						}
						axpyRows32(out[n*nh+cb:n*nh+hi], w[cb:], nh, idx[n], v)
					}
				}
			}
			b.ReportMetric(float64(nnz*nh)*float64(b.N)/b.Elapsed().Seconds()/1e9, "Gmuladd/s")
			b.ReportMetric(float64(cpuTime()-c0)/float64(b.N), "cpu-ns/op")
		})
	}
}

func TestTranspose(t *testing.T) {
	for _, sz := range [][2]int{{1, 1}, {3, 5}, {8, 8}, {9, 17}, {16, 33}, {37, 64}, {100, 784}, {784, 500}} {
		rows, cols := sz[0], sz[1]
		s32 := make([]float32, rows*cols)
		s64 := make([]float64, rows*cols)
		for i := range s32 {
			s32[i], s64[i] = float32(i), float64(i)
		}
		d32 := make([]float32, rows*cols)
		d64 := make([]float64, rows*cols)
		transpose(d32, s32, rows, cols)
		transpose(d64, s64, rows, cols)
		for r := range rows {
			for c := range cols {
				if d32[c*rows+r] != s32[r*cols+c] || d64[c*rows+r] != s64[r*cols+c] {
					t.Fatalf("%dx%d: entry (%d, %d) not transposed", rows, cols, r, c)
				}
			}
		}
	}
}

// TestSparseViews checks the compressed row and column views (vector and scalar builders)
// against a plain scan, for binary, grey and signed data with -0 and NaN entries.
func TestSparseViews(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 9))
	for _, cols := range []int{1, 3, 4, 7, 8, 9, 31, 64, 77} {
		for _, kind := range []string{"binary", "grey", "signed"} {
			rows := 5
			x64 := make([]float64, rows*cols)
			for i := range x64 {
				if r.Float64() < 0.4 {
					switch kind {
					case "binary":
						x64[i] = 1
					case "grey":
						x64[i] = r.Float64()
					default:
						x64[i] = r.NormFloat64()
					}
				}
			}
			if kind == "signed" {
				x64[0] = math.Copysign(0, -1)
				x64[len(x64)-1] = math.NaN()
			}
			x32 := make([]float32, len(x64))
			for i, v := range x64 {
				x32[i] = float32(v)
			}
			var s64 sparse[float64]
			var s32 sparse[float32]
			s64.rowsOf(x64, rows, cols)
			s32.rowsOf(x32, rows, cols)
			var c64 sparse[float64]
			var c32 sparse[float32]
			c64.colsOf(&s64, rows, cols, nil)
			c32.colsOf(&s32, rows, cols, nil)
			wantBinary := kind == "binary"
			if s64.binary != wantBinary || s32.binary != wantBinary || c64.binary != wantBinary {
				t.Fatalf("cols %d %s: binary = %v/%v/%v", cols, kind, s64.binary, s32.binary, c64.binary)
			}
			for rr := range rows {
				var wantIdx []int32
				var wantVal []float64
				for c := range cols {
					if v := x64[rr*cols+c]; v != 0 {
						wantIdx = append(wantIdx, int32(c))
						wantVal = append(wantVal, v)
					}
				}
				idx, val := s64.row(rr)
				idx32, val32 := s32.row(rr)
				if len(idx) != len(wantIdx) || len(idx32) != len(wantIdx) {
					t.Fatalf("cols %d %s row %d: %d / %d non-zeros, want %d", cols, kind, rr, len(idx), len(idx32), len(wantIdx))
				}
				for k := range idx {
					if idx[k] != wantIdx[k] || idx32[k] != wantIdx[k] {
						t.Fatalf("row %d: index %d = %d / %d, want %d", rr, k, idx[k], idx32[k], wantIdx[k])
					}
					if !wantBinary && (!sameBits(val[k], wantVal[k]) || !sameBits(float64(val32[k]), float64(float32(wantVal[k])))) {
						t.Fatalf("row %d: value %d = %v / %v, want %v", rr, k, val[k], val32[k], wantVal[k])
					}
				}
			}
			for c := range cols {
				idx, _ := c64.row(c)
				k := 0
				for rr := range rows {
					if x64[rr*cols+c] != 0 {
						if k >= len(idx) || idx[k] != int32(rr) {
							t.Fatalf("column view %d: missing row %d", c, rr)
						}
						k++
					}
				}
				if k != len(idx) {
					t.Fatalf("column view %d: %d entries, want %d", c, len(idx), k)
				}
			}
		}
	}
}

// TestAlignedRows checks the aligned copy of a dense operand: rows on 64-byte boundaries with an
// odd number of 64-byte lines per row, the same entries, and no copy when the rows already are
// aligned.
func TestAlignedRows(t *testing.T) {
	for _, m := range []int{1, 15, 16, 17, 500, 512} {
		const rows = 7
		x := make([]float32, rows*m)
		for i := range x {
			x[i] = float32(i)
		}
		out, ld, _ := alignedRows(nil, x, rows, m)
		if uintptr(unsafe.Pointer(&out[0]))%64 != 0 && &out[0] != &x[0] {
			t.Fatalf("m=%d: copy not 64-byte aligned", m)
		}
		if &out[0] != &x[0] && (ld*4%64 != 0 || ld*4/64%2 != 1 || ld < m) {
			t.Fatalf("m=%d: stride %d", m, ld)
		}
		for r := range rows {
			for j := range m {
				if out[r*ld+j] != x[r*m+j] {
					t.Fatalf("m=%d: entry (%d, %d) = %v, want %v", m, r, j, out[r*ld+j], x[r*m+j])
				}
			}
		}
	}
}
