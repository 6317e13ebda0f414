// operators/coefficients.hpp — what an operator needs to know about an SDE: b(x,t) and a(x,t).
//
// The operator samples these at faces and cell centres; it never sees a Problem. Diffusion is
// the diagonal of a = G G^T here (the full tensor arrives with the cross-diffusion stencil).
#pragma once

namespace fpflow {

class Coefficients {
 public:
  virtual ~Coefficients() = default;
  // Drift b(x, t): writes components 0..dim-1. x has 3 entries (unused axes are 0).
  virtual void drift(const double* x, double t, double* b) const = 0;
  // Diagonal of the diffusion matrix a(x, t) = G G^T: components 0..dim-1, must be >= 0.
  virtual void diffusion(const double* x, double t, double* a) const = 0;
  // True if b or a depend on t: the operator then re-evaluates them at every stage time.
  virtual bool time_dependent() const = 0;
};

}  // namespace fpflow
