// problems/linear_gaussian.hpp — the exact law of a linear SDE started from a Gaussian, shared by
// the `ou` problem and by `custom` problems with -custom_exact_law gaussian:
//   dX = (c - B X) dt + G dW,  a = D = G G^T constant,  X_0 ~ N(m0, S0)
// stays Gaussian (MATH.md) with
//   mean(t) = e^{-Bt} m0 + int_0^t e^{-Bs} c ds,   Sigma(t) = e^{-Bt} S0 e^{-B^T t} + Q(t),
// Q(t) = int_0^t e^{-Bs} D e^{-B^T s} ds by Van Loan's block exponential and the offset by the
// block exponential of laws.hpp: valid for any B (singular, rotating, theta = 0). When the
// eigenvalues of B have positive real part the stationary law is N(B^{-1} c, S), B S + S B^T = D.
// Exact cell averages: products of normal-CDF differences when Sigma is diagonal, 5-point
// Gauss-Legendre per axis otherwise.
#pragma once

#include "problems/problem.hpp"
#include "problems/reference.hpp"
#include "problems/small_matrix.hpp"

#include <string>
#include <vector>

namespace fpflow {

// N(mean, cov) with what its density needs.
struct GaussianLaw {
  std::vector<double> mean;
  small::Mat cov, inv;
  double norm = 0;  // 1 / sqrt((2 pi)^d det)
  bool diagonal = true;
};

// Throws Error("<who>: covariance is not positive definite") unless cov is.
GaussianLaw make_gaussian_law(std::vector<double> mean, const small::Mat& cov,
                              const std::string& who);
double density(const GaussianLaw& g, const double* x);
double cell_average(const GaussianLaw& g, const double* lo, const double* hi);

class LinearGaussian {
 public:
  // B, D: dim x dim; c, m0: dim entries; S0 symmetric positive definite. `who` prefixes errors.
  void set(small::Mat B, std::vector<double> c, small::Mat D, std::vector<double> m0,
           small::Mat S0, const std::string& who);

  // The law at time t (cached: error norms ask for every cell at the same t).
  const GaussianLaw& at(double t) const;
  bool stable() const { return stable_; }
  const GaussianLaw& stationary() const { return stationary_; }

  const small::Mat& B() const { return B_; }
  const small::Mat& D() const { return D_; }
  const small::Mat& S0() const { return S0_; }
  const std::vector<double>& c() const { return c_; }
  const std::vector<double>& m0() const { return m0_; }

  // The Problem hooks of a problem whose law this is.
  double cell_average(Problem::Law law, const double* lo, const double* hi, double t) const;
  AxisAverage separable_average(Problem::Law law, double t) const;
  GaussianMixture initial_mixture() const;
  GaussianMixture stationary_mixture() const;
  LinearSDE sde() const;
  // Whether the free-space law is the solution on `box` with walls `bc` (problems/reference.hpp):
  // the transient law over [0, t] (mass beyond the walls sampled at 65 evenly spaced and 64
  // geometrically spaced times down to t 2^-16, which resolves transients much faster than the
  // run), and the stationary law, which with zero current (B S symmetric: reversible) also holds
  // with reflecting walls that truncate it.
  Reference exact_reference(double t, const Box& box, const Boundaries& bc) const;
  Reference stationary_reference(const Box& box, const Boundaries& bc) const;

 private:
  small::Mat B_, D_, S0_;
  std::vector<double> c_, m0_;
  bool has_offset_ = false, stable_ = false;
  std::string who_;
  GaussianLaw stationary_;
  mutable GaussianLaw cached_;
  mutable double cached_t_ = -1;
};

}  // namespace fpflow
