// problems/laws.hpp — closed-form laws a problem can expose to the particle engine: Gaussian
// mixtures (exact initial and stationary samples) and linear SDEs (exact transitions).
//
// A linear SDE  dX = (c - B X) dt + G dW  with constant B, c and a = G G^T moves a point x in one
// step of length dt to the Gaussian N(E x + f, Q) with
//   E = e^{-B dt},  f = int_0^dt e^{-B s} c ds,  Q = int_0^dt e^{-B s} a e^{-B^T s} ds,
// whatever B is (singular B, e.g. heat with B = 0, included): f comes from the block exponential
// exp([[-B, c], [0, 0]] dt) = [[E, f], [0, 1]] and Q from Van Loan's formula. Sampling it is
// exact, so particles driven this way carry no time-step bias.
#pragma once

#include "problems/small_matrix.hpp"

#include <vector>

namespace fpflow {

// One Gaussian component: weight, mean (dim) and covariance (dim x dim, row-major).
struct GaussianComponent {
  double weight = 1;
  std::vector<double> mean, cov;
};
// N(mean, sd^2 I) in dim dimensions (mean: dim entries), with the given mixture weight.
inline GaussianComponent isotropic_gaussian(int dim, const double* mean, double sd,
                                            double weight = 1) {
  GaussianComponent g{weight, std::vector<double>(mean, mean + dim),
                      std::vector<double>(std::size_t(dim) * dim, 0.0)};
  for (int d = 0; d < dim; ++d) g.cov[d * dim + d] = sd * sd;
  return g;
}

// A mixture; empty means "no closed form" (the particle engine then samples the grid).
using GaussianMixture = std::vector<GaussianComponent>;

struct LinearSDE {
  std::vector<double> B, c, a;  // dim x dim, dim, dim x dim
};

struct LinearTransition {
  std::vector<double> E, f, Q;  // x' ~ N(E x + f, Q)
};

inline LinearTransition exact_transition(const LinearSDE& s, int dim, double dt) {
  small::Mat A(dim + 1), B(dim), D(dim);
  for (int i = 0; i < dim; ++i) {
    for (int j = 0; j < dim; ++j) {
      A(i, j) = -s.B[i * dim + j] * dt;
      B(i, j) = s.B[i * dim + j];
      D(i, j) = s.a[i * dim + j];
    }
    A(i, dim) = s.c[i] * dt;
  }
  const small::Mat X = small::expm(A);
  LinearTransition t;
  t.E.resize(std::size_t(dim) * dim);
  t.f.resize(dim);
  for (int i = 0; i < dim; ++i) {
    for (int j = 0; j < dim; ++j) t.E[i * dim + j] = X(i, j);
    t.f[i] = X(i, dim);
  }
  t.Q = small::noise_covariance(B, D, dt).a;
  return t;
}

}  // namespace fpflow
