// operators/coefficients.hpp — what an operator needs to know about an SDE: b(x,t) and a(x,t).
//
// The operator samples these at faces and cell centres; it never sees a Problem.
#pragma once

namespace fpflow {

class Coefficients {
 public:
  virtual ~Coefficients() = default;
  // Drift b(x, t): writes components 0..dim-1. x has 3 entries (unused axes are 0).
  virtual void drift(const double* x, double t, double* b) const = 0;
  // Diffusion matrix a(x, t) = G G^T, symmetric positive semi-definite: writes a[3*i + j] for
  // i, j < dim (row-major 3x3 storage whatever the dimension; both triangles).
  virtual void diffusion(const double* x, double t, double* a) const = 0;
  // False if an off-diagonal a_ij may be non-zero: the operator then adds cross-diffusion
  // fluxes on a box stencil. True lets it keep the cheaper star stencil.
  virtual bool diagonal_diffusion() const { return true; }
  // Gradient form: when true, the drift is b = 1/2 div a - 1/2 a grad U with U = potential(x, t),
  // so that e^{-U} is stationary with zero current (MATH.md). The operator then takes the face
  // drift from differences of U, which makes the discrete Gibbs state rho_c = e^{-U(x_c)} an
  // exact zero-flux state of the Scharfetter-Gummel scheme, for any diagonal a.
  virtual bool has_potential() const { return false; }
  virtual double potential(const double* x, double t) const { return 0.0; }
  // True if a does not depend on x or t (particle steppers then factor it once).
  virtual bool constant_diffusion() const { return false; }
  // True if b or a depend on t: the operator then re-evaluates them at every stage time.
  virtual bool time_dependent() const = 0;
};

}  // namespace fpflow
