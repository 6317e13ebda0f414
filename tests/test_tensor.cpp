// tests/test_tensor.cpp — full diffusion tensors: Jacobian == operator on every boundary kind,
// cross-diffusion positivity (monotone vs average stencil), mass with cross terms.
// Runs at 1 and 2 ranks.
#define BOOST_TEST_MODULE tensor
#include "common.hpp"

#include "verification/norms.hpp"

using namespace fpflow;
using namespace fpflow::test;

BOOST_TEST_GLOBAL_FIXTURE(PetscFixture);

namespace {

// Correlated constant noise, rotated 30 degrees, eigenvalues 1 and 0.2: a = [0.8 0.3464; . 0.4].
const std::string kRotated2D =
    " -problem custom -custom_diffusion_x 0.8 -custom_diffusion_y 0.4"
    " -custom_diffusion_xy 0.34641016151377546 ";
// 3-D: a = G G^T from a full noise matrix.
const std::string kNoise3D =
    " -problem custom -dim 3 -custom_noise_xx 1 -custom_noise_xy 0.3 -custom_noise_xz -0.2"
    " -custom_noise_yx 0.1 -custom_noise_yy 0.8 -custom_noise_zy 0.25 -custom_noise_zz 0.7 ";

}  // namespace

BOOST_AUTO_TEST_CASE(jacobian_times_v_equals_operator_of_v) {
  // For linear schemes (sg, upwind with unlimited cross terms) the assembled Jacobian is the
  // operator: J v = L(v) for any v, including the mirrored, wrapped and dropped ghost columns of
  // every boundary kind and the cross terms. A limited operator (the default: sghr, limited
  // cross fluxes) linearised at v, with its limiter factors and corrections frozen there, must
  // reproduce L(v) at v exactly as well: the Picard matrix is the operator at its own state.
  const std::vector<std::string> cases = {
      kRotated2D + "-dim 2 -da_grid_x 13 -da_grid_y 11 -bc reflecting,absorbing -custom_drift_x 0.5*y-x -custom_drift_y sin(x)",
      kRotated2D + "-dim 2 -da_grid_x 12 -da_grid_y 10 -bc periodic,reflecting -fp_scheme upwind -custom_drift_x 1",
      kRotated2D + "-dim 2 -da_grid_x 12 -da_grid_y 10 -bc absorbing -fp_cross average",
      kNoise3D + "-da_grid_x 7 -da_grid_y 6 -da_grid_z 5 -bc reflecting,periodic,absorbing -custom_drift_z (-z)",
      " -problem custom -dim 2 -custom_diffusion_x 1+0.5*sin(x*y) -custom_diffusion_y 1+x^2/10"
      " -custom_diffusion_xy 0.3*cos(x) -da_grid_x 16 -da_grid_y 14 -bc reflecting",
      " -problem ou -dim 3 -da_grid_x 8 -da_grid_y 7 -da_grid_z 6 -bc absorbing,reflecting,periodic",
  };
  for (const auto& base : cases) {
    for (const bool linear : {true, false}) {
      std::string c = base;
      if (linear && c.find("-fp_scheme") == std::string::npos) c += " -fp_scheme sg";
      if (linear && c.find("-fp_cross") == std::string::npos) c += " -fp_cross monotone";
      BOOST_TEST_INFO("case: " << c);
      ScopedOptions opts(c + quiet("jac"));
      Simulation sim(world());
      BOOST_CHECK_EQUAL(sim.op().linear(), linear);
      const Grid& g = sim.grid();
      MatH J;
      FP_CHECK(DMCreateMatrix(g.dm(), J.out()));
      VecH v, Jv, Lv;
      FP_CHECK(DMCreateGlobalVector(g.dm(), v.out()));
      FP_CHECK(VecDuplicate(v, Jv.out()));
      FP_CHECK(VecDuplicate(v, Lv.out()));
      PetscRandom rnd;
      FP_CHECK(PetscRandomCreate(world(), &rnd));
      FP_CHECK(VecSetRandom(v, rnd));
      PetscRandomDestroy(&rnd);
      // (Random data in [0, 1): rough enough that the limiter is active in many cells.)
      sim.op().assemble_jacobian(0.0, J, Part::full, true, linear ? nullptr : v.get());
      FP_CHECK(MatMult(J, v, Jv));
      sim.op().apply(0.0, v, Lv, Part::full);
      PetscReal ref, diff;
      FP_CHECK(VecNorm(Lv, NORM_INFINITY, &ref));
      FP_CHECK(VecAXPY(Jv, -1.0, Lv));
      FP_CHECK(VecNorm(Jv, NORM_INFINITY, &diff));
      BOOST_CHECK_LE(diff, 1e-12 * ref);
      // The diffusion part too (the implicit half of IMEX, linear in every scheme).
      sim.op().assemble_jacobian(0.0, J, Part::diffusion);
      FP_CHECK(MatMult(J, v, Jv));
      sim.op().apply(0.0, v, Lv, Part::diffusion);
      FP_CHECK(VecNorm(Lv, NORM_INFINITY, &ref));
      FP_CHECK(VecAXPY(Jv, -1.0, Lv));
      FP_CHECK(VecNorm(Jv, NORM_INFINITY, &diff));
      BOOST_CHECK_LE(diff, 1e-12 * ref);
    }
  }
}

BOOST_AUTO_TEST_CASE(mass_is_conserved_with_cross_diffusion) {
  for (const std::string& c :
       {kRotated2D + "-dim 2 -da_grid_x 40 -da_grid_y 36 -bc reflecting -custom_drift_x (-x)",
        kRotated2D + "-dim 2 -da_grid_x 40 -da_grid_y 36 -bc periodic -custom_drift_y 1 -fp_scheme muscl",
        kRotated2D + "-dim 2 -da_grid_x 40 -da_grid_y 36 -ts_type beuler -ts_dt 0.05 -pc_type mg",
        kRotated2D + "-dim 2 -da_grid_x 40 -da_grid_y 36 -ts_type arkimex -custom_drift_x (-x)",
        kNoise3D + "-da_grid_x 16 -da_grid_y 14 -da_grid_z 12 -bc reflecting,periodic,reflecting"}) {
    BOOST_TEST_INFO("case: " << c);
    const auto s = run(c + quiet("cross-mass"));
    const double m0 = s["mass_initial"].get<double>(), m1 = s["mass_final"].get<double>();
    BOOST_CHECK_LT(std::fabs(m1 - m0) / m0, 1e-12);
    // Positivity is promised by explicit runs of the (default) limited operator; IMEX promises
    // nothing, backward Euler holds it to the solver tolerance.
    if (s["positivity"] == "guaranteed") BOOST_CHECK_GE(s["min_density"].get<double>(), -1e-14);
    if (s["positivity"] == "to solver tolerance") BOOST_CHECK_GE(s["min_density"].get<double>(), -1e-12);
  }
}

BOOST_AUTO_TEST_CASE(monotone_cross_stencil_keeps_strong_anisotropy_positive) {
  // Eigenvalues 1 and 0.01 rotated 45 degrees: a = [0.505 0.495; 0.495 0.505], 50:1 anisotropy.
  // |a_xy| <= min(a_xx, a_yy) on a square grid, so the monotone stencil is an M-matrix (periodic
  // box: next to non-periodic walls the cross flux is one-sided and may not be): a
  // square indicator stays >= 0 (explicit at the positivity bound, and backward Euler at 100x
  // it). The 4-cell average stencil has negative corner coefficients and undershoots.
  const std::string base =
      " -problem custom -dim 2 -custom_diffusion_x 0.505 -custom_diffusion_y 0.505"
      " -custom_diffusion_xy 0.495 -custom_initial (abs(x)<0.5)*(abs(y)<0.5)"
      " -custom_box_lo -3 -custom_box_hi 3 -custom_t_final 0.05 -da_grid_x 48 -da_grid_y 48"
      " -bc periodic ";
  // (Direct solve: the M-matrix property itself, without iterative-solver noise.)
  for (const std::string extra :
       {"", "-ts_type beuler -ts_dt 0.01 -ksp_type preonly -pc_type redundant -redundant_pc_type lu"}) {
    const auto s = run(base + extra + quiet("positivity"));
    BOOST_TEST_INFO("monotone " << extra);
    BOOST_CHECK(s["monotone"].get<bool>());
    BOOST_CHECK_GE(s["min_density"].get<double>(), -1e-14);  // round-off below max = O(1)
  }
  const auto a = run(base + "-fp_cross average" + quiet("positivity-avg"));
  BOOST_CHECK(!a["monotone"].get<bool>());
  BOOST_CHECK_LT(a["min_density"].get<double>(), -1e-4);  // measured -2.6e-3
}

BOOST_AUTO_TEST_CASE(monotonicity_check_sees_strong_drift_and_bad_aspect_ratio) {
  // Exponential fitting shrinks the downwind diffusive coupling to (D/h) B(delta) < D/h, so a
  // strong drift breaks the cross-stencil condition that holds without it.
  const std::string rot = kRotated2D + "-dim 2 -da_grid_x 40 -da_grid_y 36 -bc periodic -fp_cross monotone";
  BOOST_CHECK(run(rot + quiet("mono-a"))["monotone"].get<bool>());
  BOOST_CHECK(!run(rot + " -custom_drift_x (-x)" + quiet("mono-b"))["monotone"].get<bool>());
  // a_xy = 0.3464 > a_yy h_x/h_y = 0.4 * 0.5 on a grid twice as fine in x as in y.
  BOOST_CHECK(!run(kRotated2D + "-dim 2 -da_grid_x 80 -da_grid_y 40 -bc periodic -fp_cross monotone" + quiet("mono-c"))["monotone"].get<bool>());
}

BOOST_AUTO_TEST_CASE(cross_terms_are_rank_independent) {
  if (size() != 2) return;
  const std::string c = kNoise3D + "-da_grid_x 10 -da_grid_y 9 -da_grid_z 8 -bc absorbing,periodic,reflecting";
  const double rel = parallel_vs_serial(c, "cross-ranks");
  if (rank() == 0) BOOST_CHECK_LE(rel, 1e-12);
}
