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
#include "core/input_checks.hpp"
#include "core/options.hpp"
#include "core/signals.hpp"
#include "io/output.hpp"

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
       "Scheme: -fp_scheme sghr|sg|muscl|upwind|pflow, -fp_cross limited|monotone|average.\n"
       "Time: -ts_type, -ts_dt, -ts_max_time, or -steady.\n"
       "Output: -output DIR (summary.json, options.txt, fpflow.pvd).\n"
       "Subcommand: fpflow verify [-case NAME,...] [-output DIR] [-inject_fault] runs the\n"
       "grid-versus-particles verification suite (fpflow verify -list names the cases).\n"
       "Subcommand: fpflow bench [-output DIR] [-quick] measures bandwidth, explicit and implicit\n"
       "throughput against a PETSc baseline (bench.json; tools/bench.py runs 1 and 2 ranks).\n\n";
  return s;
}


// The record a failed or interrupted invocation leaves in its output directory.
std::string record_name(const std::string& subcommand) {
  return subcommand.empty() ? "summary.json" : subcommand + ".json";
}

// The -output the options database holds now (command line, options files, PETSC_OPTIONS).
std::string output_option(const std::string& fallback) {
  char buf[4096] = {0};
  PetscBool set = PETSC_FALSE;
  if (PetscOptionsGetString(nullptr, nullptr, "-output", buf, sizeof(buf), &set) == 0 && set &&
      buf[0])
    return buf;
  return fallback;
}

// `fpflow verify ...` / `fpflow bench ...`, with the subcommand named in its errors.
int run_subcommand(const std::string& sub, MPI_Comm comm) {
  try {
    const int code = sub == "verify" ? fpflow::run_verify(comm) : fpflow::run_bench(comm);
    fpflow::check_unused_options(comm, true);
    return code;
  } catch (const fpflow::OutputBusy& e) {
    throw fpflow::OutputBusy(sub + ": " + e.what());
  } catch (const fpflow::Error& e) {
    throw fpflow::Error(sub + ": " + e.what());
  }
}

// One run (or -help's listing of every problem's options).
int run_simulation(MPI_Comm comm) {
  const bool want_help = fpflow::option_given("-help");
  fpflow::Simulation sim(comm);
  if (want_help) {
    PetscInt dim = 2;
    FP_CHECK(PetscOptionsGetInt(nullptr, nullptr, "-dim", &dim, nullptr));
    fpflow::print_all_problem_help(comm, int(dim));
    return 0;
  }
  // Every fpflow option has been read by now: a misspelt one fails before any work; solver
  // options PETSc reads while solving are checked again after the run.
  fpflow::check_unused_options(comm, false);
  const fpflow::RunSummary summary = sim.run();
  fpflow::check_unused_options(comm, true);
  if (fpflow::comm_rank(comm) == 0) fpflow::print_summary_line(summary, sim.output_dir());
  return 0;
}

// A stop request: a run has written its summary itself; verify and bench are marked here.
int report_interrupt(const fpflow::Interrupted& e, const std::string& sub,
                     const std::string& output) {
  const MPI_Comm world = MPI_COMM_WORLD;
  const std::string where =
      sub.empty() ? e.what() : std::string(e.what()) + "; " + output + "/" + record_name(sub) +
                                   " says \"interrupted\"";
  if (fpflow::comm_rank(world) == 0)
    std::fprintf(stderr, "fpflow: interrupted by %s: %s\n", fpflow::stop_signal_name(),
                 where.c_str());
  if (!sub.empty())
    fpflow::write_status_record(world, output, record_name(sub), "interrupted",
                                {{"signal", fpflow::stop_signal_name()}, {"error", e.what()}});
  return fpflow::stop_exit_code();
}

}  // namespace

int main(int argc, char** argv) {
  // A stop request is honoured from the start (and the handlers are installed again after
  // PetscInitialize, which may install its own).
  fpflow::install_stop_handlers();
  // MPI first, so that the command line is checked collectively (one line, from rank 0) before
  // PETSc reads it, and failures are reported after PETSc has finished.
  fpflow::MpiRuntime mpi(&argc, &argv);
  const MPI_Comm world = MPI_COMM_WORLD;
  const bool root = fpflow::comm_rank(world) == 0;
  fpflow::CommandLine line;
  std::string output;
  // Every failure: one line on stderr, and a failure record where an earlier success could
  // otherwise stand (not in a directory another run holds).
  auto fail = [&](const std::string& what, bool record) {
    if (root) std::fprintf(stderr, "fpflow: error: %s\n", what.c_str());
    if (record)
      fpflow::write_status_record(world, output, record_name(line.subcommand), "failed",
                                  {{"error", what}});
    return 1;
  };
  try {
    fpflow::check_command_line(world, argc, argv, line);
  } catch (const std::exception& e) {
    output = line.output;
    return fail(e.what(), true);
  }
  output = line.output;
  // `fpflow verify ...` / `fpflow bench ...`: the word is not a PETSc option.
  const std::string sub = line.subcommand;
  if (!sub.empty()) {
    for (int i = 1; i + 1 < argc; ++i) argv[i] = argv[i + 1];
    --argc;
  }
  try {
    const std::string help = help_intro();  // PETSc prints it during initialisation
    fpflow::Session session(&argc, &argv, help.c_str());
    fpflow::install_stop_handlers();
    output = output_option(output);
    fpflow::check_numeric_options();
    return sub.empty() ? run_simulation(PETSC_COMM_WORLD) : run_subcommand(sub, PETSC_COMM_WORLD);
  } catch (const fpflow::Interrupted& e) {
    return report_interrupt(e, sub, output);
  } catch (const fpflow::OutputBusy& e) {
    return fail(e.what(), false);
  } catch (const std::exception& e) {
    return fail(e.what(), true);
  }
}
