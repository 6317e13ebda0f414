// apps/run_builder.hpp — builds the pieces of a run from its RunConfig: problem, grid, operator,
// initial density and stepper, each by one function with one job, so that apps and tests can
// compose them (several solves on one grid, a grid without a run, ...).
#pragma once

#include "apps/run_config.hpp"
#include "io/output.hpp"

#include <memory>

namespace fpflow {

// The named problem, configured from its own options for `dim` dimensions.
std::unique_ptr<Problem> build_problem(MPI_Comm comm, const ProblemChoice& choice);

// The grid of `config` (cells from -da_grid_*, checked against this run's memory footprint),
// and the problem told its box and walls.
std::unique_ptr<Grid> build_grid(MPI_Comm comm, RunConfig& config, Problem& problem);

// The operator of the run; warns (rank 0) when its matrix is not monotone. `mono` receives the
// sign structure at t = 0.
std::unique_ptr<FokkerPlanckOperator> build_operator(const Grid& grid, const Problem& problem,
                                                     const RunConfig& config, Monotonicity& mono);

// The initial density as exact cell averages (rescaled to unit mass if the problem asks),
// checked finite, non-negative and of positive mass. Returns its mass.
double initial_density(const Grid& grid, const Problem& problem, VecH& rho);

// The time stepper (TS reads its options here), with config.stepper.t_final taken back from TS
// so that every piece agrees on the final time.
std::unique_ptr<TimeStepper> build_stepper(FokkerPlanckOperator& op, RunConfig& config,
                                           bool positivity);

}  // namespace fpflow
