// tests/test_invariants.cpp — invariants that must hold on any rank count (run at 1 and 2 ranks):
// mass to round-off, absorbed-mass accounting, rank-count independence, custom == ou, VTK mass.
#define BOOST_TEST_MODULE invariants
#include "common.hpp"

#include "verification/norms.hpp"

#include <vtkCellData.h>
#include <vtkDataArray.h>
#include <vtkImageData.h>
#include <vtkNew.h>
#include <vtkXMLPImageDataReader.h>

#include <filesystem>
#include <fstream>
#include <regex>

using namespace fpflow;
using namespace fpflow::test;

BOOST_TEST_GLOBAL_FIXTURE(PetscFixture);

namespace {

double rel_mass_drift(const nlohmann::json& s) {
  return std::fabs(s["mass_final"].get<double>() - s["mass_initial"].get<double>()) /
         s["mass_initial"].get<double>();
}

// A drift that piles mass against the walls, so zero-flux boundaries are actually exercised.
const std::string kWallOU = " -problem ou -ou_mean0 2.5 -ou_var0 0.2 -box_lo -3 -box_hi 3.5 ";
// A sheared, divergent periodic flow with variable diffusion.
const std::string kPeriodic =
    " -problem custom -bc periodic -custom_box_lo 0 -custom_box_hi 6.283185307179586"
    " -custom_drift_x 1+0.5*sin(y) -custom_drift_y cos(x) -custom_drift_z 0.3*sin(x+y)"
    " -custom_diffusion_x 0.2+0.1*cos(x) -custom_diffusion_y 0.1 -custom_diffusion_z 0.15"
    " -custom_initial 1+0.5*sin(x)*cos(y) -custom_t_final 0.5 ";

}  // namespace

BOOST_AUTO_TEST_CASE(mass_is_conserved_to_roundoff_reflecting_and_periodic) {
  const std::vector<std::string> cases = {
      kWallOU + "-dim 1 -da_grid_x 200 -fp_scheme sg",
      kWallOU + "-dim 1 -da_grid_x 200 -fp_scheme muscl",
      kWallOU + "-dim 1 -da_grid_x 200 -fp_scheme upwind",
      kWallOU + "-dim 2 -da_grid_x 48 -da_grid_y 40 -fp_scheme sg",
      kWallOU + "-dim 2 -da_grid_x 48 -da_grid_y 40 -fp_scheme muscl -ts_type ssp",
      kWallOU + "-dim 3 -da_grid_x 16 -da_grid_y 14 -da_grid_z 12 -fp_scheme sg",
      kWallOU + "-dim 2 -da_grid_x 48 -da_grid_y 40 -ts_type beuler -ts_dt 0.01 -pc_type mg "
                "-pc_mg_levels 3 -pc_mg_galerkin",
      kPeriodic + "-dim 1 -da_grid_x 128 -fp_scheme muscl",
      kPeriodic + "-dim 2 -da_grid_x 40 -da_grid_y 48 -fp_scheme sg",
      kPeriodic + "-dim 2 -da_grid_x 40 -da_grid_y 48 -fp_scheme upwind -ts_type arkimex",
      kPeriodic + "-dim 3 -da_grid_x 12 -da_grid_y 16 -da_grid_z 10 -fp_scheme muscl",
  };
  for (const auto& c : cases) {
    const auto s = run(c + quiet("mass"));
    BOOST_TEST_INFO("case: " << c);
    BOOST_CHECK_GT(s["steps"].get<int>(), 5);
    BOOST_CHECK_LT(rel_mass_drift(s), 1e-12);
    BOOST_CHECK_GE(s["min_density"].get<double>(), 0.0);
  }
}

BOOST_AUTO_TEST_CASE(absorbed_mass_equals_outflow_to_roundoff) {
  // Heat from N(0, 0.25^2) on [-1.5, 1.5] with absorbing walls: a good part of the mass leaves.
  const std::string base =
      " -problem heat -heat_sigma0 0.25 -bc absorbing -box_lo -1.5 -box_hi 1.5 -ts_max_time 0.5 ";
  for (const char* extra :
       {"-dim 1 -da_grid_x 300", "-dim 1 -da_grid_x 300 -ts_type beuler -ts_dt 0.005",
        "-dim 2 -da_grid_x 40 -da_grid_y 36 -fp_scheme muscl",
        "-dim 2 -da_grid_x 40 -da_grid_y 36 -bc absorbing,reflecting -ts_type cn -ts_dt 0.01"}) {
    const auto s = run(base + extra + quiet("absorb"));
    BOOST_TEST_INFO("case: " << extra);
    BOOST_CHECK_EQUAL(s["absorbed_mass_method"].get<std::string>(), "quadrature");
    BOOST_CHECK_GT(s["absorbed_mass"].get<double>(), 0.05);
    BOOST_CHECK_LT(std::fabs(s["mass_balance_error"].get<double>()), 1e-12);
  }
}

namespace {
// Sum of absorbed_by_side (in key order).
double side_sum(const nlohmann::json& s) {
  double sum = 0;
  for (const auto& [side, m] : s["absorbed_by_side"].items()) sum += m.get<double>();
  return sum;
}
}  // namespace

BOOST_AUTO_TEST_CASE(absorbed_mass_per_side_balances_the_mass) {
  // Walls per side: the mass that left through each absorbing side, integrated with the
  // integrator's own stages, plus the final mass is the initial mass to round-off, and only
  // absorbing sides are listed.
  const std::string heat = " -problem heat -heat_sigma0 0.25 -heat_mean 0.4 -box_lo -1.5 -box_hi 1.5"
                           " -ts_max_time 0.5 ";
  // Cross-diffusion (correlated noise) next to a mixed x axis and a periodic y axis.
  const std::string cross = " -problem ou -ou_G 1,0,0.6,0.8 -ou_mean0 -0.6,0.3 -ou_var0 0.2"
                            " -box_lo -1.5 -box_hi 1.5 -ts_max_time 0.4 ";
  struct Case {
    std::string args;
    std::vector<std::string> sides;
  };
  const std::vector<Case> cases = {
      {heat + "-dim 1 -da_grid_x 200 -bc absorbing:reflecting", {"x_lo"}},
      {heat + "-dim 1 -da_grid_x 200 -bc reflecting:absorbing -ts_type beuler -ts_dt 0.005", {"x_hi"}},
      {heat + "-dim 1 -da_grid_x 200 -bc absorbing:reflecting -ts_type cn -ts_dt 0.005", {"x_lo"}},
      {heat + "-dim 2 -da_grid_x 40 -da_grid_y 36 -bc absorbing:reflecting,reflecting:absorbing",
       {"x_lo", "y_hi"}},
      {heat + "-dim 2 -da_grid_x 40 -da_grid_y 36 -bc absorbing,absorbing:reflecting -ts_type beuler"
              " -ts_dt 0.01", {"x_hi", "x_lo", "y_lo"}},
      {cross + "-dim 2 -da_grid_x 40 -da_grid_y 32 -bc absorbing:reflecting,periodic", {"x_lo"}},
      {cross + "-dim 2 -da_grid_x 40 -da_grid_y 32 -bc absorbing:reflecting,periodic -ts_type cn"
               " -ts_dt 0.01", {"x_lo"}},
      {cross + "-dim 2 -da_grid_x 40 -da_grid_y 32 -bc reflecting:absorbing,absorbing -ts_type beuler"
               " -ts_dt 0.01", {"x_hi", "y_hi", "y_lo"}},
      {heat + "-dim 3 -da_grid_x 16 -da_grid_y 14 -da_grid_z 12 -bc absorbing:reflecting,periodic,"
              "reflecting:absorbing", {"x_lo", "z_hi"}},
  };
  for (const auto& c : cases) {
    const auto s = run(c.args + quiet("per-side"));
    BOOST_TEST_INFO("case: " << c.args);
    BOOST_CHECK_EQUAL(s["absorbed_mass_method"].get<std::string>(), "quadrature");
    std::vector<std::string> keys;
    for (const auto& [side, m] : s["absorbed_by_side"].items()) {
      keys.push_back(side);
      BOOST_CHECK_GT(m.get<double>(), 1e-3);
    }
    BOOST_CHECK(keys == c.sides);
    const double m0 = s["mass_initial"].get<double>(), m1 = s["mass_final"].get<double>();
    BOOST_CHECK_LT(std::fabs(m1 + side_sum(s) - m0), 1e-12 * m0);
    BOOST_CHECK_LT(std::fabs(side_sum(s) - s["absorbed_mass"].get<double>()), 1e-15);
  }
}

BOOST_AUTO_TEST_CASE(absorbed_mass_per_side_symmetric_and_mass_balance_split) {
  // A set-up symmetric in x: both x sides absorb the same mass. Methods without the forward
  // quadrature report the mass balance, split between the sides by their tracked outflow (the
  // exact split for forward Euler): it still sums to the total and is still symmetric.
  const std::string base = " -problem heat -dim 2 -heat_sigma0 0.3 -heat_mean 0,0.2 -box_lo -1"
                           " -box_hi 1 -da_grid_x 40 -da_grid_y 30 -bc absorbing,absorbing:reflecting"
                           " -ts_max_time 0.3 ";
  for (const char* ts : {"rk", "cn -ts_dt 0.01", "euler", "euler -fp_scheme sg", "ssp",
                         "bdf -ts_dt 0.01"}) {
    const auto s = run(base + "-ts_type " + ts + quiet("symmetric"));
    BOOST_TEST_INFO("ts_type " << ts);
    const auto& by = s["absorbed_by_side"];
    BOOST_REQUIRE_EQUAL(by.size(), 3u);
    const double lo = by["x_lo"].get<double>(), hi = by["x_hi"].get<double>();
    BOOST_CHECK_GT(lo, 0.05);
    BOOST_CHECK_LT(std::fabs(lo - hi), 1e-12 * lo);
    BOOST_CHECK_GT(by["y_lo"].get<double>(), 0.01);
    BOOST_CHECK_LT(std::fabs(side_sum(s) - s["absorbed_mass"].get<double>()), 1e-14);
    BOOST_CHECK_LT(std::fabs(s["mass_balance_error"].get<double>()), 1e-12);
  }
  // Forward Euler's outflow over a step is dt times the outflow of the state it starts from: the
  // split of the mass balance (euler: PETSc's RK 1fe with sghr, fpflow's fused step with sg)
  // equals the per-side quadrature of the same method (rk 1fe), which has no split to make.
  const std::string asym = " -problem heat -dim 1 -heat_mean 0.3 -box_lo -1 -box_hi 1 -bc absorbing"
                           " -da_grid_x 64 -ts_max_time 0.2 ";
  for (const char* scheme : {"sghr", "sg"}) {
    BOOST_TEST_INFO("scheme " << scheme);
    const auto split = run(asym + "-ts_type euler -fp_scheme " + scheme + quiet("split"));
    const auto ref = run(asym + "-ts_type rk -ts_rk_type 1fe -fp_scheme " + scheme + quiet("split-rk"));
    BOOST_CHECK_EQUAL(split["absorbed_mass_method"].get<std::string>(), "mass-balance");
    BOOST_CHECK_EQUAL(split["fused_euler"].get<bool>(), std::string(scheme) == "sg");
    BOOST_CHECK_EQUAL(ref["absorbed_mass_method"].get<std::string>(), "quadrature");
    BOOST_CHECK_GT(ref["absorbed_by_side"]["x_hi"].get<double>(),
                   2 * ref["absorbed_by_side"]["x_lo"].get<double>());
    for (const char* side : {"x_lo", "x_hi"})
      BOOST_CHECK_CLOSE(split["absorbed_by_side"][side].get<double>(),
                        ref["absorbed_by_side"][side].get<double>(), 1e-9);
  }
}

BOOST_AUTO_TEST_CASE(options_txt_reproduces_walls_per_side) {
  // options.txt writes the walls back as -bc LO:HI per axis; rerunning from it repeats the run.
  const std::string dir = "test-out/walls-rerun-np" + std::to_string(size());
  const auto a = run(" -problem heat -dim 2 -heat_mean 0.2,-0.3 -box_lo -1 -box_hi 1 -da_grid_x 30"
                     " -da_grid_y 24 -bc absorbing:reflecting,reflecting:absorbing -ts_max_time 0.2"
                     " -progress_seconds -1 -vtk 0 -output " + dir);
  const auto b = run(" -options_file " + dir + "/options.txt -progress_seconds -1 -vtk 0 -output " +
                     dir + "-again");
  BOOST_CHECK(a["boundaries"] == b["boundaries"]);
  BOOST_CHECK_EQUAL(b["boundaries"][1].get<std::string>(), "reflecting:absorbing");
  BOOST_CHECK_EQUAL(a["mass_final"].get<double>(), b["mass_final"].get<double>());
  BOOST_CHECK(a["absorbed_by_side"] == b["absorbed_by_side"]);
}

BOOST_AUTO_TEST_CASE(walls_per_side_absorbing_pair_and_mirror) {
  // absorbing:absorbing is today's absorbing, cell for cell; reflecting:absorbing is
  // absorbing:reflecting seen from the other end (mean and box mirrored), for the explicit
  // default (sghr), Scharfetter-Gummel and backward Euler.
  const auto cells = [](const std::string& args, nlohmann::json* summary) {
    ScopedOptions opts(args + quiet("mirror"));
    Simulation sim(world());
    *summary = sim.run().to_json();
    return gather(sim.grid(), sim.solution());
  };
  const std::string base = " -problem heat -dim 1 -heat_sigma0 0.3 -box_lo -1.5 -box_hi 1.5"
                           " -da_grid_x 90 -ts_max_time 0.5 ";
  for (const char* extra : {"", "-fp_scheme sg", "-ts_type beuler -ts_dt 0.01"}) {
    BOOST_TEST_INFO("options: " << extra);
    nlohmann::json a, b;
    const auto one = cells(base + "-heat_mean -0.3 -bc absorbing " + extra, &a);
    const auto pair = cells(base + "-heat_mean -0.3 -bc absorbing:absorbing " + extra, &b);
    BOOST_CHECK(one == pair);
    BOOST_CHECK_EQUAL(a["absorbed_mass"].get<double>(), b["absorbed_mass"].get<double>());
    BOOST_CHECK_EQUAL(b["boundaries"][0].get<std::string>(), "absorbing");
    const double pair_absorbed = b["absorbed_mass"].get<double>();
    const auto ar = cells(base + "-heat_mean -0.3 -bc absorbing:reflecting " + extra, &a);
    const auto ra = cells(base + "-heat_mean 0.3 -bc reflecting:absorbing " + extra, &b);
    if (rank() == 0) {
      BOOST_REQUIRE_EQUAL(ar.size(), ra.size());
      double top = 0, diff = 0;
      for (std::size_t i = 0; i < ar.size(); ++i) {
        top = std::max(top, ar[i]);
        diff = std::max(diff, std::fabs(ar[i] - ra[ar.size() - 1 - i]));
      }
      BOOST_CHECK_LE(diff, 1e-12 * top);
    }
    const double lo = a["absorbed_by_side"]["x_lo"].get<double>();
    BOOST_CHECK_GT(lo, 0.05);
    BOOST_CHECK_LT(std::fabs(lo - b["absorbed_by_side"]["x_hi"].get<double>()), 1e-12 * lo);
    // ... and not the absorbing pair: the reflecting side keeps its mass.
    BOOST_CHECK_LT(lo, 0.9 * pair_absorbed);
  }
}

BOOST_AUTO_TEST_CASE(outflow_is_the_boundary_part_of_the_divergence) {
  // Operator-level identity for arbitrary rho: sum_c (L rho)_c |c| = -outflow(rho), the sum of
  // the absorbing sides' outflows; the other sides let nothing out.
  for (const char* bc : {"absorbing,periodic", "absorbing:reflecting,reflecting:absorbing",
                         "reflecting:absorbing,absorbing -fp_scheme sg"}) {
    BOOST_TEST_INFO("-bc " << bc);
    ScopedOptions opts(std::string("-problem heat -dim 2 -da_grid_x 30 -da_grid_y 20 -heat_mean 0.3"
                                   " -box_lo -2 -box_hi 2 -bc ") + bc + quiet("outflow"));
    Simulation sim(world());
    VecH r, out;
    FP_CHECK(DMCreateGlobalVector(sim.grid().dm(), r.out()));
    FP_CHECK(VecDuplicate(r, out.out()));
    PetscRandom rnd;
    FP_CHECK(PetscRandomCreate(world(), &rnd));
    FP_CHECK(VecSetRandom(r, rnd));
    PetscRandomDestroy(&rnd);
    sim.op().apply(0.0, r, out, Part::full);
    LocalVec loc(sim.grid().dm());
    sim.grid().to_local(r, loc);
    double local = sim.op().local_outflow(0.0, loc), outflow = 0;
    MPI_Allreduce(&local, &outflow, 1, MPI_DOUBLE, MPI_SUM, world());
    const double dmass = mass(sim.grid(), out);
    BOOST_CHECK_GT(outflow, 1.0);
    BOOST_CHECK_SMALL(dmass + outflow, 1e-12 * outflow);
    std::array<double, 6> by_side = sim.op().local_outflow_by_side(0.0, loc);
    MPI_Allreduce(MPI_IN_PLACE, by_side.data(), 6, MPI_DOUBLE, MPI_SUM, world());
    double sum = 0;
    for (int a = 0; a < 2; ++a)
      for (int side = 0; side < 2; ++side) {
        const double v = by_side[std::size_t(2 * a + side)];
        sum += v;
        if (sim.grid().bc(a, side) == Boundary::absorbing) BOOST_CHECK_GT(v, 0.1);
        else BOOST_CHECK_EQUAL(v, 0.0);
      }
    BOOST_CHECK_SMALL(sum - outflow, 1e-13 * outflow);
  }
}

BOOST_AUTO_TEST_CASE(one_and_two_ranks_give_identical_cells) {
  if (size() != 2) return;  // the comparison needs a parallel run next to a serial one
  for (const std::string& c :
       {kWallOU + "-dim 2 -da_grid_x 40 -da_grid_y 33 -fp_scheme sg",
        kWallOU + "-dim 2 -da_grid_x 40 -da_grid_y 33 -fp_scheme muscl",
        kPeriodic + "-dim 3 -da_grid_x 12 -da_grid_y 10 -da_grid_z 9 -fp_scheme upwind",
        std::string(" -problem heat -dim 1 -da_grid_x 101 -bc absorbing -box_lo -2 -box_hi 2"),
        // Walls per side, with limited cross-diffusion next to them, and with backward Euler.
        std::string(" -problem ou -dim 2 -ou_G 1,0,0.6,0.8 -ou_mean0 -0.6,0.3 -box_lo -1.5 -box_hi 1.5"
                    " -da_grid_x 40 -da_grid_y 33 -bc absorbing:reflecting,periodic"),
        std::string(" -problem ou -dim 2 -ou_G 1,0,0.6,0.8 -ou_mean0 -0.6,0.3 -box_lo -1.5 -box_hi 1.5"
                    " -da_grid_x 40 -da_grid_y 33 -bc reflecting:absorbing,absorbing:reflecting"
                    " -ts_type beuler -ts_dt 0.02 -ts_max_time 0.3"),
        std::string(" -problem heat -dim 1 -da_grid_x 101 -bc reflecting:absorbing -box_lo -2 -box_hi 2"),
        std::string(" -problem ou -dim 3 -ou_B 1,0.3,0,-0.2,1.2,0.1,0,0.2,0.8"
                    " -ou_G 1,0,0,0.3,0.9,0,0.1,0.2,0.8 -da_grid_x 13 -da_grid_y 12 -da_grid_z 10")}) {
    const double rel = parallel_vs_serial(c, "ranks");
    BOOST_TEST_INFO("case: " << c);
    if (rank() == 0) BOOST_CHECK_LE(rel, 1e-12);
  }
}

BOOST_AUTO_TEST_CASE(custom_expressions_reproduce_ou) {
  const std::string grid = " -dim 2 -da_grid_x 64 -da_grid_y 48 -box_lo -4,-3 -box_hi 4,5 ";
  const std::string ou = " -problem ou -ou_theta 1.5,0.7 -ou_sigma 0.8,1.1 -ou_mean0 1,2"
                         " -ou_var0 0.2 ";
  const std::string custom =
      " -problem custom -custom_params th1=1.5,th2=0.7,s1=0.8,s2=1.1 -custom_drift_x (-th1*x)"
      " -custom_drift_y (-th2*y) -custom_diffusion_x s1^2 -custom_diffusion_y s2^2"
      " -custom_initial exp(-((x-1)^2+(y-2)^2)/0.4) -custom_t_final 1 ";
  // 1) The operators agree to round-off on the same density.
  ScopedOptions a(ou + grid + quiet("custom-ou-a"));
  Simulation sim_ou(world());
  VecH out_ou, out_custom;
  FP_CHECK(VecDuplicate(sim_ou.solution(), out_ou.out()));
  FP_CHECK(VecDuplicate(sim_ou.solution(), out_custom.out()));
  sim_ou.op().apply(0.0, sim_ou.solution(), out_ou, Part::full);
  {
    ScopedOptions b(custom + grid + quiet("custom-ou-b"));
    Simulation sim_c(world());
    sim_c.op().apply(0.0, sim_ou.solution(), out_custom, Part::full);
    PetscReal diff, ref;
    FP_CHECK(VecAXPY(out_custom, -1.0, out_ou));
    FP_CHECK(VecNorm(out_custom, NORM_INFINITY, &diff));
    FP_CHECK(VecNorm(out_ou, NORM_INFINITY, &ref));
    BOOST_CHECK_LE(diff, 1e-13 * ref);
    // 2) Whole runs agree: the only difference is the quadrature of the initial Gaussian
    //    (3-point Gauss-Legendre vs exact cell averages), far below the discretization error.
    const auto s_c = sim_c.run().to_json();
    const auto s_o = sim_ou.run().to_json();
    VecH d;
    FP_CHECK(VecDuplicate(sim_ou.solution(), d.out()));
    FP_CHECK(VecWAXPY(d, -1.0, sim_ou.solution(), sim_c.solution()));
    PetscReal l1;
    FP_CHECK(VecNorm(d, NORM_1, &l1));
    l1 *= sim_ou.grid().cell_volume();
    // This box holds all but 2e-6 of the OU law, so the law is a labelled reference_error, not
    // an error; at that size its distance still measures the discretization error.
    BOOST_CHECK_LE(l1, 0.01 * s_o["reference_error"]["L1"].get<double>());
    BOOST_CHECK_EQUAL(s_c["steps"].get<int>(), s_o["steps"].get<int>());
  }
}

BOOST_AUTO_TEST_CASE(vtk_series_reads_back_with_the_reported_mass) {
  const auto s = run(" -problem ou -dim 2 -da_grid_x 50 -da_grid_y 30 -progress_seconds -1"
                     " -output_every 20 -output test-out/vtk-np" + std::to_string(size()));
  if (rank() != 0) return;
  const std::string dir = "test-out/vtk-np" + std::to_string(size());
  // The collection lists every frame; each listed .pvti exists.
  std::ifstream pvd(dir + "/fpflow.pvd");
  std::string text((std::istreambuf_iterator<char>(pvd)), std::istreambuf_iterator<char>());
  std::regex entry("file=\"([^\"]+)\"");
  std::vector<std::string> files;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), entry); it != std::sregex_iterator(); ++it)
    files.push_back((*it)[1]);
  BOOST_REQUIRE_EQUAL(int(files.size()), s["vtk"]["frames"].get<int>());
  BOOST_CHECK_GE(files.size(), 3u);
  for (const auto& f : files) BOOST_CHECK(std::filesystem::exists(dir + "/" + f));
  // The last frame, read by VTK's parallel reader, integrates to mass_final.
  vtkNew<vtkXMLPImageDataReader> reader;
  reader->SetFileName((dir + "/" + files.back()).c_str());
  reader->Update();
  vtkImageData* img = reader->GetOutput();
  BOOST_REQUIRE(img);
  BOOST_CHECK_EQUAL(img->GetNumberOfCells(), 50 * 30);
  vtkDataArray* rho = img->GetCellData()->GetArray("density");
  BOOST_REQUIRE(rho);
  for (const char* v : {"drift", "current", "score", "velocity", "divergence", "mask"}) {
    vtkDataArray* a = img->GetCellData()->GetArray(v);
    BOOST_REQUIRE_MESSAGE(a, v);
    const std::string name = v;
    BOOST_CHECK_EQUAL(a->GetNumberOfComponents(), name == "divergence" || name == "mask" ? 1 : 3);
    for (vtkIdType c = 0; c < a->GetNumberOfTuples() * a->GetNumberOfComponents(); ++c)
      BOOST_REQUIRE(std::isfinite(a->GetComponent(c / a->GetNumberOfComponents(),
                                                  int(c % a->GetNumberOfComponents()))));
  }
  // The flow fields are the current's: v rho = J where the density is resolved, up to the cell
  // averaging of face quantities, O(h^2) (8% of max |J| measured on this 50 x 30 grid; the
  // second-order convergence of the fields is tested in test_flow).
  {
    vtkDataArray *v = img->GetCellData()->GetArray("velocity"),
                 *J = img->GetCellData()->GetArray("current");
    double jmax = 0, worst = 0, rmax = 0;
    for (vtkIdType c = 0; c < rho->GetNumberOfTuples(); ++c) rmax = std::max(rmax, rho->GetTuple1(c));
    for (vtkIdType c = 0; c < rho->GetNumberOfTuples(); ++c)
      for (int d = 0; d < 2; ++d) {
        jmax = std::max(jmax, std::fabs(J->GetComponent(c, d)));
        if (rho->GetTuple1(c) > 1e-2 * rmax)
          worst = std::max(worst, std::fabs(v->GetComponent(c, d) * rho->GetTuple1(c) -
                                            J->GetComponent(c, d)));
      }
    BOOST_CHECK_LT(worst, 0.15 * jmax);
  }
  double sp[3];
  img->GetSpacing(sp);
  double sum = 0;
  for (vtkIdType c = 0; c < rho->GetNumberOfTuples(); ++c) sum += rho->GetTuple1(c);
  BOOST_CHECK_CLOSE(sum * sp[0] * sp[1], s["mass_final"].get<double>(), 1e-10);
  // No temporary files are left behind.
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir))
    BOOST_CHECK(e.path().extension() != ".tmp");
}

// Product-form laws fill the grid from per-axis tables (O(cells per axis) erfc calls); the cells
// must equal the general per-cell path bit for bit, on any rank count, for the initial, exact
// and stationary laws, and a non-product law must not claim the fast path.
BOOST_AUTO_TEST_CASE(separable_laws_fill_cells_as_the_per_cell_path) {
  register_builtin_problems();
  struct Case {
    std::string problem, options;
    int dim;
    bool separable;
  };
  const std::vector<Case> cases = {
      {"ou", "-ou_theta 2 -ou_sigma 0.7 -ou_mean0 0.5 -ou_var0 0.3", 1, true},
      {"ou", "-ou_theta 1,2 -ou_sigma 1,0.7 -ou_mean0 0.5,-1 -ou_var0 0.3", 2, true},
      {"ou", "-ou_theta 1,2,0.5 -ou_sigma 1,0.7,1.3 -ou_mean0 0.5,-1,0.25 -ou_var0 0.3", 3, true},
      {"heat", "-heat_beta 0.3", 3, true},
      // B with an off-diagonal entry: the law is a correlated Gaussian for t > 0.
      {"ou", "-ou_B 1,0.5,0,1", 2, false},
  };
  for (const auto& c : cases) {
    ScopedOptions opts(c.options);
    auto problem = make_problem(c.problem);
    problem->configure(world(), c.dim);
    GridSpec spec;
    spec.dim = c.dim;
    spec.box = problem->default_box();
    spec.cells = {13, c.dim > 1 ? 11 : 1, c.dim > 2 ? 9 : 1};
    Grid g(world(), spec);
    const double t = 0.37;
    const bool stationary = problem->has_stationary();
    using Law = Problem::Law;
    for (Law law : {Law::initial, Law::exact, Law::stationary}) {
      if (law == Law::stationary && !stationary) continue;
      const AxisAverage sep = problem->separable_average(law, t);
      const CellAverage cell = [&](const double* lo, const double* hi) {
        return law == Law::initial  ? problem->initial_cell_average(lo, hi)
               : law == Law::exact ? problem->exact_cell_average(lo, hi, t)
                                   : problem->stationary_cell_average(lo, hi);
      };
      if (!c.separable && law == Law::exact) {
        BOOST_TEST(!sep, c.problem << " " << c.options << ": a correlated law is not separable");
        continue;
      }
      if (!sep) continue;
      VecH a, b;
      FP_CHECK(DMCreateGlobalVector(g.dm(), a.out()));
      FP_CHECK(VecDuplicate(a, b.out()));
      fill_cell_averages(g, a, ExactAverages{cell, sep});
      fill_cell_averages(g, b, cell);
      PetscReal diff, top;
      FP_CHECK(VecMax(b, nullptr, &top));
      FP_CHECK(VecAXPY(a, -1.0, b));
      FP_CHECK(VecNorm(a, NORM_INFINITY, &diff));
      BOOST_TEST(top > 0);
      BOOST_TEST(diff == 0.0, c.problem << " dim " << c.dim << " law " << int(law) << ": |diff| "
                                        << diff);
      // The norms take the same values through both paths (scaled, as the stationary check is).
      const ErrorNorms e1 = error_norms(g, b, ExactAverages{cell, sep}, 1.5);
      const ErrorNorms e2 = error_norms(
          g, b, [&](const double* lo, const double* hi) { return 1.5 * cell(lo, hi); });
      BOOST_TEST(e1.L1 == e2.L1);
      BOOST_TEST(e1.L2 == e2.L2);
      BOOST_TEST(e1.Linf == e2.Linf);
    }
  }
}
