// problems/heat.cpp — heat equation: dX = sqrt(2 beta) dW, so d_t rho = beta Laplacian(rho).
//
// In free space N(m, s0^2 I) stays Gaussian: rho_t = N(m, s(t)^2 I), s(t)^2 = s0^2 + 2 beta t
// (docs/MATH.md). On the run's box each axis's walls act on their own factor, so the law is the
// product over the axes of N(m_d, s(t)^2) seen through that axis's walls: folded in by reflecting
// walls, wrapped by periodic ones, its mirror images subtracted by absorbing ones, each side by
// its own kind (problems/images.hpp: method of images, or the eigen-series when s(t) is large
// against the box; absorbing at one end and reflecting at the other is the first-passage law).
// That law at t = 0 is the initial density, so the exact law is the solution on ANY box with any
// walls: the error norms are always against the true solution. When the walls are far (the
// default box puts them 8 final standard deviations from m) the images vanish below round-off
// and the initial density is the plain Gaussian.
#include "core/options.hpp"
#include "problems/gaussian.hpp"
#include "problems/images.hpp"
#include "problems/problem.hpp"

#include <array>
#include <cmath>

namespace fpflow {
namespace {

class Heat : public Problem {
 public:
  std::string name() const override { return "heat"; }
  std::string description() const override {
    return "heat equation dX = sqrt(2 beta) dW from N(m, s0^2 I); exact law on any box and walls";
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
  void set_domain(const Box& box, const Boundaries& bc) override {
    Problem::set_domain(box, bc);
    const char* ax = "xyz";
    for (int d = 0; d < dim_; ++d) {
      walls_[d] = images::Walls{box.lo[d], box.hi[d], bc[d]};
      // With an absorbing side the images law is the killed process's: from beyond an absorbing
      // wall (or on it) it would be negative (or zero) inside. On a reflecting side the mean may
      // sit on the wall.
      const double m = mean_[d];
      const bool inside = (bc[d].lo == Boundary::absorbing ? box.lo[d] < m : box.lo[d] <= m) &&
                          (bc[d].hi == Boundary::absorbing ? m < box.hi[d] : m <= box.hi[d]);
      if (bc[d].any(Boundary::absorbing) && !inside)
        throw Error(std::string("-heat_mean: with absorbing walls along ") + ax[d] +
                    " the initial mean must lie inside the box (mean " + std::to_string(m) +
                    ", box [" + std::to_string(box.lo[d]) + ", " + std::to_string(box.hi[d]) +
                    "], walls " + to_string(bc[d]) + ")");
    }
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
  // The plain Gaussian only while the walls do not change it; otherwise particles sample the
  // grid's initial cells (the images law is not a Gaussian mixture).
  GaussianMixture initial_mixture() const override {
    for (int d = 0; d < dim_; ++d)
      if (gaussian_tail(walls_[d].lo, walls_[d].hi, mean_[d], s0_) > kTailTolerance / dim_) return {};
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
    double v = 1.0;
    for (int d = 0; d < dim_; ++d) v *= images::density(x[d], mean_[d], s0_, walls_[d]);
    return v;
  }
  double initial_cell_average(const double* lo, const double* hi) const override {
    return exact_cell_average(lo, hi, 0.0);
  }
  bool has_exact() const override { return true; }
  // Same factors, same order as separable_average's product (the two paths agree bit for bit).
  double exact_cell_average(const double* lo, const double* hi, double t) const override {
    const double s = sd(t);
    double v = 1.0;
    for (int d = 0; d < dim_; ++d) v *= images::axis_average(lo[d], hi[d], mean_[d], s, walls_[d]);
    return v;
  }
  AxisAverage separable_average(Law k, double t) const override {
    if (k == Law::stationary) return {};
    const double s = sd(k == Law::initial ? 0.0 : t);
    const std::array<double, 3> m{mean_[0], mean_[1], mean_[2]};
    const std::array<images::Walls, 3> w = walls_;
    return [m, s, w](int a, double lo, double hi) {
      return images::axis_average(lo, hi, m[a], s, w[a]);
    };
  }
  Reference exact_reference(double) const override {
    return {true, "exact law (heat kernel of the box and its walls)", -1, ""};
  }
  nlohmann::json parameters() const override {
    return {{"beta", beta_}, {"sigma0", s0_},
            {"mean", std::vector<double>(mean_.begin(), mean_.begin() + dim_)}};
  }

 private:
  double sd(double t) const { return std::sqrt(s0_ * s0_ + 2 * beta_ * t); }
  double beta_ = 0.5, s0_ = 0.5;
  std::vector<double> mean_{0, 0, 0};
  std::array<images::Walls, 3> walls_{};  // unbounded until set_domain
};

}  // namespace

std::unique_ptr<Problem> make_heat_problem() { return std::make_unique<Heat>(); }

}  // namespace fpflow
