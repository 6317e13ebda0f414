// problems/ou.cpp — Ornstein-Uhlenbeck process with matrix drift and noise:
//   dX = -B X dt + G dW,  a = D = G G^T  (B need not be symmetric; G need not be square-diagonal).
// Shortcuts: -ou_theta / -ou_sigma give B = diag(theta), G = diag(sigma) (the default, theta = sigma
// = 1). From N(m0, diag(var0)) the law stays Gaussian (docs/MATH.md):
//   mean e^{-Bt} m0,  Sigma(t) = e^{-Bt} Sigma0 e^{-B^T t} + int_0^t e^{-Bs} D e^{-B^T s} ds
// (the integral by Van Loan's block exponential, valid for any B, e.g. theta = 0); when the
// eigenvalues of B have positive real part the stationary law is N(0, S) with B S + S B^T = D.
// The law (and its exact cell averages) is the shared linear-Gaussian one (linear_gaussian.hpp,
// with c = 0). The default box spans the transient with 8 sd of margin.
// These are free-space laws: on a box that truncates them they are not the solution, and the
// driver then reports their distance as reference_error (exact_reference below).
#include "core/options.hpp"
#include "problems/linear_gaussian.hpp"
#include "problems/problem.hpp"

#include <algorithm>
#include <cmath>

namespace fpflow {
namespace {

using small::Mat;

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
    Mat S0(dim);
    for (int i = 0; i < dim; ++i) S0(i, i) = v0[i];
    law_.set(B_, std::vector<double>(dim, 0.0), D_,
             std::vector<double>(m0_.begin(), m0_.begin() + dim), S0, "ou");
  }
  Box default_box() const override {
    Box b;
    const double T = default_t_final();
    std::vector<double> L(3, 0.0);
    for (int s = 0; s <= 64; ++s) {
      const GaussianLaw& g = law_.at(T * s / 64.0);
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
  GaussianMixture initial_mixture() const override { return law_.initial_mixture(); }
  GaussianMixture stationary_mixture() const override { return law_.stationary_mixture(); }
  bool linear_sde(LinearSDE* sde) const override {
    *sde = law_.sde();
    return true;
  }

  double initial_density(const double* x) const override { return density(law_.at(0.0), x); }
  double initial_cell_average(const double* lo, const double* hi) const override {
    return exact_cell_average(lo, hi, 0.0);
  }
  bool has_exact() const override { return true; }
  double exact_cell_average(const double* lo, const double* hi, double t) const override {
    return law_.cell_average(Law::exact, lo, hi, t);
  }
  bool has_stationary() const override { return law_.stable(); }
  double stationary_cell_average(const double* lo, const double* hi) const override {
    return law_.cell_average(Law::stationary, lo, hi, 0.0);
  }
  // Free-space laws: the solution on the box while the box holds them (linear_gaussian.hpp).
  Reference exact_reference(double t) const override {
    return law_.exact_reference(t, box_, bc_);
  }
  Reference stationary_reference() const override {
    return law_.stationary_reference(box_, bc_);
  }
  AxisAverage separable_average(Law k, double t) const override {
    return law_.separable_average(k, t);
  }
  nlohmann::json parameters() const override {
    nlohmann::json j;
    j["B"] = B_.a;
    j["D"] = D_.a;
    j["mean0"] = std::vector<double>(m0_.begin(), m0_.begin() + dim_);
    j["cov0"] = law_.S0().a;
    if (law_.stable()) j["stationary_cov"] = law_.stationary().cov.a;
    return j;
  }

 private:
  Mat B_, D_;
  std::vector<double> m0_;
  LinearGaussian law_;
};

}  // namespace

std::unique_ptr<Problem> make_ou_problem() { return std::make_unique<OU>(); }

}  // namespace fpflow
