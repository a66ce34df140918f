package graph

import (
	"github.com/pkg/errors"
	G "gorgonia.org/gorgonia"
)

// QuadraticEnergy returns the Boltzmann-machine energy E(s) = -½ sᵀWs - bᵀs of every row of s
// (batch, n), shape (batch), for a symmetric (n, n) coupling matrix W with zero diagonal and
// biases b (n) (Ackley, Hinton & Sejnowski 1985). All three share a graph and a float dtype.
// Symmetry is not checked here: build W with SymmetricCouplings to have it by construction.
func QuadraticEnergy(w, b, s *G.Node) (*G.Node, error) {
	if err := floatDtype("W", w); err != nil {
		return nil, err
	}
	ws := w.Shape()
	if ws.Dims() != 2 || ws[0] != ws[1] {
		return nil, errors.Errorf("graph: couplings W must be a square (n, n) matrix, has shape %v", ws)
	}
	n := ws[0]
	if bs := b.Shape(); bs.Dims() != 1 || bs[0] != n || !b.Dtype().Eq(w.Dtype()) {
		return nil, errors.Errorf("graph: biases must be a vector of %d %v values, have shape %v dtype %v", n, w.Dtype(), bs, b.Dtype())
	}
	if err := checkBatch("states s", s, n, w); err != nil {
		return nil, err
	}
	sw, err := G.Mul(s, w)
	if err != nil {
		return nil, errors.Wrap(err, "graph: sW")
	}
	sws, err := G.HadamardProd(sw, s)
	if err != nil {
		return nil, err
	}
	quad, err := rowSum(sws)
	if err != nil {
		return nil, err
	}
	half, err := Scale(quad, 0.5)
	if err != nil {
		return nil, err
	}
	sb, err := G.Mul(s, b)
	if err != nil {
		return nil, errors.Wrap(err, "graph: sb")
	}
	sum, err := G.Add(half, sb)
	if err != nil {
		return nil, err
	}
	return G.Neg(sum)
}

// SymmetricCouplings returns W = (U ⊙ T) + (U ⊙ T)ᵀ for a free parameter matrix U (n, n) and a
// constant mask T (n, n) that is zero on and below the diagonal (and wherever two units are not
// connected). W is symmetric with a zero diagonal whatever U holds, and the gradient reaches only
// the entries of U that T keeps.
func SymmetricCouplings(u, t *G.Node) (*G.Node, error) {
	if !u.Shape().Eq(t.Shape()) || !u.Dtype().Eq(t.Dtype()) {
		return nil, errors.Errorf("graph: parameter %v %v and mask %v %v differ in shape or dtype", u.Shape(), u.Dtype(), t.Shape(), t.Dtype())
	}
	up, err := G.HadamardProd(u, t)
	if err != nil {
		return nil, err
	}
	tr, err := G.Transpose(up)
	if err != nil {
		return nil, err
	}
	return G.Add(up, tr)
}
