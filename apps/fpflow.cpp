// apps/fpflow.cpp — the fpflow executable: evolve a probability density on a grid.
//
// Sample runs, from the repository root with `fpflow` the built executable (build/fpflow); a
// command and its note are separated by three or more spaces. tests/doc_commands.py runs every
// one of them (shortened where noted there), so they stay true:
//   fpflow                                             2-D OU, exact solution, VTK in fpflow-out/
//   fpflow -problem heat -dim 2 -da_grid_x 128 -da_grid_y 128 -output out/heat
//   mpirun -n 2 fpflow -problem ou -dim 3 -da_grid_x 64 -da_grid_y 64 -da_grid_z 64
//   fpflow -problem ou -dim 2 -ts_type beuler -ts_dt 1e-2 -pc_type mg    geometric multigrid (2-D, 3-D)
//   fpflow -problem ou -dim 1 -ts_type beuler -ts_dt 1e-3 -pc_type lu    1-D: a direct solve
//   fpflow -problem heat -bc absorbing -ts_max_time 2      (absorbed mass in summary.json)
//   fpflow -problem heat -dim 1 -bc absorbing:reflecting -box_lo 0 -box_hi 1 -heat_mean 0.3   first passage
//   fpflow -options_file apps/examples/custom_ou.opts      (a problem defined at run time)
//   fpflow -help                                       every option, with defaults
//   mpirun -n 2 fpflow verify -output verify-out       grid against particles (verify.json, PNGs)
//   fpflow bench -output bench-out                     performance tables and bench.json
#include "apps/bench.hpp"
#include "apps/driver.hpp"
#include "apps/verify.hpp"
#include "core/options.hpp"

#include <cstdio>
#include <iostream>

namespace {

// The -help intro. The problem list comes from the registry -problem dispatches on, so a new
// problem appears here by being registered.
std::string help_intro() {
  fpflow::register_builtin_problems();
  std::string s = "fpflow: finite-volume Fokker-Planck solver (PETSc DMDA + TS, VTK output).\n"
                  "Problems (-problem NAME):\n";
  for (const auto& name : fpflow::problem_names()) {
    std::string pad(name.size() < 14 ? 14 - name.size() : 1, ' ');
    s += "  " + name + pad + fpflow::make_problem(name)->description() + "\n";
  }
  s += "Grid: -dim, -da_grid_x/y/z, -box_lo/-box_hi, -bc KIND or LO:HI per axis\n"
       "  (KIND = reflecting|absorbing|periodic, e.g. -bc absorbing:reflecting,periodic).\n"
       "Scheme: -fp_scheme sg|muscl|upwind|pflow. Time: -ts_type, -ts_dt, -ts_max_time, or -steady.\n"
       "Output: -output DIR (summary.json, options.txt, fpflow.pvd).\n"
       "Subcommand: fpflow verify [-case NAME,...] [-output DIR] [-inject_fault] runs the\n"
       "grid-versus-particles verification suite (fpflow verify -list names the cases).\n"
       "Subcommand: fpflow bench [-output DIR] [-quick] measures bandwidth, explicit and implicit\n"
       "throughput against a PETSc baseline (bench.json; tools/bench.py runs 1 and 2 ranks).\n\n";
  return s;
}

// Options given but never read: a warning, or an error with -options_left (checked after the
// run because PETSc reads some options only while solving, e.g. -ksp_converged_reason).
void check_unused_options(bool root) {
  std::string unused;
  for (const auto& o : fpflow::unused_options())
    if (o != "-options_left") unused += (unused.empty() ? "" : " ") + o;
  if (unused.empty()) return;
  PetscBool strict = PETSC_FALSE, set = PETSC_FALSE;
  FP_CHECK(PetscOptionsGetBool(nullptr, nullptr, "-options_left", &strict, &set));
  if (set && strict)
    throw fpflow::Error("unused option(s): " + unused + " (misspelt? see fpflow -help)");
  if (!set && root)
    std::fprintf(stderr, "fpflow: warning: option(s) not used: %s (see fpflow -help)\n",
                 unused.c_str());
}

}  // namespace

int main(int argc, char** argv) {
  int code = 0;
  // `fpflow verify ...` runs the verification suite; the word is not a PETSc option.
  const bool verify = argc > 1 && std::string(argv[1]) == "verify";
  const bool bench = argc > 1 && std::string(argv[1]) == "bench";
  if (verify || bench) {
    for (int i = 1; i + 1 < argc; ++i) argv[i] = argv[i + 1];
    --argc;
  }
  try {
    const std::string help = help_intro();  // PETSc prints it during initialisation
    fpflow::Session session(&argc, &argv, help.c_str());
    const MPI_Comm comm = PETSC_COMM_WORLD;
    const bool root = fpflow::comm_rank(comm) == 0;
    std::string output = "fpflow-out";
    if (verify || bench) {
      try {
        code = verify ? fpflow::run_verify(comm) : fpflow::run_bench(comm);
        check_unused_options(root);
      } catch (const std::exception& e) {
        if (root)
          std::fprintf(stderr, "fpflow: error: %s: %s\n", verify ? "verify" : "bench", e.what());
        code = 1;
      }
      return code;
    }
    try {
      {
        char buf[4096] = {0};
        PetscBool set = PETSC_FALSE;
        FP_CHECK(PetscOptionsGetString(nullptr, nullptr, "-output", buf, sizeof(buf), &set));
        if (set) output = buf;
      }
      const bool want_help = fpflow::option_given("-help");
      fpflow::Simulation sim(comm);
      if (want_help) {
        PetscInt dim = 2;
        FP_CHECK(PetscOptionsGetInt(nullptr, nullptr, "-dim", &dim, nullptr));
        fpflow::print_all_problem_help(comm, int(dim));
        return 0;
      }
      const auto summary = sim.run();
      check_unused_options(root);
      if (root) {
        std::printf("fpflow: %s %dD, %s cells, ", summary["problem"].get<std::string>().c_str(),
                    summary["dim"].get<int>(), summary["cells"].dump().c_str());
        if (summary.contains("steady"))
          std::printf("stationary law in %d iterations (residual %.2e)",
                      summary["steady"]["iterations"].get<int>(),
                      summary["steady"]["residual"].get<double>());
        else
          std::printf("t = %g in %lld steps", summary["t_final"].get<double>(),
                      summary["steps"].get<long long>());
        std::printf(", mass %.15g -> %.15g", summary["mass_initial"].get<double>(),
                    summary["mass_final"].get<double>());
        if (summary.contains("error"))
          std::printf(", L1 error %.3e", summary["error"]["L1"].get<double>());
        std::printf("\nfpflow: summary in %s/summary.json\n", sim.output_dir().c_str());
      }
    } catch (const fpflow::RunFailed& e) {
      // The full summary, marked failed with this reason, is written already.
      if (root) std::fprintf(stderr, "fpflow: error: %s\n", e.what());
      code = 1;
    } catch (const std::exception& e) {
      if (root) std::fprintf(stderr, "fpflow: error: %s\n", e.what());
      fpflow::write_failure_summary(comm, output, e.what());
      code = 1;
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fpflow: error: %s\n", e.what());
    code = 1;
  }
  return code;
}
