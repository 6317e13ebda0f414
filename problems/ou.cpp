// problems/ou.cpp — Ornstein-Uhlenbeck process, independent per axis:
//   dX_d = -theta_d X_d dt + sigma_d dW_d,  a = diag(sigma_d^2).
// From N(m0, v0) per axis: mean m0 e^{-theta t}, variance v0 e^{-2 theta t} +
// sigma^2/(2 theta)(1 - e^{-2 theta t}); stationary N(0, sigma^2/(2 theta)) (MATH.md).
// theta = 0 is allowed (Brownian motion with drift-free variance growth sigma^2 t).
// The default box spans the whole transient with 8 standard deviations of margin.
#include "core/options.hpp"
#include "problems/gaussian.hpp"
#include "problems/problem.hpp"

#include <algorithm>
#include <cmath>

namespace fpflow {
namespace {

class OU : public Problem {
 public:
  std::string name() const override { return "ou"; }
  std::string description() const override {
    return "Ornstein-Uhlenbeck dX = -theta X dt + sigma dW per axis; exact Gaussian law";
  }
  void configure(MPI_Comm comm, int dim) override {
    dim_ = dim;
    OptionsBlock opt(comm, "ou_", "Ornstein-Uhlenbeck problem: dX = -theta X dt + sigma dW");
    theta_ = per_axis(opt.reals("-theta", "Mean-reversion rate theta >= 0 (one or per axis)",
                                {1.0}, 3), dim, "-ou_theta");
    sigma_ = per_axis(opt.reals("-sigma", "Noise amplitude sigma (one or per axis)", {1.0}, 3),
                      dim, "-ou_sigma");
    m0_ = per_axis(opt.reals("-mean0", "Initial mean (one or per axis)", {1.0}, 3), dim,
                   "-ou_mean0");
    v0_ = per_axis(opt.reals("-var0", "Initial variance > 0 (one or per axis)", {0.1}, 3), dim,
                   "-ou_var0");
    for (int d = 0; d < dim; ++d) {
      if (!(theta_[d] >= 0)) throw Error("-ou_theta must be >= 0");
      if (!(v0_[d] > 0)) throw Error("-ou_var0 must be > 0");
    }
  }
  Box default_box() const override {
    Box b;
    for (int d = 0; d < 3; ++d) {
      double L = 0;
      const double T = default_t_final();
      for (int s = 0; s <= 64; ++s) {
        const double t = T * s / 64.0;
        L = std::max(L, std::fabs(mean(d, t)) + 8.0 * std::sqrt(var(d, t)));
      }
      b.lo[d] = -L;
      b.hi[d] = L;
    }
    return b;
  }
  double default_t_final() const override { return 1.0; }

  void drift(const double* x, double, double* b) const override {
    for (int d = 0; d < dim_; ++d) b[d] = -theta_[d] * x[d];
  }
  void diffusion(const double*, double, double* a) const override {
    for (int i = 0; i < 9; ++i) a[i] = 0;
    for (int d = 0; d < dim_; ++d) a[4 * d] = sigma_[d] * sigma_[d];
  }
  bool time_dependent() const override { return false; }

  double initial_density(const double* x) const override {
    double s[3];
    for (int d = 0; d < 3; ++d) s[d] = std::sqrt(v0_[d]);
    return gaussian::density(dim_, x, m0_.data(), s);
  }
  double initial_cell_average(const double* lo, const double* hi) const override {
    return exact_cell_average(lo, hi, 0.0);
  }
  bool has_exact() const override { return true; }
  double exact_cell_average(const double* lo, const double* hi, double t) const override {
    double m[3], s[3];
    for (int d = 0; d < 3; ++d) m[d] = mean(d, t), s[d] = std::sqrt(var(d, t));
    return gaussian::cell_average(dim_, lo, hi, m, s);
  }
  bool has_stationary() const override {
    for (int d = 0; d < dim_; ++d)
      if (!(theta_[d] > 0)) return false;
    return true;
  }
  double stationary_cell_average(const double* lo, const double* hi) const override {
    double m[3] = {0, 0, 0}, s[3];
    for (int d = 0; d < 3; ++d) s[d] = sigma_[d] / std::sqrt(2 * std::max(theta_[d], 1e-300));
    return gaussian::cell_average(dim_, lo, hi, m, s);
  }
  nlohmann::json parameters() const override {
    auto cut = [this](const std::vector<double>& v) {
      return std::vector<double>(v.begin(), v.begin() + dim_);
    };
    return {{"theta", cut(theta_)}, {"sigma", cut(sigma_)}, {"mean0", cut(m0_)},
            {"var0", cut(v0_)}};
  }

 private:
  double mean(int d, double t) const { return m0_[d] * std::exp(-theta_[d] * t); }
  double var(int d, double t) const {
    const double th = theta_[d], s2 = sigma_[d] * sigma_[d];
    if (th == 0) return v0_[d] + s2 * t;
    const double e = std::exp(-2 * th * t);
    return v0_[d] * e - s2 / (2 * th) * std::expm1(-2 * th * t);
  }
  std::vector<double> theta_, sigma_, m0_, v0_;
};

}  // namespace

std::unique_ptr<Problem> make_ou_problem() { return std::make_unique<OU>(); }

}  // namespace fpflow
