// apps/run_summary.hpp — what a finished run reports, as typed data.
//
// The pieces of a run (the stepper, the steady solver, the norms, the output) fill a RunSummary;
// it becomes JSON only when written (summary.json) or printed. Callers (fpflow, verify, bench,
// tests) read the typed fields, never parse the JSON back.
#pragma once

#include "apps/run_config.hpp"
#include "solvers/steady_state.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace fpflow {

// Distance of the grid to a closed-form law (problems/reference.hpp says whether that law is
// the solution on the run's box and walls: valid -> "error", else "reference_error").
struct NormReport {
  double L1 = 0, L2 = 0, Linf = 0;
  std::string reference;  // which law
  std::string against;    // "stationary law", or empty for the transient exact law
  double tail_mass = -1;  // mass of the law outside the box, when known
  bool valid = true;
  std::string why;        // why the law is not the solution here (valid = false)
};

struct StepsReport {
  std::string ts_type;
  RunMode mode = RunMode::explicit_steps;
  bool fused = false;
  double dt_initial = 0, t_final = 0, t_requested = 0;
  std::string stop_reason;
  PetscInt steps = 0, rejected = 0, projections = 0;
  double dt_min = 0, dt_max = 0;
  // Implicit and IMEX runs: the solver's work.
  PetscInt linear_iterations = 0, nonlinear_iterations = 0;
  // -until_stationary: whether it was reached, and the last residual (< 0: not asked).
  bool stationary_reached = false;
  double stationary_residual = -1;
};

struct RunSummary {
  std::string status = "ok";  // ok | failed | interrupted
  std::string failure;        // why, when failed
  std::string signal;         // which, when interrupted
  double t_interrupted_target = 0;

  std::string problem, description;
  nlohmann::json parameters;  // the problem's own, as it reports them
  int dim = 0;
  std::vector<PetscInt> cells;
  std::vector<double> box_lo, box_hi;
  std::vector<std::string> boundaries;
  int ranks = 1;
  std::string scheme;
  std::optional<std::string> limiter, cross_stencil;
  Monotonicity monotonicity;
  bool positivity_guaranteed = false;

  std::optional<StepsReport> steps;    // time runs
  std::optional<SteadyResult> steady;  // -steady runs

  double mass_initial = 0, mass_final = 0, min_density = 0;
  double absorbed_mass = 0;
  std::string absorbed_method = "none";
  std::vector<std::pair<std::string, double>> absorbed_by_side;  // {"x_lo", mass}, ...
  double mass_balance_error = 0;
  double wall_seconds = 0, cell_updates_per_second = 0;

  std::optional<NormReport> norms;  // against the exact or stationary law
  std::optional<std::pair<std::string, int>> vtk;  // the .pvd and its frame count

  bool ok() const { return status == "ok"; }
  // The time the run reached (0 for -steady).
  double t_final() const { return steps ? steps->t_final : 0.0; }
  nlohmann::json to_json() const;
};

// One line on stdout: what ran and how it ended (fpflow's closing line).
void print_summary_line(const RunSummary& s, const std::string& dir);

}  // namespace fpflow
