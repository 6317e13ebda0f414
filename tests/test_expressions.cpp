// tests/test_expressions.cpp — run-time expressions of the custom problem (issue 13, defect 7),
// through the options a user gives (run at 1 and 2 ranks):
//  * option values of any length are read whole (PETSc cut them at 4095 characters), and lists
//    longer than an option takes are refused instead of cut;
//  * parameter names that would shadow x, y, z, t, a constant or a function are refused, as are
//    malformed and duplicate names; derived parameters are evaluated in order;
//  * the added functions (erf, gamma, Bessel, ...) equal the C++ library's;
//  * unknown functions and names, assignments and several results get their own messages;
//  * -custom_exact_law gaussian gives the matrix-OU law: the same cells and error norms as
//    -problem ou on the same SDE, an offset c handled, non-linear coefficients refused.
#define BOOST_TEST_MODULE expressions
#include "common.hpp"

#include "problems/problem.hpp"

#include <cmath>
#include <memory>
#include <sstream>

using namespace fpflow;
using namespace fpflow::test;

BOOST_TEST_GLOBAL_FIXTURE(PetscFixture);

namespace {

std::unique_ptr<Problem> configured(const std::string& problem, const std::string& args,
                                    int dim) {
  register_builtin_problems();
  ScopedOptions opts(args);
  auto p = make_problem(problem);
  p->configure(world(), dim);
  return p;
}

std::unique_ptr<Problem> custom(const std::string& args, int dim = 1) {
  return configured("custom", args, dim);
}

// The message configure() refuses `args` with ("" if it accepts them).
std::string refusal(const std::string& args, int dim = 1) {
  try {
    custom(args, dim);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

double drift_at(const Problem& p, double x, double y = 0, double z = 0) {
  const double pt[3] = {x, y, z};
  double b[3] = {0, 0, 0};
  p.drift(pt, 0.0, b);
  return b[0];
}

// "0+1+1+...+1" with n ones: its value is n, and cut after 4095 characters it is still a valid
// expression (of value 2047), so a cut would pass silently.
std::string long_sum(int n) {
  std::string s = "0";
  for (int i = 0; i < n; ++i) s += "+1";
  return s;
}

}  // namespace

BOOST_AUTO_TEST_CASE(long_values_are_read_whole) {
  // An expression of 6001 characters.
  auto p = custom("-custom_drift_x " + long_sum(3000));
  BOOST_TEST(drift_at(*p, 0.3) == 3000.0);
  BOOST_TEST(p->parameters()["drift_x"].get<std::string>().size() == 6001u);
  // A parameter list longer than 4095 characters.
  auto q = custom("-custom_params a=" + long_sum(2500) + ",b=a/2 -custom_drift_x b");
  BOOST_TEST(drift_at(*q, 0.0) == 1250.0);
  // Any string option, not only expressions.
  {
    const std::string v(9000, 'q');
    ScopedOptions opts("-fptest_name " + v);
    OptionsBlock opt(world(), "fptest_", "test");
    BOOST_TEST(opt.string("-name", "a long value", "") == v);
  }
  // Over muParser's own limit: refused with the limit named, never cut.
  const std::string msg = refusal("-custom_drift_x " + long_sum(10500));
  BOOST_TEST(msg.find("-custom_drift_x") != std::string::npos, msg);
  BOOST_TEST(msg.find("limit of 20000 characters") != std::string::npos, msg);
  BOOST_TEST(msg.size() < 400u, "a long expression is shown in part: " << msg.size());
}

BOOST_AUTO_TEST_CASE(lists_longer_than_an_option_takes_are_refused) {
  ScopedOptions opts("-fptest_r 1,2,3,4 -fptest_s a,b,c,d");
  OptionsBlock opt(world(), "fptest_", "test");
  BOOST_CHECK_EXCEPTION(opt.reals("-r", "reals", {}, 3), Error, [](const Error& e) {
    return std::string(e.what()).find("-fptest_r takes at most 3") != std::string::npos;
  });
  BOOST_CHECK_EXCEPTION(opt.strings("-s", "strings", {}, 3), Error, [](const Error& e) {
    return std::string(e.what()).find("-fptest_s takes at most 3") != std::string::npos;
  });
  BOOST_TEST(opt.reals("-r", "reals", {}, 4).size() == 4u);
}

BOOST_AUTO_TEST_CASE(parameter_names_that_shadow_are_refused) {
  for (const char* name : {"x", "y", "z", "t", "pi", "e", "_pi", "_e", "erf", "gamma", "sin",
                           "min", "besseli", "heaviside", "ln"}) {
    const std::string msg = refusal(std::string("-custom_params ") + name + "=1");
    BOOST_TEST(msg.find(std::string("parameter '") + name + "' would shadow") != std::string::npos,
               name << ": " << msg);
  }
  for (const char* bad : {"1a=2", "a-b=2", "a.b=1", "=3"}) {
    const std::string msg = refusal(std::string("-custom_params ") + bad);
    BOOST_TEST(!msg.empty(), bad);
    BOOST_TEST(msg.find("-custom_params") != std::string::npos, bad << ": " << msg);
  }
  BOOST_TEST(refusal("-custom_params a=1,b=2,a=3").find("'a' is defined twice") !=
             std::string::npos);
  BOOST_TEST(refusal("-custom_params a=1,,b=2").find("empty entry") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(derived_parameters_are_evaluated_in_order) {
  auto p = custom("-custom_params B=2,a=exp(-B/2),s2=1-a^2,m=min(a,s2) -custom_drift_x (-B*x)*s2");
  const auto j = p->parameters();
  const double a = std::exp(-1.0);
  BOOST_TEST(j["params"]["B"].get<double>() == 2.0);
  BOOST_TEST(j["params"]["a"].get<double>() == a);
  BOOST_TEST(j["params"]["s2"].get<double>() == 1 - a * a, boost::test_tools::tolerance(1e-15));
  BOOST_TEST(j["params"]["m"].get<double>() == a);
  BOOST_TEST(j["param_expressions"]["a"].get<std::string>() == "exp(-B/2)");
  BOOST_TEST(drift_at(*p, 0.5) == -2 * 0.5 * (1 - a * a), boost::test_tools::tolerance(1e-15));
  // A value may use only earlier names, never the coordinates, and must be finite.
  std::string msg = refusal("-custom_params a=2*c,c=1");
  BOOST_TEST(msg.find("'c' is defined after 'a'") != std::string::npos, msg);
  msg = refusal("-custom_params a=2*q");
  BOOST_TEST(msg.find("unknown name 'q'") != std::string::npos, msg);
  msg = refusal("-custom_params a=x+1");
  BOOST_TEST(msg.find("cannot use the coordinate x") != std::string::npos, msg);
  msg = refusal("-custom_params a=1,b=log(a-1)");
  BOOST_TEST(msg.find("finite") != std::string::npos, msg);
  BOOST_TEST(msg.find("b =") != std::string::npos, msg);
  msg = refusal("-custom_params a=0/0");
  BOOST_TEST(msg.find("finite") != std::string::npos, msg);
}

BOOST_AUTO_TEST_CASE(added_functions_equal_the_library) {
  struct Case {
    const char* expr;
    double (*f)(double);
  };
  const Case cases[] = {
      {"erf(x)", [](double v) { return std::erf(v); }},
      {"erfc(x)", [](double v) { return std::erfc(v); }},
      {"normcdf(x)", [](double v) { return 0.5 * std::erfc(-v / std::sqrt(2.0)); }},
      {"gamma(x)", [](double v) { return std::tgamma(v); }},
      {"lgamma(x)", [](double v) { return std::lgamma(v); }},
      {"expm1(x)", [](double v) { return std::expm1(v); }},
      {"log1p(x)", [](double v) { return std::log1p(v); }},
      {"cbrt(x)", [](double v) { return std::cbrt(v); }},
      {"floor(x)", [](double v) { return std::floor(v); }},
      {"ceil(x)", [](double v) { return std::ceil(v); }},
      {"heaviside(x)", [](double v) { return v < 0 ? 0.0 : 1.0; }},
      {"pow(x,2.5)", [](double v) { return std::pow(v, 2.5); }},
      {"hypot(x,3)", [](double v) { return std::hypot(v, 3.0); }},
      {"fmod(x,0.7)", [](double v) { return std::fmod(v, 0.7); }},
      {"besselj(1.5,abs(x))", [](double v) { return std::cyl_bessel_j(1.5, std::fabs(v)); }},
      {"besseli(0,abs(x))", [](double v) { return std::cyl_bessel_i(0.0, std::fabs(v)); }},
      {"besselk(2,abs(x)+0.1)", [](double v) { return std::cyl_bessel_k(2.0, std::fabs(v) + 0.1); }},
      {"atan2(x,2)", [](double v) { return std::atan2(v, 2.0); }},  // muParser's own
  };
  for (const auto& c : cases) {
    auto p = custom(std::string("-custom_drift_x ") + c.expr);
    for (double x : {-2.75, -1.0, -1e-9, 0.0, 0.3, 1.0, 2.5, 4.2}) {
      const double want = c.f(x), got = drift_at(*p, x);
      BOOST_TEST((got == want || (std::isnan(got) && std::isnan(want)) ||
                  std::fabs(got - want) <= 1e-15 * std::fabs(want)),
                 c.expr << " at " << x << ": " << got << " vs " << want);
    }
  }
  // pi and e are defined; log is the natural logarithm.
  auto p = custom("-custom_drift_x e^x+pi+log(e)");
  BOOST_TEST(drift_at(*p, 1.0) == std::pow(M_E, 1.0) + M_PI + 1.0, boost::test_tools::tolerance(1e-15));
  // Outside their domain, Bessel functions give NaN (reported by the coefficient checks).
  auto q = custom("-custom_drift_x besseli(1,x)");
  BOOST_TEST(std::isnan(drift_at(*q, -1.0)));
}

BOOST_AUTO_TEST_CASE(unknown_functions_and_names_are_named) {
  struct Case {
    std::string args, want;
  };
  const Case cases[] = {
      {"-custom_drift_x 2*erff(x)", "-custom_drift_x '2*erff(x)': unknown function 'erff'"},
      {"-custom_drift_y foo*y", "-custom_drift_y 'foo*y': unknown name 'foo'"},
      {"-custom_drift_y foo*y", "-custom_params foo="},
      {"-custom_initial sin", "function 'sin' needs its argument"},
      {"-custom_drift_x x=3", "'=' assigns"},
      {"-custom_drift_x x==3", ""},
      {"-custom_drift_x x<=3", ""},
      {"-custom_drift_x 1,2", "one is expected"},
      {"-custom_drift_x 2x", "a product is written 2*x"},
      {"-custom_drift_x x+*2", "-custom_drift_x 'x+*2': Unexpected operator"},
      {"-custom_exact erf(x)*q(t)", "-custom_exact 'erf(x)*q(t)': unknown function 'q'"},
  };
  for (const auto& c : cases) {
    const std::string msg = refusal(c.args, 2);
    if (c.want.empty()) {
      BOOST_TEST(msg.empty(), c.args << " is accepted: " << msg);
      continue;
    }
    BOOST_TEST(msg.find(c.want) != std::string::npos, c.args << ": " << msg);
    BOOST_TEST(msg.find('\n') == std::string::npos, "one line: " << msg);
  }
}

// -custom_exact_law gaussian on the SDE of an ou problem: the same law, cell by cell, and whole
// runs with the same error norms.
BOOST_AUTO_TEST_CASE(gaussian_exact_law_equals_ou) {
  struct Case {
    int dim;
    std::string ou, custom;
  };
  const Case cases[] = {
      {1, "-ou_theta 1.5 -ou_sigma 0.8 -ou_mean0 1 -ou_var0 0.2",
       "-custom_drift_x (-1.5*x) -custom_noise_xx 0.8 -custom_mean0 1 -custom_cov0 0.2"},
      {2, "-ou_B 1,0.5,-0.3,1.2 -ou_G 1,0,0.3,0.8 -ou_mean0 1,-0.5 -ou_var0 0.2,0.3",
       "-custom_drift_x (-(x+0.5*y)) -custom_drift_y 0.3*x-1.2*y -custom_noise_xx 1 "
       "-custom_noise_yx 0.3 -custom_noise_yy 0.8 -custom_mean0 1,-0.5 -custom_cov0 0.2,0.3"},
      // theta = 0 on one axis: no stationary law.
      {2, "-ou_theta 0,1 -ou_sigma 1 -ou_mean0 0.5,0 -ou_var0 0.3",
       "-custom_drift_y (-y) -custom_mean0 0.5,0 -custom_cov0 0.3"},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT("dim " << c.dim << ": " << c.custom) {
      auto ou = configured("ou", c.ou, c.dim);
      auto cu = custom(c.custom + " -custom_exact_law gaussian", c.dim);
      BOOST_TEST(cu->has_exact());
      BOOST_TEST(!cu->normalize_initial());
      BOOST_TEST(cu->has_stationary() == ou->has_stationary());
      LinearSDE a, b;
      BOOST_REQUIRE(ou->linear_sde(&a));
      BOOST_REQUIRE(cu->linear_sde(&b));
      BOOST_REQUIRE(b.B.size() == a.B.size() && b.a.size() == a.a.size());
      for (std::size_t k = 0; k < a.B.size(); ++k) BOOST_TEST(b.B[k] == a.B[k]);
      for (std::size_t k = 0; k < a.a.size(); ++k) BOOST_TEST(b.a[k] == a.a[k]);
      for (double t : {0.0, 0.25, 1.0, 3.0})
        for (double x : {-1.3, 0.2, 1.1}) {
          const double lo[3] = {x, x - 0.4, 0}, hi[3] = {x + 0.15, x - 0.2, 0};
          BOOST_TEST(cu->exact_cell_average(lo, hi, t) == ou->exact_cell_average(lo, hi, t));
          if (ou->has_stationary())
            BOOST_TEST(cu->stationary_cell_average(lo, hi) == ou->stationary_cell_average(lo, hi));
        }
      // Whole runs: same grid, same steps, same error norms.
      const std::string grid = c.dim == 1 ? " -da_grid_x 120 -box_lo -4 -box_hi 5"
                                          : " -da_grid_x 40 -da_grid_y 36 -box_lo -4 -box_hi 4";
      const std::string common = " -dim " + std::to_string(c.dim) + grid + " -ts_max_time 0.5";
      const auto so = run("-problem ou " + c.ou + common + quiet("law-ou"));
      const auto sc = run("-problem custom -custom_exact_law gaussian " + c.custom + common +
                          quiet("law-custom"));
      BOOST_TEST(sc["steps"].get<int>() == so["steps"].get<int>());
      // (Where the box truncates the free-space law both report it as reference_error.)
      const std::string key = so.contains("error") ? "error" : "reference_error";
      BOOST_REQUIRE(sc.contains(key));
      for (const char* n : {"L1", "L2", "Linf"})
        BOOST_TEST(std::fabs(sc[key][n].get<double>() - so[key][n].get<double>()) <=
                       1e-12 * so[key][n].get<double>(),
                   n << ": " << sc[key][n].get<double>() << " vs " << so[key][n].get<double>());
    }
  }
}

// With an offset, b = c - B x is an OU process about m = B^{-1} c: the law of the custom problem
// is the ou law shifted by m.
BOOST_AUTO_TEST_CASE(gaussian_exact_law_with_offset_is_shifted_ou) {
  auto cu = custom("-custom_exact_law gaussian -custom_drift_x 2-1.5*x -custom_drift_y 1-0.5*y"
                   " -custom_diffusion_x 0.5 -custom_mean0 -1,0.5 -custom_cov0 0.1,0.2", 2);
  const double m[2] = {2 / 1.5, 1 / 0.5};
  std::ostringstream ou_args;
  ou_args.precision(17);
  ou_args << "-ou_theta 1.5,0.5 -ou_sigma " << std::sqrt(0.5) << ",1 -ou_var0 0.1,0.2 -ou_mean0 "
          << -1 - m[0] << "," << 0.5 - m[1];
  auto ou = configured("ou", ou_args.str(), 2);
  BOOST_REQUIRE(cu->parameters().contains("exact_law"));
  const auto j = cu->parameters()["exact_law"];
  BOOST_TEST(j["c"][0].get<double>() == 2.0);
  BOOST_TEST(j["stationary_mean"][0].get<double>() == m[0], boost::test_tools::tolerance(1e-14));
  BOOST_TEST(j["stationary_mean"][1].get<double>() == m[1], boost::test_tools::tolerance(1e-14));
  BOOST_TEST(cu->has_stationary());
  for (double t : {0.0, 0.1, 0.7, 2.0}) {
    const double lo[3] = {-0.5, 1.0, 0}, hi[3] = {-0.3, 1.25, 0};
    const double slo[3] = {lo[0] - m[0], lo[1] - m[1], 0}, shi[3] = {hi[0] - m[0], hi[1] - m[1], 0};
    BOOST_TEST(cu->exact_cell_average(lo, hi, t) == ou->exact_cell_average(slo, shi, t),
               boost::test_tools::tolerance(1e-12));
  }
  const double lo[3] = {1.0, 1.5, 0}, hi[3] = {1.2, 1.75, 0};
  const double slo[3] = {lo[0] - m[0], lo[1] - m[1], 0}, shi[3] = {hi[0] - m[0], hi[1] - m[1], 0};
  BOOST_TEST(cu->stationary_cell_average(lo, hi) == ou->stationary_cell_average(slo, shi),
             boost::test_tools::tolerance(1e-12));
}

BOOST_AUTO_TEST_CASE(gaussian_exact_law_refuses_what_it_does_not_cover) {
  struct Case {
    std::string args, want;
  };
  const Case cases[] = {
      {"-custom_drift_x x-0.01*x^3", "needs an affine drift"},
      {"-custom_drift_x abs(x)", "needs an affine drift"},
      {"-custom_drift_x (-x) -custom_diffusion_x 1+0.1*x^2", "needs a constant diffusion matrix"},
      {"-custom_drift_x (-x)*(1+t)", "do not depend on t"},
      {"-custom_initial exp(-x^2)", "drop -custom_initial"},
      {"-custom_exact exp(-x^2)", "drop -custom_exact"},
      {"-custom_cov0 -1", "-custom_cov0: covariance is not positive definite"},
      {"-custom_cov0 1,2", "-custom_cov0 takes 1 value"},
  };
  for (const auto& c : cases) {
    const std::string msg = refusal("-custom_exact_law gaussian " + c.args);
    BOOST_TEST(msg.find(c.want) != std::string::npos, c.args << ": " << msg);
  }
  BOOST_TEST(refusal("-custom_exact_law gaussian -custom_cov0 1,0.5,0.4,1", 2).find("symmetric") !=
             std::string::npos);
  BOOST_TEST(refusal("-custom_mean0 1").find("-custom_exact_law gaussian") != std::string::npos);
}
