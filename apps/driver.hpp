// apps/driver.hpp — one fpflow run end to end: options -> problem, grid, operator, TS -> solve
// -> VTK series and summary.json. Used by the fpflow executable and by the tests.
#pragma once

#include "io/output.hpp"
#include "io/vtk_writer.hpp"
#include "operators/fp_operator.hpp"
#include "problems/problem.hpp"
#include "solvers/steady_state.hpp"
#include "solvers/time_stepper.hpp"

#include <nlohmann/json.hpp>

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
  // Reads every option (so -help lists them all) and sets everything up; no time stepping yet.
  explicit Simulation(MPI_Comm comm);
  // Integrates to the final time, writes output; returns the summary (also in summary.json).
  // Stopped by SIGINT/SIGTERM (core/signals.hpp): writes the last state as a frame and the
  // summary with "status": "interrupted", then throws Interrupted.
  nlohmann::json run();

  const Grid& grid() const { return *grid_; }
  Vec solution() const { return rho_; }
  const Problem& problem() const { return *problem_; }
  FokkerPlanckOperator& op() { return *op_; }
  const std::string& output_dir() const { return output_; }
  // Called after every accepted time step (and at t = 0) with the current density; a step that
  // is rolled back is reported again with an earlier step number. Set before run().
  void on_step(std::function<void(PetscInt, double, Vec)> hook) { step_hook_ = std::move(hook); }
  // Writes one VTK frame of rho at time t (requires -vtk; fpflow bench times it).
  void write_frame(double t, Vec rho);

 private:
  std::string resolved_options() const;
  std::string broken_promise(const nlohmann::json& summary) const;
  double linear_rtol() const;

  MPI_Comm comm_;
  OutputLock output_lock_;  // this run's claim on its output directory (io/output.hpp)
  std::unique_ptr<Problem> problem_;
  std::unique_ptr<Grid> grid_;
  std::unique_ptr<FokkerPlanckOperator> op_;
  std::unique_ptr<TimeStepper> stepper_;
  std::unique_ptr<SteadyState> steady_solver_;
  SteadyOptions steady_options_;
  std::unique_ptr<VtkSeriesWriter> writer_;
  VecH rho_;
  std::string problem_name_, output_, vtk_compressor_ = "lz4";
  Scheme scheme_ = Scheme::sg;
  kernels::Limiter limiter_ = kernels::Limiter::vanleer;
  CrossMode cross_ = CrossMode::limited;
  Monotonicity monotone_;
  double t_final_ = 1, mass0_ = 0;
  PetscInt output_every_ = 0, last_frame_step_ = -1;
  bool steady_ = false;
  std::function<void(PetscInt, double, Vec)> step_hook_;
  bool flow_fields_ = true;
  double pf_floor_ = 1e-12;
};

// Prints the options of every registered problem (for -help), without running anything.
void print_all_problem_help(MPI_Comm comm, int dim);

// Writes {"status": "failed", "error": message} as summary.json if `dir` is usable (rank 0) and
// not another run's (io/output.hpp write_status_record).
void write_failure_summary(MPI_Comm comm, const std::string& dir, const std::string& message);

}  // namespace fpflow
