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
//   -custom_params             named constants, e.g. -custom_params theta=1,sigma=0.5
//   -custom_box_lo/-custom_box_hi, -custom_t_final  defaults for the box and final time
// All of these can live in an options file (-options_file my_problem.opts). Expressions are
// parsed at set-up: a syntax error or an unknown name is reported with the option and the text.
// A coefficient that uses t is re-evaluated at every stage time.
#include "core/options.hpp"
#include "problems/problem.hpp"

#include <muParser.h>

#include <algorithm>
#include <array>
#include <cmath>

namespace fpflow {
namespace {

class Custom : public Problem {
 public:
  std::string name() const override { return "custom"; }
  std::string description() const override {
    return "user-defined drift, diffusion and initial density (muParser expressions)";
  }

  void configure(MPI_Comm comm, int dim) override {
    dim_ = dim;
    OptionsBlock opt(comm, "custom_", "custom problem: expressions in x, y, z, t and -custom_params");
    for (const auto& p : opt.strings("-params", "Named constants name=value,... for expressions",
                                     {}, 64)) {
      const auto eq = p.find('=');
      if (eq == std::string::npos || eq == 0)
        throw Error("-custom_params: '" + p + "' is not of the form name=value");
      char* end = nullptr;
      const std::string val = p.substr(eq + 1);
      const double v = std::strtod(val.c_str(), &end);
      if (val.empty() || *end) throw Error("-custom_params: '" + val + "' is not a number");
      params_.emplace_back(p.substr(0, eq), v);
    }
    const char* ax[3] = {"x", "y", "z"};
    bool pot_set = false;
    potential_src_ = opt.string("-potential", "Potential U: drift b = div(a)/2 - a grad(U)/2", "",
                                &pot_set);
    has_potential_ = pot_set && !potential_src_.empty();
    if (has_potential_) setup(potential_, "-custom_potential", potential_src_);
    for (int d = 0; d < dim; ++d) {
      const std::string dn = std::string("-drift_") + ax[d];
      bool set = false;
      drift_src_[d] = opt.string(dn.c_str(), "Drift component expression", "0", &set);
      if (set && has_potential_) throw Error("give either -custom_potential or -custom_drift_*");
      setup(drift_[d], "-custom_drift_" + std::string(ax[d]), drift_src_[d]);
    }
    // Either the diffusion matrix a (diagonal + upper triangle) or the noise matrix G.
    bool any_noise = false;
    for (int i = 0; i < dim; ++i)
      for (int j = 0; j < dim; ++j) {
        bool set = false;
        const std::string gn = std::string("-noise_") + ax[i] + ax[j];
        noise_src_[i][j] = opt.string(gn.c_str(), "Noise matrix entry G_ij (then a = G G^T)",
                                      i == j ? "1" : "0", &set);
        any_noise = any_noise || set;
      }
    use_noise_ = any_noise;
    for (int i = 0; i < dim; ++i)
      for (int j = i; j < dim; ++j) {
        bool set = false;
        const std::string an = std::string("-diffusion_") + ax[i] + (i == j ? "" : ax[j]);
        diff_src_[i][j] = opt.string(an.c_str(),
                                     i == j ? "Diffusion a_ii = (G G^T)_ii expression"
                                            : "Off-diagonal diffusion a_ij expression",
                                     i == j ? "1" : "0", &set);
        if (set && use_noise_)
          throw Error("give either -custom_diffusion_* or -custom_noise_*, not both");
        if (i != j && diff_src_[i][j] != "0") diagonal_ = false;
      }
    if (use_noise_) {
      for (int i = 0; i < dim; ++i)
        for (int j = 0; j < dim; ++j) {
          setup(noise_[i][j], std::string("-custom_noise_") + ax[i] + ax[j], noise_src_[i][j]);
          if (i != j && noise_src_[i][j] != "0") diagonal_ = false;
        }
    } else {
      for (int i = 0; i < dim; ++i)
        for (int j = i; j < dim; ++j)
          setup(diff_[i][j], std::string("-custom_diffusion_") + ax[i] + (i == j ? "" : ax[j]),
                diff_src_[i][j]);
    }
    initial_src_ = opt.string("-initial", "Initial density expression (normalised to unit mass)",
                              "exp(-2*(x^2+y^2+z^2))");
    setup(initial_, "-custom_initial", initial_src_);
    bool exact_set = false;
    exact_src_ = opt.string("-exact", "Exact density expression rho(x,y,z,t), if known", "",
                            &exact_set);
    has_exact_ = exact_set && !exact_src_.empty();
    if (has_exact_) setup(exact_, "-custom_exact", exact_src_);
    bool stat_set = false;
    stationary_src_ = opt.string("-stationary", "Exact stationary density rho(x,y,z), if known", "",
                                 &stat_set);
    has_stationary_ = stat_set && !stationary_src_.empty();
    if (has_stationary_) setup(stationary_, "-custom_stationary", stationary_src_);
    normalize_ = opt.flag("-normalize", "Rescale the initial data to unit mass", true);
    auto lo = per_axis(opt.reals("-box_lo", "Default box lower corner", {-5.0}, 3), dim,
                       "-custom_box_lo");
    auto hi = per_axis(opt.reals("-box_hi", "Default box upper corner", {5.0}, 3), dim,
                       "-custom_box_hi");
    for (int d = 0; d < 3; ++d) box_.lo[d] = lo[d], box_.hi[d] = hi[d];
    t_final_ = opt.real("-t_final", "Default final time", 1.0);
    time_dep_ = false;
    time_dep_ = has_potential_ && uses_t(potential_);
    for (int i = 0; i < dim; ++i) {
      time_dep_ = time_dep_ || uses_t(drift_[i]);
      for (int j = 0; j < dim; ++j)
        time_dep_ = time_dep_ || (use_noise_ ? uses_t(noise_[i][j]) : j >= i && uses_t(diff_[i][j]));
    }
  }

  Box default_box() const override { return box_; }
  double default_t_final() const override { return t_final_; }

  void drift(const double* x, double t, double* b) const override {
    if (has_potential_) return gradient_drift(x, t, b);
    set(x, t);
    for (int d = 0; d < dim_; ++d) b[d] = drift_[d].Eval();
  }
  bool has_potential() const override { return has_potential_; }
  double potential(const double* x, double t) const override {
    set(x, t);
    return potential_.Eval();
  }
  void diffusion(const double* x, double t, double* a) const override {
    set(x, t);
    for (int i = 0; i < 9; ++i) a[i] = 0;
    if (use_noise_) {
      double G[3][3] = {};
      for (int i = 0; i < dim_; ++i)
        for (int j = 0; j < dim_; ++j) G[i][j] = noise_[i][j].Eval();
      for (int i = 0; i < dim_; ++i)
        for (int j = 0; j < dim_; ++j)
          for (int k = 0; k < dim_; ++k) a[3 * i + j] += G[i][k] * G[j][k];
      return;
    }
    for (int i = 0; i < dim_; ++i)
      for (int j = i; j < dim_; ++j) a[3 * i + j] = a[3 * j + i] = diff_[i][j].Eval();
  }
  bool diagonal_diffusion() const override { return diagonal_; }
  bool time_dependent() const override { return time_dep_; }

  double initial_density(const double* x) const override {
    set(x, 0.0);
    return initial_.Eval();
  }
  bool normalize_initial() const override { return normalize_; }
  bool has_exact() const override { return has_exact_; }
  double exact_cell_average(const double* lo, const double* hi, double t) const override {
    return cell_average_gl(dim_, lo, hi, [&](const double* x) {
      set(x, t);
      return exact_.Eval();
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
  bool has_stationary() const override { return has_stationary_; }
  double stationary_cell_average(const double* lo, const double* hi) const override {
    return cell_average_gl(dim_, lo, hi, [&](const double* x) {
      set(x, 0.0);
      return stationary_.Eval();
    });
  }
  // User-given laws are trusted (fpflow cannot check them against the walls), and labelled.
  Reference exact_reference(double) const override {
    return {true, "user exact law (-custom_exact)", -1, ""};
  }
  Reference stationary_reference() const override {
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
    j["initial"] = initial_src_;
    if (has_exact_) j["exact"] = exact_src_;
    if (has_stationary_) j["stationary"] = stationary_src_;
    if (has_potential_) j["potential"] = potential_src_;
    for (const auto& [n, v] : params_) j["params"][n] = v;
    return j;
  }

 private:
  void setup(mu::Parser& p, const std::string& option, const std::string& expr) {
    try {
      p.DefineVar("x", &var_[0]);
      p.DefineVar("y", &var_[1]);
      p.DefineVar("z", &var_[2]);
      p.DefineVar("t", &var_[3]);
      p.DefineConst("pi", M_PI);
      for (const auto& [n, v] : params_) p.DefineConst(n, v);
      p.SetExpr(expr);
      p.Eval();  // parses now, so errors surface at set-up rather than mid-run
    } catch (const mu::Parser::exception_type& e) {
      std::string hint;
      if (expr.empty())
        hint = " (PETSc reads a value starting with '-' as the next option: write (-x) or 0-x)";
      throw Error(option + " '" + expr + "': " + e.GetMsg() + hint);
    }
  }
  static bool uses_t(const mu::Parser& p) { return p.GetUsedVar().count("t") > 0; }
  void set(const double* x, double t) const {
    var_[0] = x[0], var_[1] = x[1], var_[2] = x[2], var_[3] = t;
  }

  // muParser evaluates through pointers to these; Eval is logically const.
  mutable std::array<double, 4> var_{};
  mutable mu::Parser drift_[3], diff_[3][3], noise_[3][3], initial_, exact_, stationary_;
  mutable mu::Parser potential_;
  std::string stationary_src_, potential_src_;
  bool has_stationary_ = false, has_potential_ = false;
  std::string drift_src_[3], diff_src_[3][3], noise_src_[3][3], initial_src_, exact_src_;
  bool use_noise_ = false, diagonal_ = true;
  std::vector<std::pair<std::string, double>> params_;
  bool has_exact_ = false, normalize_ = true, time_dep_ = false;
  Box box_;
  double t_final_ = 1.0;
};

}  // namespace

std::unique_ptr<Problem> make_custom_problem() { return std::make_unique<Custom>(); }

}  // namespace fpflow
