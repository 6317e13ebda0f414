// problems/custom.cpp — a problem defined at run time by expressions (muParser), no recompiling.
//
//   -custom_drift_x/_y/_z      b_d(x, y, z, t)            (default 0)
//   -custom_diffusion_x/_y/_z  a_dd(x, y, z, t) = (G G^T)_dd >= 0 (default 1)
//   -custom_diffusion_xy/_xz/_yz  off-diagonal a_ij (default 0); the matrix must be PSD
//   -custom_noise_xx ... _zz   alternatively the noise matrix G (all d x d entries, default 0
//                              off the diagonal and 1 on it); then a = G G^T
//   -custom_initial            initial density, any non-negative expression; normalised to
//                              unit mass on the grid unless -custom_normalize false
//   -custom_exact              optional exact density rho(x, y, z, t): enables error norms
//   -custom_stationary         optional exact stationary density (for -steady error norms)
//   -custom_potential          gradient form instead of -custom_drift_*: U(x, y, z, t) with
//                              b = 1/2 div a - 1/2 a grad U, so e^{-U} is stationary (diagonal a:
//                              the discrete Gibbs state e^{-U(x_c)} is then exactly stationary)
//   -custom_params             named parameters, e.g. -custom_params B=2,a=exp(-B/2),s2=1-a^2:
//                              each value an expression of numbers and earlier parameters
//   -custom_exact_law gaussian the exact law of a linear SDE b = c - B x, constant a, from the
//                              Gaussian -custom_mean0, -custom_cov0 (linear_gaussian.hpp)
//   -custom_box_lo/-custom_box_hi, -custom_t_final  defaults for the box and final time
// All of these can live in an options file (-options_file my_problem.opts). Expressions
// (problems/expression.hpp: the functions, the parameters, the errors) are parsed at set-up: a
// syntax error or an unknown name is reported with the option and the text. A coefficient that
// uses t is re-evaluated at every stage time.
#include "core/options.hpp"
#include "problems/expression.hpp"
#include "problems/linear_gaussian.hpp"
#include "problems/problem.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>
#include <sstream>

namespace fpflow {
namespace {

using small::Mat;

std::string num(double v) {
  std::ostringstream s;
  s.precision(6);
  s << v;
  return s.str();
}

std::string point(const double* x, int dim) {
  std::string s = "(";
  for (int d = 0; d < dim; ++d) s += (d ? ", " : "") + num(x[d]);
  return s + ")";
}

class Custom : public Problem {
 public:
  std::string name() const override { return "custom"; }
  std::string description() const override {
    return "user-defined drift, diffusion and initial density (muParser expressions)";
  }

  void configure(MPI_Comm comm, int dim) override {
    dim_ = dim;
    read_options(comm, dim);
    scope_.define_parameters(params_src_);
    const char* ax[3] = {"x", "y", "z"};
    if (has_potential_) potential_.compile(scope_, "-custom_potential", potential_src_);
    for (int d = 0; d < dim; ++d)
      drift_[d].compile(scope_, std::string("-custom_drift_") + ax[d], drift_src_[d]);
    for (int i = 0; i < dim; ++i)
      for (int j = 0; j < dim; ++j) {
        if (use_noise_)
          noise_[i][j].compile(scope_, std::string("-custom_noise_") + ax[i] + ax[j],
                               noise_src_[i][j]);
        else if (j >= i)
          diff_[i][j].compile(scope_,
                              std::string("-custom_diffusion_") + ax[i] + (i == j ? "" : ax[j]),
                              diff_src_[i][j]);
      }
    if (!gaussian_) initial_.compile(scope_, "-custom_initial", initial_src_);
    if (has_exact_) exact_.compile(scope_, "-custom_exact", exact_src_);
    if (has_stationary_) stationary_.compile(scope_, "-custom_stationary", stationary_src_);
    time_dep_ = has_potential_ && potential_.uses("t");
    for (int i = 0; i < dim; ++i) {
      time_dep_ = time_dep_ || drift_[i].uses("t");
      for (int j = 0; j < dim; ++j)
        time_dep_ = time_dep_ || (use_noise_ ? noise_[i][j].uses("t") : j >= i && diff_[i][j].uses("t"));
    }
    if (gaussian_) setup_linear_law();
  }

  Box default_box() const override { return default_box_; }
  double default_t_final() const override { return t_final_; }

  void drift(const double* x, double t, double* b) const override {
    if (has_potential_) return gradient_drift(x, t, b);
    scope_.set(x, t);
    for (int d = 0; d < dim_; ++d) b[d] = drift_[d].eval();
  }
  bool has_potential() const override { return has_potential_; }
  double potential(const double* x, double t) const override {
    scope_.set(x, t);
    return potential_.eval();
  }
  void diffusion(const double* x, double t, double* a) const override {
    scope_.set(x, t);
    for (int i = 0; i < 9; ++i) a[i] = 0;
    if (use_noise_) {
      double G[3][3] = {};
      for (int i = 0; i < dim_; ++i)
        for (int j = 0; j < dim_; ++j) G[i][j] = noise_[i][j].eval();
      for (int i = 0; i < dim_; ++i)
        for (int j = 0; j < dim_; ++j)
          for (int k = 0; k < dim_; ++k) a[3 * i + j] += G[i][k] * G[j][k];
      return;
    }
    for (int i = 0; i < dim_; ++i)
      for (int j = i; j < dim_; ++j) a[3 * i + j] = a[3 * j + i] = diff_[i][j].eval();
  }
  bool diagonal_diffusion() const override { return diagonal_; }
  bool constant_diffusion() const override { return gaussian_; }
  bool time_dependent() const override { return time_dep_; }

  double initial_density(const double* x) const override {
    if (gaussian_) return density(law_.at(0.0), x);
    scope_.set(x, 0.0);
    return initial_.eval();
  }
  double initial_cell_average(const double* lo, const double* hi) const override {
    if (gaussian_) return law_.cell_average(Law::initial, lo, hi, 0.0);
    return Problem::initial_cell_average(lo, hi);
  }
  bool normalize_initial() const override { return normalize_; }
  bool has_exact() const override { return has_exact_ || gaussian_; }
  double exact_cell_average(const double* lo, const double* hi, double t) const override {
    if (gaussian_) return law_.cell_average(Law::exact, lo, hi, t);
    return cell_average_gl(dim_, lo, hi, [&](const double* x) {
      scope_.set(x, t);
      return exact_.eval();
    });
  }
  // b_i = 1/2 sum_j d_j a_ij - 1/2 sum_j a_ij d_j U by central differences (point values only:
  // the operator's face drift uses U differences directly).
  void gradient_drift(const double* x, double t, double* b) const {
    double a[9], ap[9], am[9], xp[3], xm[3];
    diffusion(x, t, a);
    for (int i = 0; i < dim_; ++i) b[i] = 0;
    for (int j = 0; j < dim_; ++j) {
      const double h = 1e-5 * std::max(1.0, std::fabs(x[j]));
      std::copy(x, x + 3, xp);
      std::copy(x, x + 3, xm);
      xp[j] += h;
      xm[j] -= h;
      const double dU = (potential(xp, t) - potential(xm, t)) / (2 * h);
      diffusion(xp, t, ap);
      diffusion(xm, t, am);
      for (int i = 0; i < dim_; ++i)
        b[i] += 0.5 * (ap[3 * i + j] - am[3 * i + j]) / (2 * h) - 0.5 * a[3 * i + j] * dU;
    }
  }
  bool has_stationary() const override { return has_stationary_ || (gaussian_ && law_.stable()); }
  double stationary_cell_average(const double* lo, const double* hi) const override {
    if (gaussian_) return law_.cell_average(Law::stationary, lo, hi, 0.0);
    return cell_average_gl(dim_, lo, hi, [&](const double* x) {
      scope_.set(x, 0.0);
      return stationary_.eval();
    });
  }
  AxisAverage separable_average(Law k, double t) const override {
    return gaussian_ ? law_.separable_average(k, t) : AxisAverage{};
  }
  GaussianMixture initial_mixture() const override {
    return gaussian_ ? law_.initial_mixture() : GaussianMixture{};
  }
  GaussianMixture stationary_mixture() const override {
    return gaussian_ ? law_.stationary_mixture() : GaussianMixture{};
  }
  bool linear_sde(LinearSDE* sde) const override {
    if (!gaussian_) return false;
    *sde = law_.sde();
    return true;
  }
  // User-given laws are trusted (fpflow cannot check them against the walls), and labelled; the
  // linear-Gaussian law is a free-space law, valid while the box holds it.
  Reference exact_reference(double t) const override {
    if (gaussian_) return law_.exact_reference(t, box_, bc_);
    return {true, "user exact law (-custom_exact)", -1, ""};
  }
  Reference stationary_reference() const override {
    if (gaussian_) return law_.stationary_reference(box_, bc_);
    return {true, "user stationary law (-custom_stationary)", -1, ""};
  }
  nlohmann::json parameters() const override {
    nlohmann::json j;
    const char* ax[3] = {"x", "y", "z"};
    for (int d = 0; d < dim_; ++d) j[std::string("drift_") + ax[d]] = drift_src_[d];
    for (int a = 0; a < dim_; ++a)
      for (int b = 0; b < dim_; ++b) {
        if (use_noise_) j[std::string("noise_") + ax[a] + ax[b]] = noise_src_[a][b];
        else if (b >= a) j[std::string("diffusion_") + ax[a] + (a == b ? "" : ax[b])] = diff_src_[a][b];
      }
    j["initial"] = gaussian_ ? std::string("gaussian") : initial_src_;
    if (has_exact_) j["exact"] = exact_src_;
    if (has_stationary_) j["stationary"] = stationary_src_;
    if (has_potential_) j["potential"] = potential_src_;
    // Values as evaluated; the expressions of derived ones beside them.
    for (const auto& p : scope_.parameters()) {
      j["params"][p.name] = p.value;
      char* end = nullptr;
      std::strtod(p.source.c_str(), &end);
      if (*end) j["param_expressions"][p.name] = p.source;
    }
    if (gaussian_) {
      nlohmann::json& g = j["exact_law"];
      g["kind"] = "gaussian";
      g["B"] = law_.B().a;
      g["c"] = law_.c();
      g["a"] = law_.D().a;
      g["mean0"] = law_.m0();
      g["cov0"] = law_.S0().a;
      if (law_.stable()) {
        g["stationary_mean"] = law_.stationary().mean;
        g["stationary_cov"] = law_.stationary().cov.a;
      }
    }
    return j;
  }

 private:
  // Every option is read before any is checked, so -help lists them all whatever the values.
  void read_options(MPI_Comm comm, int dim) {
    const std::string title =
        "custom problem: muParser expressions in x, y, z, t, pi, e and -custom_params; functions: " +
        expr::functions_help();
    OptionsBlock opt(comm, "custom_", title.c_str());
    params_src_ = opt.string("-params",
                             "Named parameters name=expression,... evaluated once, in order: a "
                             "value may use numbers, pi, e, functions and earlier names",
                             "");
    const char* ax[3] = {"x", "y", "z"};
    bool pot_set = false;
    potential_src_ = opt.string("-potential", "Potential U: drift b = div(a)/2 - a grad(U)/2", "",
                                &pot_set);
    has_potential_ = pot_set && !potential_src_.empty();
    bool drift_set = false;
    for (int d = 0; d < dim; ++d) {
      const std::string dn = std::string("-drift_") + ax[d];
      bool set = false;
      drift_src_[d] = opt.string(dn.c_str(), "Drift component expression", "0", &set);
      drift_set = drift_set || set;
    }
    // Either the diffusion matrix a (diagonal + upper triangle) or the noise matrix G.
    bool any_noise = false, any_diff = false;
    for (int i = 0; i < dim; ++i)
      for (int j = 0; j < dim; ++j) {
        bool set = false;
        const std::string gn = std::string("-noise_") + ax[i] + ax[j];
        noise_src_[i][j] = opt.string(gn.c_str(), "Noise matrix entry G_ij (then a = G G^T)",
                                      i == j ? "1" : "0", &set);
        any_noise = any_noise || set;
      }
    use_noise_ = any_noise;
    diagonal_ = true;
    for (int i = 0; i < dim; ++i)
      for (int j = i; j < dim; ++j) {
        bool set = false;
        const std::string an = std::string("-diffusion_") + ax[i] + (i == j ? "" : ax[j]);
        diff_src_[i][j] = opt.string(an.c_str(),
                                     i == j ? "Diffusion a_ii = (G G^T)_ii expression"
                                            : "Off-diagonal diffusion a_ij expression",
                                     i == j ? "1" : "0", &set);
        any_diff = any_diff || set;
        if (!use_noise_ && i != j && diff_src_[i][j] != "0") diagonal_ = false;
      }
    if (use_noise_)
      for (int i = 0; i < dim; ++i)
        for (int j = 0; j < dim; ++j)
          if (i != j && noise_src_[i][j] != "0") diagonal_ = false;
    bool initial_set = false;
    initial_src_ = opt.string("-initial", "Initial density expression (normalised to unit mass)",
                              "exp(-2*(x^2+y^2+z^2))", &initial_set);
    bool exact_set = false;
    exact_src_ = opt.string("-exact", "Exact density expression rho(x,y,z,t), if known", "",
                            &exact_set);
    has_exact_ = exact_set && !exact_src_.empty();
    bool stat_set = false;
    stationary_src_ = opt.string("-stationary", "Exact stationary density rho(x,y,z), if known", "",
                                 &stat_set);
    has_stationary_ = stat_set && !stationary_src_.empty();
    gaussian_ = opt.choice("-exact_law",
                           "Exact law from the coefficients: gaussian = linear drift c - B x, "
                           "constant diffusion, Gaussian start -custom_mean0, -custom_cov0",
                           {"none", "gaussian"}, "none") == "gaussian";
    bool mean_set = false, cov_set = false;
    const auto mean0 = opt.reals("-mean0", "Initial mean for -custom_exact_law gaussian (one or "
                                 "per axis)", {0.0}, 3, &mean_set);
    const auto cov0 = opt.reals("-cov0", "Initial covariance for -custom_exact_law gaussian: one "
                                "variance, one per axis, or dim x dim row by row", {0.25}, 9,
                                &cov_set);
    normalize_ = opt.flag("-normalize", "Rescale the initial data to unit mass (default: true, "
                          "false with -custom_exact_law gaussian)", !gaussian_);
    auto lo = per_axis(opt.reals("-box_lo", "Default box lower corner", {-5.0}, 3), dim,
                       "-custom_box_lo");
    auto hi = per_axis(opt.reals("-box_hi", "Default box upper corner", {5.0}, 3), dim,
                       "-custom_box_hi");
    for (int d = 0; d < 3; ++d) default_box_.lo[d] = lo[d], default_box_.hi[d] = hi[d];
    t_final_ = opt.real("-t_final", "Default final time", 1.0);

    if (drift_set && has_potential_) throw Error("give either -custom_potential or -custom_drift_*");
    if (any_diff && use_noise_)
      throw Error("give either -custom_diffusion_* or -custom_noise_*, not both");
    if (!gaussian_ && (mean_set || cov_set))
      throw Error("-custom_mean0 and -custom_cov0 set the start of -custom_exact_law gaussian; "
                  "without it, give the initial density with -custom_initial");
    if (gaussian_) {
      for (auto [given, what] : {std::pair{initial_set, "-custom_initial"},
                                 std::pair{exact_set, "-custom_exact"},
                                 std::pair{stat_set, "-custom_stationary"}})
        if (given)
          throw Error(std::string("-custom_exact_law gaussian gives the initial, exact and "
                                  "stationary laws itself: drop ") + what +
                      " (the start is N(-custom_mean0, -custom_cov0))");
      m0_ = per_axis(mean0, dim, "-custom_mean0");
      m0_.resize(dim);
      S0_ = Mat(dim);
      const std::size_t dd = std::size_t(dim) * dim;
      if (cov0.size() == dd && dim > 1) {
        S0_.a = cov0;
      } else if (cov0.size() == 1 || int(cov0.size()) == dim) {
        for (int d = 0; d < dim; ++d) S0_(d, d) = cov0[cov0.size() == 1 ? 0 : d];
      } else {
        throw Error("-custom_cov0 takes " +
                    (dim == 1 ? std::string("1 value") : "1, " + std::to_string(dim) + " or " +
                                                             std::to_string(dd) + " values") +
                    " (a variance, one per axis, or the matrix row by row), got " +
                    std::to_string(cov0.size()));
      }
      for (int i = 0; i < dim; ++i)
        for (int j = 0; j < i; ++j)
          if (S0_(i, j) != S0_(j, i)) throw Error("-custom_cov0 is not symmetric");
      make_gaussian_law(m0_, S0_, "-custom_cov0");  // refuses a covariance that is not SPD
    }
  }

  // -custom_exact_law gaussian: reads B, c and a off the compiled coefficients and checks that
  // they are what the law assumes (b affine, a constant) at points spread over and beyond the
  // default box; refuses otherwise.
  void setup_linear_law() {
    const std::string who = "-custom_exact_law gaussian";
    if (time_dep_) throw Error(who + " needs coefficients that do not depend on t");
    const int n = dim_;
    double x0[3] = {0, 0, 0}, b0[3], a0[9];
    drift(x0, 0.0, b0);
    diffusion(x0, 0.0, a0);
    Mat B(n), D(n);
    std::vector<double> c(b0, b0 + n);
    for (double& v : c) v += 0.0;  // -0 (from -(B*0)) reads oddly in the summary
    for (int j = 0; j < n; ++j) {
      double e[3] = {0, 0, 0}, bj[3];
      e[j] = 1;
      drift(e, 0.0, bj);
      for (int i = 0; i < n; ++i) B(i, j) = b0[i] - bj[i];
    }
    double dmax = 0;
    for (int i = 0; i < n; ++i)
      for (int j = 0; j < n; ++j) D(i, j) = a0[3 * i + j], dmax = std::max(dmax, std::fabs(D(i, j)));
    // Round-off of an affine expression is a few ulps; a potential's drift comes from central
    // differences (gradient_drift), whose round-off is ~1e-11 relative: 1e-10 covers both.
    const double tol = 1e-10;
    for (const auto& p : check_points()) {
      double b[3], a[9];
      drift(p.data(), 0.0, b);
      diffusion(p.data(), 0.0, a);
      for (int i = 0; i < n; ++i) {
        double fit = c[i], scale = std::fabs(c[i]) + std::fabs(b[i]);
        for (int j = 0; j < n; ++j) fit -= B(i, j) * p[j], scale += std::fabs(B(i, j) * p[j]);
        if (!(std::fabs(b[i] - fit) <= tol * scale))
          throw Error(who + " needs an affine drift b = c - B x: at x = " + point(p.data(), n) +
                      " the drift component " + "xyz"[i] + " is " + num(b[i]) +
                      ", the affine fit through 0 and the unit points gives " + num(fit));
      }
      for (int i = 0; i < n; ++i)
        for (int j = 0; j < n; ++j)
          if (!(std::fabs(a[3 * i + j] - D(i, j)) <= 1e-12 * dmax))
            throw Error(who + " needs a constant diffusion matrix: a_" + "xyz"[i] + "xyz"[j] +
                        " is " + num(a[3 * i + j]) + " at x = " + point(p.data(), n) + " but " +
                        num(D(i, j)) + " at 0");
    }
    law_.set(B, c, D, m0_, S0_, who);
  }

  // The default box's corners, three points inside it in general position, and the corners of
  // the box three times as large (a coefficient that is affine only on part of space is refused).
  std::vector<std::array<double, 3>> check_points() const {
    static const double frac[3][3] = {
        {0.137, 0.712, 0.389}, {0.853, 0.264, 0.598}, {0.471, 0.926, 0.053}};
    std::vector<std::array<double, 3>> pts;
    for (double scale : {1.0, 3.0})
      for (int k = 0; k < (1 << dim_); ++k) {
        std::array<double, 3> p{0, 0, 0};
        for (int d = 0; d < dim_; ++d) {
          const double mid = 0.5 * (default_box_.lo[d] + default_box_.hi[d]), half = 0.5 * (default_box_.hi[d] - default_box_.lo[d]);
          p[d] = mid + ((k >> d) & 1 ? scale : -scale) * half;
        }
        pts.push_back(p);
      }
    for (const auto& f : frac) {
      std::array<double, 3> p{0, 0, 0};
      for (int d = 0; d < dim_; ++d) p[d] = default_box_.lo[d] + f[d] * (default_box_.hi[d] - default_box_.lo[d]);
      pts.push_back(p);
    }
    return pts;
  }

  // Expressions read the point from scope_; evaluation is not thread-safe (expression.hpp).
  expr::Scope scope_{"-custom_params"};
  expr::Expression drift_[3], diff_[3][3], noise_[3][3], initial_, exact_, stationary_, potential_;
  std::string params_src_, drift_src_[3], diff_src_[3][3], noise_src_[3][3], initial_src_,
      exact_src_, stationary_src_, potential_src_;
  bool has_exact_ = false, has_stationary_ = false, has_potential_ = false;
  bool use_noise_ = false, diagonal_ = true, normalize_ = true, time_dep_ = false;
  bool gaussian_ = false;
  std::vector<double> m0_;
  Mat S0_;
  LinearGaussian law_;
  Box default_box_;
  double t_final_ = 1.0;
};

}  // namespace

std::unique_ptr<Problem> make_custom_problem() { return std::make_unique<Custom>(); }

}  // namespace fpflow
