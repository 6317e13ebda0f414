// tests/test_fused.cpp — the fast explicit path (LinearStencil, the fpeuler TS type, the
// ghost-only exchange) against the general face-flux loops, on 1 and 2 ranks; and multigrid
// with rediscretised coarse levels against a direct solve.
#define BOOST_TEST_MODULE fused
#include "common.hpp"

#include <algorithm>

using namespace fpflow;
using namespace fpflow::test;

BOOST_TEST_GLOBAL_FIXTURE(PetscFixture);

namespace {

// Largest |a - b| / max|b| over all ranks.
double rel_diff(Vec a, Vec b) {
  VecH d;
  FP_CHECK(VecDuplicate(a, d.out()));
  FP_CHECK(VecWAXPY(d, -1.0, b, a));
  PetscReal nd, nb;
  FP_CHECK(VecNorm(d, NORM_INFINITY, &nd));
  FP_CHECK(VecNorm(b, NORM_INFINITY, &nb));
  return nd / nb;
}

struct Setup {
  std::string args;
  bool separable;
};

// 1-D, 2-D and 3-D; every boundary kind; separable (ou, heat) and streamed (langevin-gmm,
// custom drift coupling the axes) weights; SG and upwind.
const std::vector<Setup> kSetups = {
    {"-fp_scheme sg -problem ou -dim 1 -da_grid_x 40 -bc absorbing", true},
    {"-fp_scheme sg -problem ou -dim 2 -da_grid_x 24 -da_grid_y 18", true},
    {"-problem ou -dim 2 -da_grid_x 24 -da_grid_y 18 -bc periodic,absorbing -fp_scheme upwind", true},
    {"-fp_scheme sg -problem langevin-gmm -dim 2 -da_grid_x 20 -da_grid_y 22", false},
    // Absorbing x walls in small boxes: the density at the walls is of the order of its maximum.
    {"-fp_scheme sg -problem langevin-gmm -dim 2 -da_grid_x 20 -da_grid_y 22 -bc absorbing -box_lo -1,-1 "
     "-box_hi 1,1", false},
    {"-fp_scheme sg -problem ou -dim 3 -da_grid_x 10 -da_grid_y 7 -da_grid_z 8 -bc absorbing,reflecting,periodic "
     "-box_lo -1,-1,-1 -box_hi 1,1,1", true},
    {"-fp_scheme sg -problem ou -dim 3 -da_grid_x 10 -da_grid_y 12 -da_grid_z 8 -bc periodic", true},
    {"-fp_scheme sg -problem custom -dim 3 -custom_drift_x 0.3*y-x -custom_drift_y 0-y -custom_drift_z 0.2*x-z "
     "-da_grid_x 10 -da_grid_y 9 -da_grid_z 8 -bc reflecting,absorbing,periodic", false},
    // Walls per side (each axis's low and high side of a different kind), in small boxes so the
    // walls carry mass: the stencil's wall ghosts and matrix rows per side.
    {"-fp_scheme sg -problem ou -dim 1 -da_grid_x 40 -bc absorbing:reflecting -box_lo -1 -box_hi 1", true},
    {"-fp_scheme upwind -problem ou -dim 2 -da_grid_x 24 -da_grid_y 18 -bc reflecting:absorbing,absorbing:reflecting "
     "-box_lo -1,-1 -box_hi 1,1", true},
    {"-fp_scheme sg -problem langevin-gmm -dim 2 -da_grid_x 20 -da_grid_y 22 -bc periodic,reflecting:absorbing "
     "-box_lo -1,-1 -box_hi 1,1", false},
    {"-fp_scheme sg -problem custom -dim 3 -custom_drift_x 0.3*y-x -custom_drift_y 0-y -custom_drift_z 0.2*x-z "
     "-da_grid_x 10 -da_grid_y 9 -da_grid_z 8 -bc absorbing:reflecting,reflecting:absorbing,absorbing:reflecting "
     "-box_lo -1 -box_hi 1", false},
};

}  // namespace

// apply(full) runs the precomputed single pass; explicit_part + diffusion run the general
// face-flux loops with the flux kernels: the same operator, independently computed.
BOOST_AUTO_TEST_CASE(linear_stencil_equals_the_face_flux_loops) {
  for (const Setup& s : kSetups) {
    ScopedOptions opts(s.args + " -ts_type euler" + quiet("stencil"));
    Simulation sim(world());
    auto& op = sim.op();
    BOOST_REQUIRE(op.linear_stencil());
    BOOST_CHECK_EQUAL(all_ok(world(), op.linear_stencil()->separable()), s.separable);
    VecH fast, expl, diff;
    FP_CHECK(VecDuplicate(sim.solution(), fast.out()));
    FP_CHECK(VecDuplicate(sim.solution(), expl.out()));
    FP_CHECK(VecDuplicate(sim.solution(), diff.out()));
    op.apply(0.0, sim.solution(), fast, Part::full);
    op.apply(0.0, sim.solution(), expl, Part::explicit_part);
    op.apply(0.0, sim.solution(), diff, Part::diffusion);
    FP_CHECK(VecAXPY(expl, 1.0, diff));
    BOOST_TEST_INFO(s.args);
    BOOST_CHECK_LT(rel_diff(fast, expl), 1e-12);
  }
}

// One fused step is rho + dt L rho with L from the general loops; the summary says fpeuler ran.
// The Jacobian from the stencil's weights (the implicit path's default) against the one
// assembled from the general face-flux rows, entry by entry, on every setup; plus its action
// against apply(): J rho = L rho.
BOOST_AUTO_TEST_CASE(stencil_jacobian_equals_the_face_flux_rows) {
  for (const Setup& s : kSetups) {
    ScopedOptions opts(s.args + " -ts_type beuler" + quiet("jacobian"));
    Simulation sim(world());
    auto& op = sim.op();
    BOOST_REQUIRE(op.linear_stencil());
    MatH fast, general;
    FP_CHECK(DMCreateMatrix(sim.grid().dm(), fast.out()));
    FP_CHECK(DMCreateMatrix(sim.grid().dm(), general.out()));
    op.assemble_jacobian(0.0, fast, Part::full, true);
    op.assemble_jacobian(0.0, general, Part::full, false);
    PetscReal scale;
    FP_CHECK(MatNorm(general, NORM_INFINITY, &scale));
    FP_CHECK(MatAXPY(fast, -1.0, general, SAME_NONZERO_PATTERN));
    PetscReal d;
    FP_CHECK(MatNorm(fast, NORM_INFINITY, &d));
    BOOST_TEST(scale > 0);
    BOOST_TEST(d / scale < 1e-14, s.args << ": |J_stencil - J_rows| / |J| = " << d / scale);
    // The matrix is the operator: J rho == apply(rho).
    FP_CHECK(MatAXPY(fast, 1.0, general, SAME_NONZERO_PATTERN));
    VecH Jr, Lr;
    FP_CHECK(VecDuplicate(sim.solution(), Jr.out()));
    FP_CHECK(VecDuplicate(sim.solution(), Lr.out()));
    FP_CHECK(MatMult(fast, sim.solution(), Jr));
    op.apply(0.0, sim.solution(), Lr, Part::full);
    BOOST_TEST(rel_diff(Jr, Lr) < 1e-11, s.args);
  }
}

BOOST_AUTO_TEST_CASE(fused_step_is_forward_euler) {
  for (const Setup& s : kSetups) {
    ScopedOptions opts(s.args + " -ts_type euler -ts_max_steps 1" + quiet("fused"));
    Simulation sim(world());
    VecH rho0, ref, d;
    FP_CHECK(VecDuplicate(sim.solution(), rho0.out()));
    FP_CHECK(VecCopy(sim.solution(), rho0));
    FP_CHECK(VecDuplicate(sim.solution(), ref.out()));
    FP_CHECK(VecDuplicate(sim.solution(), d.out()));
    const auto j = sim.run().to_json();
    BOOST_TEST_INFO(s.args);
    BOOST_REQUIRE(j["fused_euler"].get<bool>());
    BOOST_REQUIRE_EQUAL(j["steps"].get<int>(), 1);
    const double dt = j["dt_initial"].get<double>();
    sim.op().apply(0.0, rho0, ref, Part::explicit_part);
    sim.op().apply(0.0, rho0, d, Part::diffusion);
    FP_CHECK(VecAXPY(ref, 1.0, d));
    FP_CHECK(VecAYPX(ref, dt, rho0));
    BOOST_CHECK_LT(rel_diff(sim.solution(), ref), 1e-13);
  }
}

// The fused path is PETSc's forward Euler, step for step, over a whole run (and conserves mass
// to round-off on reflecting/periodic walls).
BOOST_AUTO_TEST_CASE(fused_run_matches_petsc_euler) {
  const std::string base = "-problem ou -dim 2 -da_grid_x 32 -da_grid_y 30 -bc periodic,reflecting "
                           "-ts_type euler -ts_max_time 0.05 -fp_scheme sg";
  auto fused = run(base + quiet("run-fused"));
  auto petsc = run(base + " -fp_fused 0" + quiet("run-petsc"));
  BOOST_CHECK(fused["fused_euler"].get<bool>());
  BOOST_CHECK(!petsc["fused_euler"].get<bool>());
  BOOST_CHECK_EQUAL(fused["steps"].get<int>(), petsc["steps"].get<int>());
  BOOST_CHECK_CLOSE(fused["error"]["L1"].get<double>(), petsc["error"]["L1"].get<double>(), 1e-9);
  BOOST_CHECK_SMALL(fused["mass_balance_error"].get<double>(), 1e-13);
}

// Bitwise: the fused kernel computes every cell with the same expression whatever the
// decomposition, and the ghost-only exchange delivers exactly the neighbours' values.
BOOST_AUTO_TEST_CASE(fused_run_is_rank_independent_to_the_bit) {
  for (const char* extra : {" -bc periodic", " -bc absorbing", "", " -bc absorbing:reflecting,reflecting:absorbing"}) {
    const double d = parallel_vs_serial(
        std::string("-problem langevin-gmm -dim 2 -da_grid_x 26 -da_grid_y 21 -ts_type euler -fp_scheme sg "
                    "-ts_max_steps 25") + extra, "bitwise");
    if (rank() == 0) BOOST_CHECK_EQUAL(d, 0.0);
  }
  const double d3 = parallel_vs_serial(
      "-problem ou -dim 3 -da_grid_x 9 -da_grid_y 10 -da_grid_z 12 -bc periodic -ts_type euler -fp_scheme sg "
      "-ts_max_steps 10", "bitwise3");
  if (rank() == 0) BOOST_CHECK_EQUAL(d3, 0.0);
}

// Above the positivity bound the fused step checks its result, refuses a negative state and
// retries with half the step: the run reaches its final time with every state non-negative.
BOOST_AUTO_TEST_CASE(fused_step_above_the_bound_is_rejected_and_retried) {
  const std::string base = "-problem ou -dim 2 -da_grid_x 24 -da_grid_y 24 -ts_type euler -fp_scheme sg";
  double dt = 0;
  {
    ScopedOptions opts(base + " -ts_max_steps 1" + quiet("bound"));
    Simulation sim(world());
    dt = sim.run().to_json()["dt_initial"].get<double>() / 0.9;  // the bound itself
  }
  const auto s = run(base + " -ts_max_time " + std::to_string(40 * dt) + " -ts_dt " +
                     std::to_string(4 * dt) + quiet("bound-big"));
  BOOST_CHECK(s["fused_euler"].get<bool>());
  BOOST_CHECK_GT(s["rejected_steps"].get<int>(), 0);
  BOOST_CHECK_GE(s["min_density"].get<double>(), -1e-14);  // max rho = O(1)
  BOOST_CHECK_EQUAL(s["stop_reason"], "final_time");
  BOOST_CHECK_EQUAL(s["t_final"].get<double>(), s["t_requested"].get<double>());
}

// Multigrid with the operator rediscretised on each coarse level: the same solution as a direct
// solve, in a handful of iterations that do not grow with the grid.
BOOST_AUTO_TEST_CASE(multigrid_rediscretised_levels) {
  std::vector<double> its;
  for (int n : {64, 128, 256}) {
    const std::string g = " -da_grid_x " + std::to_string(n) + " -da_grid_y " + std::to_string(n);
    const std::string base = "-problem ou -dim 2 -ts_type beuler -ts_dt 0.01 -ts_max_steps 3" + g;
    // (the implicit default scheme, sg: one linear solve per step)
    auto mg = run(base + " -pc_type mg" + quiet("mg"));
    its.push_back(mg["linear_iterations_per_step"].get<double>());
    if (n == 64) {
      auto lu = run(base + " -pc_type redundant -redundant_pc_type lu" + quiet("lu"));
      BOOST_CHECK_CLOSE(mg["error"]["L1"].get<double>(), lu["error"]["L1"].get<double>(), 1e-6);
    }
  }
  // Richardson + SOR levels: 3 iterations at 1 rank, 4-5 at 2 (Chebyshev + SOR: 7-14).
  BOOST_CHECK_LE(*std::max_element(its.begin(), its.end()), 6.0);
  BOOST_CHECK_LE(*std::max_element(its.begin(), its.end()) - *std::min_element(its.begin(), its.end()), 2.0);
}

// Under strong drift the default level smoother still converges in a few iterations (PETSc's
// Chebyshev + SOR took 11.5 here and stalled at 1024^2, docs/PERFORMANCE.md).
BOOST_AUTO_TEST_CASE(multigrid_smoother_under_strong_drift) {
  auto r = run("-problem ou -ou_theta 20 -ou_sigma 0.3 -dim 2 -da_grid_x 128 -da_grid_y 128 "
               "-ts_type beuler -pc_type mg -ts_dt 0.05 -ts_max_steps 2" + quiet("drift"));
  BOOST_CHECK_LE(r["linear_iterations_per_step"].get<double>(), 6.0);
  // An explicit -mg_levels_* option replaces the default (here PETSc's own smoother again).
  auto cheb = run("-problem ou -ou_theta 20 -ou_sigma 0.3 -dim 2 -da_grid_x 128 -da_grid_y 128 "
                  "-ts_type beuler -pc_type mg -ts_dt 0.05 -ts_max_steps 2 "
                  "-mg_levels_ksp_type chebyshev" + quiet("drift-cheb"));
  BOOST_CHECK_GT(cheb["linear_iterations_per_step"].get<double>(),
                 r["linear_iterations_per_step"].get<double>());
}
