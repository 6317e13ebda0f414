// problems/double_well.cpp — overdamped Langevin dynamics in a double-well potential:
//   dX = -grad V(X) dt + sqrt(2 eps) dW,  V = barrier (x^2 - 1)^2 + kappa/2 (y^2 + z^2),
// a = 2 eps I. Gradient form with U = V/eps: the stationary law is the Gibbs density
// e^{-V/eps}/Z (bimodal in x, Gaussian N(0, eps/kappa) in y and z), and the discrete Gibbs state
// is exactly stationary with Scharfetter-Gummel fluxes. No closed-form transient: the exact
// law is the stationary one (used by -steady and -until_stationary).
#include "core/options.hpp"
#include "problems/gaussian.hpp"
#include "problems/problem.hpp"

#include <algorithm>
#include <array>
#include <cmath>

namespace fpflow {
namespace {

class DoubleWell : public Problem {
 public:
  std::string name() const override { return "double-well"; }
  std::string description() const override {
    return "dX = -grad V dt + sqrt(2 eps) dW, V = barrier (x^2-1)^2 + kappa/2 |y,z|^2; Gibbs law";
  }
  void configure(MPI_Comm comm, int dim) override {
    dim_ = dim;
    OptionsBlock opt(comm, "dw_", "double-well problem: V = barrier (x^2-1)^2 + kappa/2 (y^2+z^2)");
    barrier_ = opt.real("-barrier", "Barrier height of V in x", barrier_);
    eps_ = opt.real("-eps", "Temperature eps (a = 2 eps I)", eps_);
    kappa_ = opt.real("-kappa", "Stiffness of V in y and z", kappa_);
    m0_ = opt.real("-mean0", "Initial mean in x (N(mean0, sigma0^2) in x, 0 elsewhere)", m0_);
    s0_ = opt.real("-sigma0", "Initial standard deviation", s0_);
    t_final_ = opt.real("-t_final", "Default final time", t_final_);
    if (!(eps_ > 0) || !(barrier_ > 0) || !(kappa_ > 0) || !(s0_ > 0))
      throw Error("-dw_eps, -dw_barrier, -dw_kappa and -dw_sigma0 must be positive");
    // Normalisation of the x-marginal e^{-barrier (x^2-1)^2/eps} over the default x-range, by
    // composite 5-point Gauss-Legendre (the tails beyond it are below 1e-20 for the defaults).
    const Box b = default_box();
    zx_ = x_mass(b.lo[0], b.hi[0]);
  }
  Box default_box() const override {
    // x: where barrier (x^2 - 1)^2 / eps reaches 50 (density e^{-50}); y, z: 8 sd of N(0, eps/kappa).
    const double X = std::sqrt(1 + std::sqrt(50 * eps_ / barrier_));
    const double Y = 8 * std::sqrt(eps_ / kappa_);
    Box b;
    b.lo = {-std::max(X, std::fabs(m0_) + 8 * s0_), -Y, -Y};
    b.hi = {std::max(X, std::fabs(m0_) + 8 * s0_), Y, Y};
    return b;
  }
  double default_t_final() const override { return t_final_; }

  double V(const double* x) const {
    double v = barrier_ * (x[0] * x[0] - 1) * (x[0] * x[0] - 1);
    for (int d = 1; d < dim_; ++d) v += 0.5 * kappa_ * x[d] * x[d];
    return v;
  }
  void drift(const double* x, double, double* b) const override {
    b[0] = -4 * barrier_ * x[0] * (x[0] * x[0] - 1);
    for (int d = 1; d < dim_; ++d) b[d] = -kappa_ * x[d];
  }
  void diffusion(const double*, double, double* a) const override {
    for (int i = 0; i < 9; ++i) a[i] = 0;
    for (int d = 0; d < dim_; ++d) a[4 * d] = 2 * eps_;
  }
  bool has_potential() const override { return true; }
  double potential(const double* x, double) const override { return V(x) / eps_; }
  bool constant_diffusion() const override { return true; }
  bool time_dependent() const override { return false; }
  GaussianMixture initial_mixture() const override {
    const double m[3] = {m0_, 0, 0};
    return {isotropic_gaussian(dim_, m, s0_)};
  }

  double initial_density(const double* x) const override {
    const double m[3] = {m0_, 0, 0}, s[3] = {s0_, s0_, s0_};
    return gaussian::density(dim_, x, m, s);
  }
  double initial_cell_average(const double* lo, const double* hi) const override {
    const double m[3] = {m0_, 0, 0}, s[3] = {s0_, s0_, s0_};
    return gaussian::cell_average(dim_, lo, hi, m, s);
  }
  bool has_stationary() const override { return true; }
  double stationary_cell_average(const double* lo, const double* hi) const override {
    double v = gl5(lo[0], hi[0]) / zx_ / (hi[0] - lo[0]);
    const double s = std::sqrt(eps_ / kappa_);
    for (int d = 1; d < dim_; ++d) v *= gaussian::interval_probability(lo[d], hi[d], 0, s) / (hi[d] - lo[d]);
    return v;
  }
  // Zero current (gradient form): restricted to the box and renormalised, the Gibbs law is also
  // the stationary law with reflecting walls; other walls need the box to hold it.
  Reference stationary_reference() const override {
    std::array<double, 3> tail{0, 0, 0};
    // x: the marginal's mass beyond the walls within the default x-range (beyond it e^{-50}).
    const double X = default_box().hi[0];
    if (box_.lo[0] > -X) tail[0] += x_mass(-X, std::min(box_.lo[0], X)) / zx_;
    if (box_.hi[0] < X) tail[0] += x_mass(std::max(box_.hi[0], -X), X) / zx_;
    for (int d = 1; d < dim_; ++d)
      tail[d] = gaussian_tail(box_.lo[d], box_.hi[d], 0.0, std::sqrt(eps_ / kappa_));
    return free_space_reference("Gibbs law, restricted to the box and renormalised", dim_, tail,
                                bc_, true);
  }
  nlohmann::json parameters() const override {
    return {{"barrier", barrier_}, {"eps", eps_}, {"kappa", kappa_}, {"mean0", m0_},
            {"sigma0", s0_}};
  }

 private:
  // Integral of e^{-barrier (x^2-1)^2/eps} over [a, b], 5-point Gauss-Legendre.
  double gl5(double a, double b) const {
    const auto f = [this](const double* x) {
      return std::exp(-barrier_ * (x[0] * x[0] - 1) * (x[0] * x[0] - 1) / eps_);
    };
    return (b - a) * cell_average_gl(1, &a, &b, f, 5);
  }
  // Integral of e^{-barrier (x^2-1)^2/eps} over [a, b] (a <= b): composite 5-point
  // Gauss-Legendre on panels no wider than the default x-range / 4000.
  double x_mass(double a, double b) const {
    if (!(b > a)) return 0;
    const Box def = default_box();
    const int panels = std::max(1, int(std::ceil(4000 * (b - a) / (def.hi[0] - def.lo[0]))));
    const double w = (b - a) / panels;
    double sum = 0;
    for (int p = 0; p < panels; ++p) sum += gl5(a + p * w, a + (p + 1) * w);
    return sum;
  }
  double barrier_ = 1.0, eps_ = 0.5, kappa_ = 1.0, m0_ = -1.0, s0_ = 0.3, t_final_ = 2.0, zx_ = 1;
};

}  // namespace

std::unique_ptr<Problem> make_double_well_problem() { return std::make_unique<DoubleWell>(); }

}  // namespace fpflow
