// problems/linear_gaussian.cpp — Gaussian laws of linear SDEs (see linear_gaussian.hpp).
#include "problems/linear_gaussian.hpp"

#include "problems/gaussian.hpp"

#include <algorithm>
#include <array>
#include <cmath>

namespace fpflow {

using small::Mat;

GaussianLaw make_gaussian_law(std::vector<double> mean, const Mat& cov, const std::string& who) {
  GaussianLaw g;
  g.mean = std::move(mean);
  g.cov = cov;
  const int d = cov.n;
  for (int i = 0; i < d; ++i)
    for (int j = 0; j < d; ++j)
      if (i != j && cov(i, j) != 0) g.diagonal = false;
  // Inverse column by column, and the determinant from the same elimination.
  g.inv = Mat(d);
  for (int c = 0; c < d; ++c) {
    std::vector<double> e(d, 0.0);
    e[c] = 1;
    std::vector<double> x;
    try {
      x = small::solve(cov.a, e);
    } catch (const std::runtime_error&) {
      throw Error(who + ": covariance is not positive definite");
    }
    for (int r = 0; r < d; ++r) g.inv(r, c) = x[r];
  }
  double det = cov(0, 0);
  if (d == 2) det = cov(0, 0) * cov(1, 1) - cov(0, 1) * cov(1, 0);
  if (d == 3)
    det = cov(0, 0) * (cov(1, 1) * cov(2, 2) - cov(1, 2) * cov(2, 1)) -
          cov(0, 1) * (cov(1, 0) * cov(2, 2) - cov(1, 2) * cov(2, 0)) +
          cov(0, 2) * (cov(1, 0) * cov(2, 1) - cov(1, 1) * cov(2, 0));
  if (!(det > 0)) throw Error(who + ": covariance is not positive definite");
  // Positive definite iff the Cholesky factorisation succeeds (det > 0 alone admits two
  // negative eigenvalues in 2-D).
  Mat Lc(d);
  for (int i = 0; i < d; ++i)
    for (int j = 0; j <= i; ++j) {
      double s = cov(i, j);
      for (int k = 0; k < j; ++k) s -= Lc(i, k) * Lc(j, k);
      if (i == j) {
        if (!(s > 0)) throw Error(who + ": covariance is not positive definite");
        Lc(i, i) = std::sqrt(s);
      } else {
        Lc(i, j) = s / Lc(j, j);
      }
    }
  g.norm = 1.0 / std::sqrt(std::pow(2 * M_PI, d) * det);
  return g;
}

double density(const GaussianLaw& g, const double* x) {
  const int d = g.cov.n;
  double q = 0;
  for (int i = 0; i < d; ++i)
    for (int j = 0; j < d; ++j) q += (x[i] - g.mean[i]) * g.inv(i, j) * (x[j] - g.mean[j]);
  return g.norm * std::exp(-0.5 * q);
}

double cell_average(const GaussianLaw& g, const double* lo, const double* hi) {
  const int d = g.cov.n;
  if (g.diagonal) {
    double m[3], s[3];
    for (int i = 0; i < d; ++i) m[i] = g.mean[i], s[i] = std::sqrt(g.cov(i, i));
    return gaussian::cell_average(d, lo, hi, m, s);
  }
  return cell_average_gl(d, lo, hi, [&](const double* x) { return density(g, x); }, 5);
}

void LinearGaussian::set(Mat B, std::vector<double> c, Mat D, std::vector<double> m0, Mat S0,
                         const std::string& who) {
  const int dim = B.n;
  B_ = std::move(B), D_ = std::move(D), S0_ = std::move(S0), who_ = who;
  c_ = std::move(c), m0_ = std::move(m0);
  c_.resize(dim), m0_.resize(dim);
  // The plain exponential alone when c = 0, so the ou problem's numbers stay as they were.
  has_offset_ = std::any_of(c_.begin(), c_.end(), [](double v) { return v != 0; });
  // Stable B (Re eig > 0) iff B S + S B^T = I has a positive-definite solution (Lyapunov).
  try {
    const Mat S = small::lyapunov(B_, Mat(dim, 1.0));
    make_gaussian_law(std::vector<double>(dim, 0.0), S, who_);
    stable_ = true;
    const Mat Sinf = small::lyapunov(B_, D_);
    const std::vector<double> minf =
        has_offset_ ? small::solve(B_.a, c_) : std::vector<double>(dim, 0.0);
    stationary_ = make_gaussian_law(minf, Sinf, who_);
  } catch (const std::exception&) {
    stable_ = false;
  }
  cached_t_ = -1;
}

const GaussianLaw& LinearGaussian::at(double t) const {
  if (t == cached_t_) return cached_;
  const int dim = B_.n;
  const Mat E = small::expm([&] {
    Mat m = B_;
    for (double& v : m.a) v *= -t;
    return m;
  }());
  std::vector<double> mean(dim, 0.0);
  for (int i = 0; i < dim; ++i)
    for (int j = 0; j < dim; ++j) mean[i] += E(i, j) * m0_[j];
  if (has_offset_) {
    const auto f = exact_transition(sde(), dim, t).f;
    for (int i = 0; i < dim; ++i) mean[i] += f[i];
  }
  Mat cov = E * S0_ * small::transpose(E);
  const Mat Q = small::noise_covariance(B_, D_, t);
  for (std::size_t k = 0; k < cov.a.size(); ++k) cov.a[k] += Q.a[k];
  for (int i = 0; i < dim; ++i)
    for (int j = i + 1; j < dim; ++j) cov(i, j) = cov(j, i) = 0.5 * (cov(i, j) + cov(j, i));
  cached_ = make_gaussian_law(mean, cov, who_);
  cached_t_ = t;
  return cached_;
}

double LinearGaussian::cell_average(Problem::Law law, const double* lo, const double* hi,
                                    double t) const {
  if (law == Problem::Law::stationary) return fpflow::cell_average(stationary_, lo, hi);
  return fpflow::cell_average(at(law == Problem::Law::initial ? 0.0 : t), lo, hi);
}

AxisAverage LinearGaussian::separable_average(Problem::Law law, double t) const {
  if (law == Problem::Law::stationary && !stable_) return {};
  const GaussianLaw& g =
      law == Problem::Law::stationary ? stationary_ : at(law == Problem::Law::initial ? 0.0 : t);
  if (!g.diagonal) return {};
  std::array<double, 3> m{0, 0, 0}, s{1, 1, 1};
  for (int i = 0; i < B_.n; ++i) m[i] = g.mean[i], s[i] = std::sqrt(g.cov(i, i));
  return [m, s](int a, double lo, double hi) { return gaussian::axis_average(lo, hi, m[a], s[a]); };
}

GaussianMixture LinearGaussian::initial_mixture() const {
  return {GaussianComponent{1.0, m0_, S0_.a}};
}

GaussianMixture LinearGaussian::stationary_mixture() const {
  if (!stable_) return {};
  return {GaussianComponent{1.0, stationary_.mean, stationary_.cov.a}};
}

LinearSDE LinearGaussian::sde() const { return LinearSDE{B_.a, c_, D_.a}; }

Reference LinearGaussian::exact_reference(double t, const Box& box,
                                          const Boundaries& bc) const {
  const int dim = B_.n;
  std::array<double, 3> tail{0, 0, 0};
  const auto take = [&](double tau) {
    const GaussianLaw& g = at(tau);
    for (int d = 0; d < dim; ++d)
      tail[d] = std::max(tail[d], gaussian_tail(box.lo[d], box.hi[d], g.mean[d],
                                                std::sqrt(g.cov(d, d))));
  };
  for (int k = 0; k <= 64; ++k) take(t * k / 64.0);
  for (int k = 1; k <= 64; ++k) take(t * std::exp2(-k / 4.0));
  at(t);  // leave the cache at t, where the error norms ask
  return free_space_reference("free-space law", dim, tail, bc);
}

// N(B^{-1} c, S) has zero current exactly when B S is symmetric (then B S = D/2: the reversible,
// gradient-form OU); restricted to the box and renormalised it is then also the stationary law
// with reflecting walls. A non-reversible process circulates: truncating walls change its law.
Reference LinearGaussian::stationary_reference(const Box& box,
                                               const Boundaries& bc) const {
  const int dim = B_.n;
  if (!stable_) return {false, "stationary law", -1, "the drift matrix is not stable"};
  std::array<double, 3> tail{0, 0, 0};
  for (int d = 0; d < dim; ++d)
    tail[d] = gaussian_tail(box.lo[d], box.hi[d], stationary_.mean[d],
                            std::sqrt(stationary_.cov(d, d)));
  const small::Mat BS = B_ * stationary_.cov;
  double asym = 0, scale = 0;
  for (int i = 0; i < dim; ++i)
    for (int j = 0; j < dim; ++j) {
      asym = std::max(asym, std::fabs(BS(i, j) - BS(j, i)));
      scale = std::max(scale, std::fabs(BS(i, j)));
    }
  return free_space_reference("free-space stationary law, restricted to the box and renormalised",
                              dim, tail, bc, asym <= 1e-10 * scale);
}

}  // namespace fpflow
