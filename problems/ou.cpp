// problems/ou.cpp — Ornstein-Uhlenbeck process with matrix drift and noise:
//   dX = -B X dt + G dW,  a = D = G G^T  (B need not be symmetric; G need not be square-diagonal).
// Shortcuts: -ou_theta / -ou_sigma give B = diag(theta), G = diag(sigma) (the default, theta = sigma
// = 1). From N(m0, diag(var0)) the law stays Gaussian (docs/MATH.md):
//   mean e^{-Bt} m0,  Sigma(t) = e^{-Bt} Sigma0 e^{-B^T t} + int_0^t e^{-Bs} D e^{-B^T s} ds
// (the integral by Van Loan's block exponential, valid for any B, e.g. theta = 0); when the
// eigenvalues of B have positive real part the stationary law is N(0, S) with B S + S B^T = D.
// Exact cell averages: products of normal-CDF differences when Sigma is diagonal, 5-point
// Gauss-Legendre per axis otherwise. The default box spans the transient with 8 sd of margin.
// These are free-space laws: on a box that truncates them they are not the solution, and the
// driver then reports their distance as reference_error (exact_reference below).
#include "core/options.hpp"
#include "problems/gaussian.hpp"
#include "problems/problem.hpp"
#include "problems/small_matrix.hpp"

#include <algorithm>
#include <array>
#include <cmath>

namespace fpflow {
namespace {

using small::Mat;

struct Gaussian {
  std::vector<double> mean;
  Mat cov, inv;
  double norm = 0;  // 1 / sqrt((2 pi)^d det)
  bool diagonal = true;
};

Gaussian make_gaussian(std::vector<double> mean, const Mat& cov) {
  Gaussian g;
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
    const auto x = small::solve(cov.a, e);
    for (int r = 0; r < d; ++r) g.inv(r, c) = x[r];
  }
  double det = cov(0, 0);
  if (d == 2) det = cov(0, 0) * cov(1, 1) - cov(0, 1) * cov(1, 0);
  if (d == 3)
    det = cov(0, 0) * (cov(1, 1) * cov(2, 2) - cov(1, 2) * cov(2, 1)) -
          cov(0, 1) * (cov(1, 0) * cov(2, 2) - cov(1, 2) * cov(2, 0)) +
          cov(0, 2) * (cov(1, 0) * cov(2, 1) - cov(1, 1) * cov(2, 0));
  if (!(det > 0)) throw Error("ou: covariance is not positive definite");
  // Positive definite iff the Cholesky factorisation succeeds (det > 0 alone admits two
  // negative eigenvalues in 2-D).
  Mat Lc(d);
  for (int i = 0; i < d; ++i)
    for (int j = 0; j <= i; ++j) {
      double s = cov(i, j);
      for (int k = 0; k < j; ++k) s -= Lc(i, k) * Lc(j, k);
      if (i == j) {
        if (!(s > 0)) throw Error("ou: covariance is not positive definite");
        Lc(i, i) = std::sqrt(s);
      } else {
        Lc(i, j) = s / Lc(j, j);
      }
    }
  g.norm = 1.0 / std::sqrt(std::pow(2 * M_PI, d) * det);
  return g;
}

double density(const Gaussian& g, const double* x) {
  const int d = g.cov.n;
  double q = 0;
  for (int i = 0; i < d; ++i)
    for (int j = 0; j < d; ++j) q += (x[i] - g.mean[i]) * g.inv(i, j) * (x[j] - g.mean[j]);
  return g.norm * std::exp(-0.5 * q);
}

double cell_average(const Gaussian& g, const double* lo, const double* hi) {
  const int d = g.cov.n;
  if (g.diagonal) {
    double m[3], s[3];
    for (int i = 0; i < d; ++i) m[i] = g.mean[i], s[i] = std::sqrt(g.cov(i, i));
    return gaussian::cell_average(d, lo, hi, m, s);
  }
  return cell_average_gl(d, lo, hi, [&](const double* x) { return density(g, x); }, 5);
}

class OU : public Problem {
 public:
  std::string name() const override { return "ou"; }
  std::string description() const override {
    return "Ornstein-Uhlenbeck dX = -B X dt + G dW (matrix B, G); exact Gaussian law";
  }
  void configure(MPI_Comm comm, int dim) override {
    dim_ = dim;
    OptionsBlock opt(comm, "ou_", "Ornstein-Uhlenbeck problem: dX = -B X dt + G dW");
    const auto theta = per_axis(opt.reals("-theta", "B = diag(theta) (one or per axis)", {1.0}, 3),
                                dim, "-ou_theta");
    const auto sigma = per_axis(opt.reals("-sigma", "G = diag(sigma) (one or per axis)", {1.0}, 3),
                                dim, "-ou_sigma");
    const auto Bv = opt.reals("-B", "Drift matrix B, dim x dim entries row by row (overrides "
                              "-ou_theta)", {}, 9);
    const auto Gv = opt.reals("-G", "Noise matrix G, dim x dim entries row by row (overrides "
                              "-ou_sigma)", {}, 9);
    m0_ = per_axis(opt.reals("-mean0", "Initial mean (one or per axis)", {1.0}, 3), dim,
                   "-ou_mean0");
    const auto v0 = per_axis(opt.reals("-var0", "Initial variance > 0 (one or per axis)", {0.1}, 3),
                             dim, "-ou_var0");
    const std::size_t dd = std::size_t(dim) * dim;
    if (!Bv.empty() && Bv.size() != dd)
      throw Error("-ou_B takes " + std::to_string(dd) + " values (dim x dim, row by row)");
    if (!Gv.empty() && Gv.size() != dd)
      throw Error("-ou_G takes " + std::to_string(dd) + " values (dim x dim, row by row)");
    B_ = Mat(dim);
    Mat G(dim);
    for (int i = 0; i < dim; ++i) {
      B_(i, i) = theta[i];
      G(i, i) = sigma[i];
      if (!(v0[i] > 0)) throw Error("-ou_var0 must be > 0");
    }
    if (!Bv.empty()) B_.a = Bv;
    if (!Gv.empty()) G.a = Gv;
    D_ = G * small::transpose(G);
    S0_ = Mat(dim);
    for (int i = 0; i < dim; ++i) S0_(i, i) = v0[i];
    // Stable B (Re eig > 0) iff B S + S B^T = I has a positive-definite solution (Lyapunov).
    try {
      const Mat S = small::lyapunov(B_, Mat(dim, 1.0));
      make_gaussian(std::vector<double>(dim, 0.0), S);
      stable_ = true;
      Sinf_ = small::lyapunov(B_, D_);
      stationary_ = make_gaussian(std::vector<double>(dim, 0.0), Sinf_);
    } catch (const std::exception&) {
      stable_ = false;
    }
    cached_t_ = -1;
  }
  Box default_box() const override {
    Box b;
    const double T = default_t_final();
    std::vector<double> L(3, 0.0);
    for (int s = 0; s <= 64; ++s) {
      const Gaussian& g = law(T * s / 64.0);
      for (int d = 0; d < dim_; ++d)
        L[d] = std::max(L[d], std::fabs(g.mean[d]) + 8.0 * std::sqrt(g.cov(d, d)));
    }
    for (int d = 0; d < 3; ++d) b.lo[d] = -L[d], b.hi[d] = L[d];
    return b;
  }
  double default_t_final() const override { return 1.0; }

  void drift(const double* x, double, double* b) const override {
    for (int i = 0; i < dim_; ++i) {
      b[i] = 0;
      for (int j = 0; j < dim_; ++j) b[i] -= B_(i, j) * x[j];
    }
  }
  void diffusion(const double*, double, double* a) const override {
    for (int i = 0; i < 9; ++i) a[i] = 0;
    for (int i = 0; i < dim_; ++i)
      for (int j = 0; j < dim_; ++j) a[3 * i + j] = D_(i, j);
  }
  bool diagonal_diffusion() const override {
    for (int i = 0; i < dim_; ++i)
      for (int j = 0; j < dim_; ++j)
        if (i != j && D_(i, j) != 0) return false;
    return true;
  }
  bool constant_diffusion() const override { return true; }
  bool time_dependent() const override { return false; }
  GaussianMixture initial_mixture() const override {
    return {GaussianComponent{1.0, std::vector<double>(m0_.begin(), m0_.begin() + dim_), S0_.a}};
  }
  GaussianMixture stationary_mixture() const override {
    if (!stable_) return {};
    return {GaussianComponent{1.0, std::vector<double>(dim_, 0.0), Sinf_.a}};
  }
  bool linear_sde(LinearSDE* sde) const override {
    sde->B = B_.a;
    sde->c.assign(dim_, 0.0);
    sde->a = D_.a;
    return true;
  }

  double initial_density(const double* x) const override { return density(law(0.0), x); }
  double initial_cell_average(const double* lo, const double* hi) const override {
    return exact_cell_average(lo, hi, 0.0);
  }
  bool has_exact() const override { return true; }
  double exact_cell_average(const double* lo, const double* hi, double t) const override {
    return cell_average(law(t), lo, hi);
  }
  bool has_stationary() const override { return stable_; }
  double stationary_cell_average(const double* lo, const double* hi) const override {
    return cell_average(stationary_, lo, hi);
  }
  // The free-space Gaussian is the solution on the box while the box holds it: its mass beyond
  // the walls, per axis from the marginals N(mean_d, Sigma_dd), sampled over [0, t] at 65 evenly
  // spaced and 64 geometrically spaced times (down to t 2^-16), which resolves transients much
  // faster than the run.
  Reference exact_reference(double t) const override {
    std::array<double, 3> tail{0, 0, 0};
    const auto take = [&](double tau) {
      const Gaussian& g = law(tau);
      for (int d = 0; d < dim_; ++d)
        tail[d] = std::max(tail[d], gaussian_tail(box_.lo[d], box_.hi[d], g.mean[d],
                                                  std::sqrt(g.cov(d, d))));
    };
    for (int k = 0; k <= 64; ++k) take(t * k / 64.0);
    for (int k = 1; k <= 64; ++k) take(t * std::exp2(-k / 4.0));
    return free_space_reference("free-space law", dim_, tail, bc_);
  }
  // N(0, S) has zero current exactly when B S is symmetric (then B S = D/2: the reversible,
  // gradient-form OU); restricted to the box and renormalised it is then also the stationary
  // law with reflecting walls. A non-reversible OU circulates: truncating walls change its law.
  Reference stationary_reference() const override {
    if (!stable_) return Problem::stationary_reference();
    std::array<double, 3> tail{0, 0, 0};
    for (int d = 0; d < dim_; ++d)
      tail[d] = gaussian_tail(box_.lo[d], box_.hi[d], 0.0, std::sqrt(Sinf_(d, d)));
    const Mat BS = B_ * Sinf_;
    double asym = 0, scale = 0;
    for (int i = 0; i < dim_; ++i)
      for (int j = 0; j < dim_; ++j) {
        asym = std::max(asym, std::fabs(BS(i, j) - BS(j, i)));
        scale = std::max(scale, std::fabs(BS(i, j)));
      }
    return free_space_reference("free-space stationary law, restricted to the box and renormalised",
                                dim_, tail, bc_, asym <= 1e-10 * scale);
  }
  AxisAverage separable_average(Law k, double t) const override {
    if (k == Law::stationary && !stable_) return {};
    const Gaussian& g = k == Law::stationary ? stationary_ : law(k == Law::initial ? 0.0 : t);
    if (!g.diagonal) return {};
    std::array<double, 3> m{0, 0, 0}, s{1, 1, 1};
    for (int i = 0; i < dim_; ++i) m[i] = g.mean[i], s[i] = std::sqrt(g.cov(i, i));
    return [m, s](int a, double lo, double hi) {
      return gaussian::axis_average(lo, hi, m[a], s[a]);
    };
  }
  nlohmann::json parameters() const override {
    nlohmann::json j;
    j["B"] = B_.a;
    j["D"] = D_.a;
    j["mean0"] = std::vector<double>(m0_.begin(), m0_.begin() + dim_);
    j["cov0"] = S0_.a;
    if (stable_) j["stationary_cov"] = Sinf_.a;
    return j;
  }

 private:
  // The exact law at time t (cached: error norms ask for every cell at the same t).
  const Gaussian& law(double t) const {
    if (t == cached_t_) return cached_;
    const Mat E = small::expm([&] {
      Mat m = B_;
      for (double& v : m.a) v *= -t;
      return m;
    }());
    std::vector<double> mean(dim_, 0.0);
    for (int i = 0; i < dim_; ++i)
      for (int j = 0; j < dim_; ++j) mean[i] += E(i, j) * m0_[j];
    Mat cov = E * S0_ * small::transpose(E);
    const Mat Q = small::noise_covariance(B_, D_, t);
    for (std::size_t k = 0; k < cov.a.size(); ++k) cov.a[k] += Q.a[k];
    for (int i = 0; i < dim_; ++i)
      for (int j = i + 1; j < dim_; ++j) cov(i, j) = cov(j, i) = 0.5 * (cov(i, j) + cov(j, i));
    cached_ = make_gaussian(mean, cov);
    cached_t_ = t;
    return cached_;
  }

  Mat B_, D_, S0_, Sinf_;
  std::vector<double> m0_;
  bool stable_ = false;
  Gaussian stationary_;
  mutable Gaussian cached_;
  mutable double cached_t_ = -1;
};

}  // namespace

std::unique_ptr<Problem> make_ou_problem() { return std::make_unique<OU>(); }

}  // namespace fpflow
