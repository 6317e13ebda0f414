// apps/driver.hpp — one fpflow run, composed from the pipeline's pieces:
//   RunConfig (apps/run_config.hpp: every option, read and checked once)
//   -> the builder (apps/run_builder.hpp: problem, grid, operator, initial density, stepper)
//   -> one solve (time stepping, or -steady) with its observers (apps/observers.hpp: VTK
//      frames, user hooks, snapshots)
//   -> the run's promises checked (apps/promises.hpp) -> RunSummary (apps/run_summary.hpp),
//      written as summary.json with options.txt.
// Used by the fpflow executable, `fpflow verify`, `fpflow bench` and the tests. Further solves on
// the same grid (the adjoint backward in time, ...) take the built pieces: apps/solves.hpp.
#pragma once

#include "apps/observers.hpp"
#include "apps/run_config.hpp"
#include "apps/run_summary.hpp"
#include "io/output.hpp"
#include "io/vtk_writer.hpp"

#include <functional>
#include <memory>
#include <string>

namespace fpflow {

// A run that finished but broke a promise (ended early, lost mass, went negative): its full
// summary.json, with "status": "failed" and the reason, is already written.
class RunFailed : public Error {
 public:
  using Error::Error;
};

class Simulation {
 public:
  // Reads every option (so -help lists them all) and builds the run; no time stepping yet.
  explicit Simulation(MPI_Comm comm);
  // Solves, writes output (frames, summary.json, options.txt) and returns the summary.
  // Throws RunFailed after writing a "failed" summary; stopped by SIGINT/SIGTERM
  // (core/signals.hpp), writes the last state and an "interrupted" summary, then throws
  // Interrupted.
  RunSummary run();

  const RunConfig& config() const { return config_; }
  const Grid& grid() const { return *grid_; }
  Vec solution() const { return rho_; }
  const Problem& problem() const { return *problem_; }
  FokkerPlanckOperator& op() { return *op_; }
  // Null for -steady.
  TimeStepper* stepper() { return stepper_.get(); }
  double initial_mass() const { return mass0_; }
  const std::string& output_dir() const { return config_.output.dir; }
  // Called after every accepted time step (and at t = 0) with the current density; a step that
  // is rolled back is reported again with an earlier step number. Set before run().
  void on_step(std::function<void(PetscInt, double, Vec)> hook);
  // Attaches another observer to the run's solve (not owned; must outlive run()).
  void attach(SolveObserver& observer) { observers_.attach(observer); }
  // Writes one VTK frame of rho at time t (requires -vtk; fpflow bench times it).
  void write_frame(double t, Vec rho);

 private:
  void build_output();
  SteadyResult solve();
  RunSummary summarise(const SteadyResult* steady, double wall) const;
  void describe(RunSummary& s) const;
  void account_mass(RunSummary& s) const;
  void measure_error(RunSummary& s) const;
  void write_records(const RunSummary& s) const;

  MPI_Comm comm_;
  RunConfig config_;
  OutputLock output_lock_;  // this run's claim on its output directory (io/output.hpp)
  std::unique_ptr<Problem> problem_;
  std::unique_ptr<Grid> grid_;
  std::unique_ptr<FokkerPlanckOperator> op_;
  std::unique_ptr<TimeStepper> stepper_;
  std::unique_ptr<VtkSeriesWriter> writer_;
  std::unique_ptr<FrameObserver> frames_;
  std::unique_ptr<CallbackObserver> hook_;
  ObserverList observers_;
  Monotonicity monotone_;
  VecH rho_;
  double mass0_ = 0;
};

// Prints the options of every registered problem (for -help), without running anything.
void print_all_problem_help(MPI_Comm comm, int dim);

// Writes {"status": "failed", "error": message} as summary.json if `dir` is usable (rank 0) and
// not another run's (io/output.hpp write_status_record).
void write_failure_summary(MPI_Comm comm, const std::string& dir, const std::string& message);

}  // namespace fpflow
