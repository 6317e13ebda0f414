// problems/langevin_gmm.cpp — Langevin dynamics whose stationary law is a Gaussian mixture:
//   dX = grad log p(X) dt + sqrt(2) dW,  p = sum_k pi_k N(mu_k, s_k^2 I),  a = 2 I.
// By default five equally weighted modes on a circle of radius 2.5 in the x-y plane (1-D: on a
// line; 3-D: z = 0), s = 0.5, started from N(0, I). Gradient form with U = -log p, so the
// discrete Gibbs state is exactly stationary with Scharfetter-Gummel fluxes; the exact
// stationary law p has exact cell averages (sums of per-mode normal-CDF products). The score
// grad log p = -sum_k w_k(x) (x - mu_k)/s_k^2, w_k = pi_k N_k(x)/p(x), is evaluated with the
// log-sum-exp shift, so it stays finite far from every mode.
#include "core/options.hpp"
#include "problems/gaussian.hpp"
#include "problems/problem.hpp"

#include <algorithm>
#include <array>
#include <cmath>

namespace fpflow {
namespace {

class LangevinGMM : public Problem {
 public:
  std::string name() const override { return "langevin-gmm"; }
  std::string description() const override {
    return "Langevin dX = grad log p dt + sqrt(2) dW, p a Gaussian mixture (stationary law)";
  }
  void configure(MPI_Comm comm, int dim) override {
    dim_ = dim;
    OptionsBlock opt(comm, "gmm_", "langevin-gmm problem: modes on a circle, isotropic");
    const int K = int(opt.integer("-modes", "Number of mixture modes", 5));
    const double R = opt.real("-radius", "Radius of the circle of mode centres", 2.5);
    const auto sig = opt.reals("-sigma", "Standard deviation of each mode (one or per mode)", {0.5}, 64);
    const auto w = opt.reals("-weights", "Mode weights (normalised; default equal)", {}, 64);
    s0_ = opt.real("-sigma0", "Standard deviation of the initial N(0, sigma0^2 I)", 1.0);
    t_final_ = opt.real("-t_final", "Default final time", 2.0);
    if (K < 1 || K > kMaxModes) throw Error("-gmm_modes must be between 1 and 64");
    if (sig.size() != 1 && int(sig.size()) != K)
      throw Error("-gmm_sigma takes 1 or " + std::to_string(K) + " values");
    if (!w.empty() && int(w.size()) != K)
      throw Error("-gmm_weights takes " + std::to_string(K) + " values");
    modes_.clear();
    double wsum = 0;
    for (int k = 0; k < K; ++k) {
      Mode m;
      const double phi = 2 * M_PI * k / K;
      m.mu = {R * std::cos(phi), dim > 1 ? R * std::sin(phi) : 0.0, 0.0};
      m.s = sig.size() == 1 ? sig[0] : sig[k];
      m.pi = w.empty() ? 1.0 : w[k];
      if (!(m.s > 0) || !(m.pi > 0)) throw Error("-gmm_sigma and -gmm_weights must be positive");
      wsum += m.pi;
      modes_.push_back(m);
    }
    for (auto& m : modes_) {
      m.pi /= wsum;
      m.inv_var = 1 / (m.s * m.s);
      m.log_norm = std::log(m.pi) - dim * std::log(m.s * std::sqrt(2 * M_PI));
    }
    if (!(s0_ > 0)) throw Error("-gmm_sigma0 must be positive");
  }
  Box default_box() const override {
    Box b;
    for (int d = 0; d < 3; ++d) {
      double L = 8 * s0_;
      for (const auto& m : modes_) L = std::max(L, std::fabs(m.mu[d]) + 8 * m.s);
      b.lo[d] = -L;
      b.hi[d] = L;
    }
    return b;
  }
  double default_t_final() const override { return t_final_; }

  // log pi_k N_k(x) into l[0..K-1] (K <= kMaxModes: no allocation on this hot path, which the
  // operator and the particles call per face and per particle step), and their log-sum-exp.
  double log_p(const double* x, double* l) const {
    double mx = -1e300;
    for (size_t k = 0; k < modes_.size(); ++k) {
      const Mode& m = modes_[k];
      double q = 0;
      for (int d = 0; d < dim_; ++d) q += (x[d] - m.mu[d]) * (x[d] - m.mu[d]);
      l[k] = m.log_norm - 0.5 * q * m.inv_var;
      mx = std::max(mx, l[k]);
    }
    double s = 0;
    for (size_t k = 0; k < modes_.size(); ++k) s += std::exp(l[k] - mx);
    return mx + std::log(s);
  }
  void drift(const double* x, double, double* b) const override {
    double l[kMaxModes];
    const double lp = log_p(x, l);
    for (int d = 0; d < dim_; ++d) b[d] = 0;
    for (size_t k = 0; k < modes_.size(); ++k) {
      const double wk = std::exp(l[k] - lp) * modes_[k].inv_var;
      for (int d = 0; d < dim_; ++d) b[d] -= wk * (x[d] - modes_[k].mu[d]);
    }
  }
  void diffusion(const double*, double, double* a) const override {
    for (int i = 0; i < 9; ++i) a[i] = 0;
    for (int d = 0; d < dim_; ++d) a[4 * d] = 2.0;
  }
  bool has_potential() const override { return true; }
  double potential(const double* x, double) const override {
    double l[kMaxModes];
    return -log_p(x, l);
  }
  bool constant_diffusion() const override { return true; }
  bool time_dependent() const override { return false; }
  GaussianMixture initial_mixture() const override {
    const double origin[3] = {0, 0, 0};
    return {isotropic_gaussian(dim_, origin, s0_)};
  }
  GaussianMixture stationary_mixture() const override {
    GaussianMixture g;
    for (const auto& m : modes_) g.push_back(isotropic_gaussian(dim_, m.mu.data(), m.s, m.pi));
    return g;
  }

  double initial_density(const double* x) const override {
    const double m[3] = {0, 0, 0}, s[3] = {s0_, s0_, s0_};
    return gaussian::density(dim_, x, m, s);
  }
  double initial_cell_average(const double* lo, const double* hi) const override {
    const double m[3] = {0, 0, 0}, s[3] = {s0_, s0_, s0_};
    return gaussian::cell_average(dim_, lo, hi, m, s);
  }
  bool has_stationary() const override { return true; }
  double stationary_cell_average(const double* lo, const double* hi) const override {
    double v = 0;
    for (const auto& m : modes_) {
      const double s[3] = {m.s, m.s, m.s};
      v += m.pi * gaussian::cell_average(dim_, lo, hi, m.mu.data(), s);
    }
    return v;
  }
  // Zero current (gradient form): restricted to the box and renormalised, p is also the
  // stationary law with reflecting walls; other walls need the box to hold it.
  Reference stationary_reference() const override {
    std::array<double, 3> tail{0, 0, 0};
    for (int d = 0; d < dim_; ++d)
      for (const auto& m : modes_) tail[d] += m.pi * gaussian_tail(box_.lo[d], box_.hi[d], m.mu[d], m.s);
    return free_space_reference("mixture law p, restricted to the box and renormalised", dim_, tail,
                                bc_, true);
  }
  nlohmann::json parameters() const override {
    nlohmann::json j = nlohmann::json::array();
    for (const auto& m : modes_)
      j.push_back({{"weight", m.pi},
                   {"mean", std::vector<double>(m.mu.begin(), m.mu.begin() + dim_)},
                   {"sigma", m.s}});
    return {{"modes", j}, {"sigma0", s0_}};
  }

 private:
  struct Mode {
    std::array<double, 3> mu{};
    double s = 0.5, pi = 1;
    double inv_var = 4, log_norm = 0;  // 1/s^2 and log(pi / (s sqrt(2 pi))^dim)
  };
  static constexpr int kMaxModes = 64;
  std::vector<Mode> modes_;
  double s0_ = 1.0, t_final_ = 2.0;
};

}  // namespace

std::unique_ptr<Problem> make_langevin_gmm_problem() { return std::make_unique<LangevinGMM>(); }

}  // namespace fpflow
