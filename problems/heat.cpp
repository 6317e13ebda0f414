// problems/heat.cpp — heat equation: dX = sqrt(2 beta) dW, so d_t rho = beta Laplacian(rho).
//
// Initial N(m, s0^2 I) stays Gaussian: rho_t = N(m, (s0^2 + 2 beta t) I) (MATH.md). Exact cell
// averages at every t; the default box puts its walls 8 final standard deviations from m, where
// the tail mass 2 Phi(-8) ~ 1e-15 makes reflecting and free-space solutions indistinguishable.
#include "core/options.hpp"
#include "problems/gaussian.hpp"
#include "problems/problem.hpp"

#include <array>
#include <cmath>

namespace fpflow {
namespace {

class Heat : public Problem {
 public:
  std::string name() const override { return "heat"; }
  std::string description() const override {
    return "heat equation dX = sqrt(2 beta) dW from N(m, s0^2 I); exact Gaussian solution";
  }
  void configure(MPI_Comm comm, int dim) override {
    dim_ = dim;
    OptionsBlock opt(comm, "heat_", "heat problem: dX = sqrt(2 beta) dW");
    beta_ = opt.real("-beta", "Diffusivity beta (a = 2 beta I)", beta_);
    s0_ = opt.real("-sigma0", "Initial standard deviation", s0_);
    mean_ = per_axis(opt.reals("-mean", "Initial mean (one value or one per axis)", {0.0}, 3), dim,
                     "-heat_mean");
    if (!(beta_ >= 0)) throw Error("-heat_beta must be >= 0, got " + std::to_string(beta_));
    if (!(s0_ > 0)) throw Error("-heat_sigma0 must be > 0, got " + std::to_string(s0_));
  }
  Box default_box() const override {
    const double L = 8.0 * sd(default_t_final());
    Box b;
    for (int d = 0; d < 3; ++d) b.lo[d] = mean_[d] - L, b.hi[d] = mean_[d] + L;
    return b;
  }
  double default_t_final() const override { return 0.25; }

  void drift(const double*, double, double* b) const override {
    for (int d = 0; d < dim_; ++d) b[d] = 0;
  }
  void diffusion(const double*, double, double* a) const override {
    for (int i = 0; i < 9; ++i) a[i] = 0;
    for (int d = 0; d < dim_; ++d) a[4 * d] = 2 * beta_;
  }
  bool constant_diffusion() const override { return true; }
  bool time_dependent() const override { return false; }
  GaussianMixture initial_mixture() const override {
    return {isotropic_gaussian(dim_, mean_.data(), s0_)};
  }
  bool linear_sde(LinearSDE* sde) const override {
    sde->B.assign(std::size_t(dim_) * dim_, 0.0);
    sde->c.assign(dim_, 0.0);
    sde->a.assign(std::size_t(dim_) * dim_, 0.0);
    for (int d = 0; d < dim_; ++d) sde->a[d * dim_ + d] = 2 * beta_;
    return true;
  }

  double initial_density(const double* x) const override {
    const double s[3] = {s0_, s0_, s0_};
    return gaussian::density(dim_, x, mean_.data(), s);
  }
  double initial_cell_average(const double* lo, const double* hi) const override {
    return exact_cell_average(lo, hi, 0.0);
  }
  bool has_exact() const override { return true; }
  double exact_cell_average(const double* lo, const double* hi, double t) const override {
    const double s = sd(t), sv[3] = {s, s, s};
    return gaussian::cell_average(dim_, lo, hi, mean_.data(), sv);
  }
  AxisAverage separable_average(Law k, double t) const override {
    if (k == Law::stationary) return {};
    const double s = sd(k == Law::initial ? 0.0 : t);
    const std::array<double, 3> m{mean_[0], mean_[1], mean_[2]};
    return [m, s](int a, double lo, double hi) { return gaussian::axis_average(lo, hi, m[a], s); };
  }
  nlohmann::json parameters() const override {
    return {{"beta", beta_}, {"sigma0", s0_},
            {"mean", std::vector<double>(mean_.begin(), mean_.begin() + dim_)}};
  }

 private:
  double sd(double t) const { return std::sqrt(s0_ * s0_ + 2 * beta_ * t); }
  double beta_ = 0.5, s0_ = 0.5;
  std::vector<double> mean_{0, 0, 0};
};

}  // namespace

std::unique_ptr<Problem> make_heat_problem() { return std::make_unique<Heat>(); }

}  // namespace fpflow
