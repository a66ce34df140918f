package ops

import (
	"fmt"
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// benchInput returns a (rows, cols) tensor of dtype dt with entries drawn by gen.
func benchInput(dt tensor.Dtype, rows, cols int, gen func(r *rand.Rand) float64) *tensor.Dense {
	r := rand.New(rand.NewPCG(1, 2))
	data := make([]float64, rows*cols)
	for i := range data {
		data[i] = gen(r)
	}
	return valueOf(dt, tensor.Shape{rows, cols}, data).(*tensor.Dense)
}

// The kernels as the TapeMachine calls them from the second run on: into a fitting register.
func BenchmarkBernoulli(b *testing.B) {
	for _, dt := range floatDtypes {
		b.Run(fmt.Sprintf("%v/100x500", dt), func(b *testing.B) {
			p := benchInput(dt, 100, 500, func(r *rand.Rand) float64 { return r.Float64() })
			pre := tensor.New(tensor.Of(dt), tensor.WithShape(100, 500))
			op := &sampleOp{kind: sampleBernoulli, rng: rand.New(rand.NewPCG(3, 4))}
			b.ReportAllocs()
			b.SetBytes(int64(p.Shape().TotalSize()))
			for b.Loop() {
				if _, err := op.UsePreallocDo(pre, p); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkGaussian(b *testing.B) {
	for _, dt := range floatDtypes {
		b.Run(fmt.Sprintf("%v/100x784", dt), func(b *testing.B) {
			mean := benchInput(dt, 100, 784, func(r *rand.Rand) float64 { return r.NormFloat64() })
			sigma := valueOf(dt, tensor.Shape{784}, make([]float64, 784))
			pre := tensor.New(tensor.Of(dt), tensor.WithShape(100, 784))
			op := &sampleOp{kind: sampleGaussian, sigma: sigmaRow, rng: rand.New(rand.NewPCG(3, 4))}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := op.UsePreallocDo(pre, mean, sigma); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func benchElem(b *testing.B, k fnKind) {
	for _, dt := range floatDtypes {
		b.Run(fmt.Sprintf("%v/100x500", dt), func(b *testing.B) {
			x := benchInput(dt, 100, 500, func(r *rand.Rand) float64 { return 4 * r.NormFloat64() })
			pre := tensor.New(tensor.Of(dt), tensor.WithShape(100, 500))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := (elemOp{k: k}).UsePreallocDo(pre, x); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkSoftplus(b *testing.B)   { benchElem(b, fnSoftplus) }
func BenchmarkLogSigmoid(b *testing.B) { benchElem(b, fnLogSigmoid) }
func BenchmarkSigmoid(b *testing.B)    { benchElem(b, fnSigmoid) }

// One element-wise node run by a TapeMachine (RunAll + Reset, allocating its output each run as
// Gorgonia does), this package's ops against Gorgonia's own.
func BenchmarkMachine(b *testing.B) {
	impls := []struct {
		name string
		f    func(*G.Node) (*G.Node, error)
	}{
		{"ops.Softplus", Softplus},
		{"gorgonia.Softplus", G.Softplus},
		{"ops.Sigmoid", Sigmoid},
		{"gorgonia.Sigmoid", G.Sigmoid},
	}
	for _, dt := range floatDtypes {
		for _, impl := range impls {
			b.Run(fmt.Sprintf("%s/%v/100x500", impl.name, dt), func(b *testing.B) {
				g := G.NewGraph()
				x := G.NewMatrix(g, dt, G.WithShape(100, 500), G.WithName("x"),
					G.WithValue(benchInput(dt, 100, 500, func(r *rand.Rand) float64 { return 4 * r.NormFloat64() })))
				if _, err := impl.f(x); err != nil {
					b.Fatal(err)
				}
				vm := G.NewTapeMachine(g)
				defer vm.Close()
				b.ReportAllocs()
				for b.Loop() {
					if err := vm.RunAll(); err != nil {
						b.Fatal(err)
					}
					vm.Reset()
				}
			})
		}
	}
}
