package ops

import (
	"encoding/binary"
	"math/bits"
	"math/rand/v2"
	"unsafe"
)

// Uniform draws of a *rand.PCG computed out of order, for the sampling kernels.
//
// math/rand/v2's PCG is a 128-bit linear congruential generator, state ← a·state + c (mod 2¹²⁸),
// whose Uint64 output is the DXSM permutation of the new state. The state after k steps is
// another affine map of the state, aᵏ·state + c·(aᵏ⁻¹ + … + 1), so any draw of the stream can
// be reached in log₂ k map compositions. That lets the sampling ops (a) share one stream's
// draws among the CPUs, each starting at its own offset, and (b) compute four interleaved
// sub-streams on one CPU, whose multiplications then overlap instead of waiting for each other.
// The draws, their order and the generator's final state are exactly those of calling Uint64
// in a loop: the same seed gives bit-identical samples however the work is split.

// lcgMap is the affine map state ↦ mul·state + inc on 128-bit states (hi, lo words).
type lcgMap struct{ mulHi, mulLo, incHi, incLo uint64 }

// pcgStep is one step of math/rand/v2's PCG (its next method).
var pcgStep = lcgMap{
	mulHi: 2549297995355413924, mulLo: 4865540595714422341,
	incHi: 6364136223846793005, incLo: 1442695040888963407,
}

// pcgPow[k] is pcgStep applied 2ᵏ times.
var pcgPow = func() (p [64]lcgMap) {
	p[0] = pcgStep
	for k := 1; k < 64; k++ {
		p[k] = p[k-1].then(p[k-1])
	}
	return p
}()

// usePCG512 selects the AVX-512 kernel where the CPU has it (tests switch it off to check the
// scalar code too; both give the same draws).
var usePCG512 = havePCG512

// pcgLanes8 holds the constants of the AVX-512 kernel: eight steps (multiplier hi, lo;
// increment hi, lo), the multiplier's lo word in 32-bit halves, and DXSM's multiplier.
var pcgLanes8 = [8]uint64{
	pcgPow[3].mulHi, pcgPow[3].mulLo, pcgPow[3].incHi, pcgPow[3].incLo,
	pcgPow[3].mulLo & 0xffffffff, pcgPow[3].mulLo >> 32, dxsmMul, 0,
}

// mul128 returns the low 128 bits of (aHi, aLo)·(bHi, bLo).
func mul128(aHi, aLo, bHi, bLo uint64) (hi, lo uint64) {
	hi, lo = bits.Mul64(aLo, bLo)
	hi += aHi*bLo + aLo*bHi
	return hi, lo
}

// apply returns m(state).
func (m lcgMap) apply(hi, lo uint64) (uint64, uint64) {
	hi, lo = mul128(hi, lo, m.mulHi, m.mulLo)
	lo, carry := bits.Add64(lo, m.incLo, 0)
	hi, _ = bits.Add64(hi, m.incHi, carry)
	return hi, lo
}

// then returns the map n∘m: m first, then n.
func (m lcgMap) then(n lcgMap) lcgMap {
	mh, ml := mul128(n.mulHi, n.mulLo, m.mulHi, m.mulLo)
	ih, il := n.apply(m.incHi, m.incLo)
	return lcgMap{mulHi: mh, mulLo: ml, incHi: ih, incLo: il}
}

// pcgAdvance returns the state k steps after (hi, lo).
func pcgAdvance(hi, lo uint64, k uint64) (uint64, uint64) {
	for b := 0; k != 0; b, k = b+1, k>>1 {
		if k&1 == 1 {
			hi, lo = pcgPow[b].apply(hi, lo)
		}
	}
	return hi, lo
}

// dxsmMul is the multiplier of PCG's DXSM output permutation.
const dxsmMul = 0xda942042e4dd58b5

// dxsm is PCG's output permutation of a state (math/rand/v2's PCG.Uint64 after next).
func dxsm(hi, lo uint64) uint64 {
	hi ^= hi >> 32
	hi *= dxsmMul
	hi ^= hi >> 48
	hi *= lo | 1
	return hi
}

// unit maps a 64-bit draw to [0, 1) as rand.Rand.Float64 does (53 high-quality bits).
func unit(x uint64) float64 { return float64(int64(x<<11>>11)) * 0x1p-53 }

// pcgState reads the state of p.
func pcgState(p *rand.PCG) (hi, lo uint64) {
	var buf [20]byte
	b, _ := p.AppendBinary(buf[:0]) // "pcg:" + big-endian hi + lo; cannot fail
	return binary.BigEndian.Uint64(b[4:]), binary.BigEndian.Uint64(b[12:])
}

// pcgUniforms sets u[i] to the (i+1)-th Float64 draw of a PCG in state (hi, lo): u[i] is what
// rand.New(p).Float64() returns on its (i+1)-th call. Eight sub-streams in the lanes of AVX-512
// registers where the CPU has AVX512DQ (pcg_amd64.s), else four in scalar registers, each
// stepping over the others' draws, are computed side by side.
func pcgUniforms(u []float64, hi, lo uint64) {
	n := len(u)
	if n == 0 {
		return
	}
	if usePCG512 && n >= 16 {
		// Eight sub-streams in the lanes of AVX-512 registers, then the last n mod 8 draws.
		var st [16]uint64
		h, l := hi, lo
		for j := range 8 {
			h, l = pcgStep.apply(h, l)
			st[j], st[8+j] = h, l
		}
		body := n &^ 7
		pcgUniformsAVX512(unsafe.Pointer(&u[0]), body, &st, &pcgLanes8)
		h, l = pcgAdvance(hi, lo, uint64(body))
		for i := body; i < n; i++ {
			h, l = pcgStep.apply(h, l)
			u[i] = unit(dxsm(h, l))
		}
		return
	}
	h0, l0 := pcgStep.apply(hi, lo)
	if n < 8 {
		for i := range u {
			u[i] = unit(dxsm(h0, l0))
			h0, l0 = pcgStep.apply(h0, l0)
		}
		return
	}
	h1, l1 := pcgStep.apply(h0, l0)
	h2, l2 := pcgStep.apply(h1, l1)
	h3, l3 := pcgStep.apply(h2, l2)
	step := pcgPow[2]
	i := 0
	for ; i+4 <= n; i += 4 {
		q := u[i : i+4 : i+4]
		q[0] = unit(dxsm(h0, l0))
		q[1] = unit(dxsm(h1, l1))
		q[2] = unit(dxsm(h2, l2))
		q[3] = unit(dxsm(h3, l3))
		h0, l0 = step.apply(h0, l0)
		h1, l1 = step.apply(h1, l1)
		h2, l2 = step.apply(h2, l2)
		h3, l3 = step.apply(h3, l3)
	}
	// At most three draws are left: the lanes hold their states.
	hs, ls := [3]uint64{h0, h1, h2}, [3]uint64{l0, l1, l2}
	for j := 0; i < n; i, j = i+1, j+1 {
		u[i] = unit(dxsm(hs[j], ls[j]))
	}
}
