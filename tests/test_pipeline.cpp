// tests/test_pipeline.cpp — the run pipeline's pieces (issue 14): every compatibility rule
// fires with its own message; observers see every accepted state; a process runs a forward
// Fokker-Planck solve and then the adjoint (backward Kolmogorov) solve on the same grid, and the
// two are exactly dual: <u(0), rho(0)> = <g, rho(T)> to 1e-12. Runs at 1 and 2 ranks.
#define BOOST_TEST_MODULE pipeline
#include "common.hpp"

#include "apps/run_builder.hpp"
#include "solvers/backward_kolmogorov.hpp"

#include <cmath>

using namespace fpflow;
using namespace fpflow::test;

BOOST_TEST_GLOBAL_FIXTURE(PetscFixture);

namespace {

// The configuration `args` reads (the rule check disabled by -help, then applied here).
std::string rule_error(const std::string& args) {
  ScopedOptions opts(args);
  try {
    const ProblemChoice choice = read_problem_choice(world());
    auto problem = build_problem(world(), choice);
    read_run_config(world(), choice, *problem);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// g(x) = a smooth function of the cell centres that is not constant along any axis.
void fill_terminal(const Grid& g, Vec u) {
  VecArray a(u);
  PetscInt k = 0;
  g.for_each_owned([&](const std::array<PetscInt, 3>& c) {
    double v = 1;
    for (int d = 0; d < g.dim(); ++d) v += std::sin(1.3 * g.centre(d, c[d]) + 0.4 * d);
    a[k++] = v;
  });
}

struct Duality {
  double forward = 0, backward = 0;  // <g, rho(T)> and <u(0), rho(0)>
  PetscInt steps = 0;
};

// Forward solve of `args` keeping rho(0), then the adjoint solve from g at T on the same grid.
Duality forward_then_adjoint(const std::string& args, const std::string& adjoint_args = "") {
  ScopedOptions opts(args + adjoint_args + quiet("pipeline"));
  Simulation sim(world());
  VecH rho0, u;
  FP_CHECK(VecDuplicate(sim.solution(), rho0.out()));
  FP_CHECK(VecCopy(sim.solution(), rho0));
  SnapshotStore store;  // every accepted state: the forward times
  sim.attach(store);
  const RunSummary s = sim.run();
  BOOST_REQUIRE(s.ok());
  BackwardOptions bo{s.t_final(), 0, {}};
  for (std::size_t i = 0; i < store.size(); ++i) bo.forward_times.push_back(store.time(i));
  FP_CHECK(VecDuplicate(rho0, u.out()));
  fill_terminal(sim.grid(), u);
  Duality d;
  FP_CHECK(VecDot(u, sim.solution(), &d.forward));
  BackwardKolmogorov adjoint(sim.op(), bo);
  adjoint.solve(u);
  FP_CHECK(VecDot(u, rho0, &d.backward));
  d.steps = adjoint.steps();
  BOOST_TEST(d.steps == s.steps->steps);
  return d;
}

}  // namespace

BOOST_AUTO_TEST_CASE(every_compatibility_rule_fires_with_its_message) {
  // One configuration per rule that breaks it (and no earlier one).
  const std::map<std::string, std::string> breaking = {
      {"steady-absorbing", "-problem heat -dim 2 -bc absorbing -steady"},
      {"steady-scheme", "-problem ou -dim 2 -fp_scheme muscl -steady"},
      {"pflow-explicit", "-problem ou -dim 2 -fp_scheme pflow -ts_type beuler"},
      {"pflow-diagonal", "-problem ou -dim 2 -ou_G 1,0.5,0,1 -fp_scheme pflow"},
      {"pflow-absorbing", "-problem heat -dim 1 -bc absorbing -fp_scheme pflow"},
      {"mg-1d", "-problem ou -dim 1 -ts_type beuler -pc_type mg"},
  };
  BOOST_TEST(breaking.size() == compatibility_rules().size());
  for (const auto& rule : compatibility_rules()) {
    BOOST_TEST_CONTEXT(rule.name) {
      BOOST_REQUIRE(breaking.count(rule.name));
      const std::string got = rule_error(breaking.at(rule.name) + quiet("rules"));
      BOOST_TEST(!got.empty());
      // The message is the rule's own (the first rule the configuration breaks).
      bool own = false;
      for (const auto& r : compatibility_rules())
        if (r.name == std::string(rule.name)) own = got.find(r.message(RunConfig{}).substr(0, 30)) == 0;
      BOOST_TEST(own, got);
    }
  }
  // The same choices without the conflict are accepted.
  BOOST_TEST(rule_error("-problem heat -dim 2 -bc reflecting -steady" + quiet("rules")).empty());
  BOOST_TEST(rule_error("-problem ou -dim 2 -fp_scheme pflow -ts_type rk" + quiet("rules")).empty());
}

BOOST_AUTO_TEST_CASE(observers_see_every_accepted_state) {
  ScopedOptions opts("-problem ou -dim 2 -da_grid_x 16 -da_grid_y 16 -ts_max_time 0.05" +
                     quiet("observers"));
  Simulation sim(world());
  SnapshotStore store(2);
  std::vector<double> times;
  sim.on_step([&](PetscInt, double t, Vec) { times.push_back(t); });
  sim.attach(store);
  const RunSummary s = sim.run();
  BOOST_TEST(times.size() == std::size_t(s.steps->steps + 1));
  BOOST_TEST(store.time(0) == 0.0);
  BOOST_TEST(store.time(store.size() - 1) == s.t_final());
  // The last snapshot is the final state; interpolation at a snapshot time returns it.
  VecH v;
  FP_CHECK(VecDuplicate(sim.solution(), v.out()));
  store.state_at(s.t_final(), v);
  FP_CHECK(VecAXPY(v, -1.0, sim.solution()));
  PetscReal diff = 1;
  FP_CHECK(VecNorm(v, NORM_INFINITY, &diff));
  BOOST_TEST(diff == 0.0);
}

BOOST_AUTO_TEST_CASE(forward_then_adjoint_is_exactly_dual) {
  const std::string fixed = " -fp_scheme sg -ts_dt 0.0078125 -ts_max_time 0.25";
  const std::vector<std::string> cases = {
      // 2-D OU, Heun both ways.
      "-problem ou -dim 2 -da_grid_x 24 -da_grid_y 20" + fixed,
      // Absorbing on one side: mass leaves, duality still holds (u = 0 at the wall).
      "-problem heat -dim 1 -da_grid_x 64 -box_lo 0 -box_hi 1 -bc absorbing:reflecting "
      "-heat_mean 0.3" + fixed,
      // Periodic x, correlated (unlimited) cross-diffusion in 2-D.
      "-problem ou -dim 2 -ou_G 1,0.4,0,1 -fp_cross average -bc periodic,reflecting "
      "-da_grid_x 16 -da_grid_y 16" + fixed,
      // Time-dependent drift: the reversed stages meet the forward ones.
      "-problem custom -dim 1 -da_grid_x 48 -custom_drift_x sin(x+3*t)" + fixed,
      // 3-D.
      "-problem ou -dim 3 -da_grid_x 8 -da_grid_y 8 -da_grid_z 8" + fixed,
  };
  for (const auto& args : cases) {
    BOOST_TEST_CONTEXT(args) {
      const Duality d = forward_then_adjoint(args);
      BOOST_TEST(std::fabs(d.backward - d.forward) <= 1e-12 * std::fabs(d.forward));
    }
  }
  // Backward Euler on both sides (a rational step map), solved to round-off.
  const Duality be = forward_then_adjoint(
      "-problem ou -dim 2 -da_grid_x 16 -da_grid_y 16 -ts_type beuler -pc_type lu" + fixed,
      " -adjoint_ts_type beuler -adjoint_pc_type lu");
  BOOST_TEST(std::fabs(be.backward - be.forward) <= 1e-12 * std::fabs(be.forward));
}

BOOST_AUTO_TEST_CASE(adjoint_keeps_constants_and_refuses_nonlinear_operators) {
  ScopedOptions opts("-problem ou -dim 2 -da_grid_x 16 -da_grid_y 16 -fp_scheme sg "
                     "-ts_max_time 0.1" + quiet("constants"));
  Simulation sim(world());
  VecH u;
  FP_CHECK(VecDuplicate(sim.solution(), u.out()));
  FP_CHECK(VecSet(u, 1.0));
  BackwardKolmogorov adjoint(sim.op(), {0.1, 0.01, {}});
  adjoint.solve(u);  // L^T 1 = 0 with reflecting walls: u stays 1
  PetscReal lo = 0, hi = 0;
  FP_CHECK(VecMin(u, nullptr, &lo));
  FP_CHECK(VecMax(u, nullptr, &hi));
  BOOST_TEST(std::fabs(lo - 1) < 1e-13);
  BOOST_TEST(std::fabs(hi - 1) < 1e-13);
  ScopedOptions sghr("-problem ou -dim 2 -da_grid_x 16 -da_grid_y 16 -fp_scheme sghr" +
                     quiet("constants-sghr"));
  Simulation nonlinear(world());
  BOOST_CHECK_THROW(BackwardKolmogorov(nonlinear.op(), {0.1, 0.01, {}}), Error);
}
