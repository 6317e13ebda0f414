// apps/run_builder.cpp — the construction steps of a run (run_builder.hpp).
#include "apps/run_builder.hpp"

#include "core/input_checks.hpp"
#include "core/profiling.hpp"
#include "verification/norms.hpp"

#include <cmath>
#include <cstdio>

namespace fpflow {

std::unique_ptr<Problem> build_problem(MPI_Comm comm, const ProblemChoice& choice) {
  auto problem = make_problem(choice.name);
  problem->configure(comm, choice.dim);
  return problem;
}

std::unique_ptr<Grid> build_grid(MPI_Comm comm, RunConfig& config, Problem& problem) {
  GridSpec& spec = config.grid;
  const int dim = config.problem.dim;
  spec.stencil_width = FokkerPlanckOperator::stencil_width(config.scheme);
  spec.box_stencil = !problem.diagonal_diffusion() && dim > 1;
  // The per-cell footprint the grid is checked against before allocation (core/resources.hpp).
  RunFootprint& f = spec.footprint;
  f.dim = dim;
  f.box_stencil = spec.box_stencil;
  f.frames = config.output.vtk && !config.help_only;
  f.flow_fields = config.output.flow_fields;
  f.implicit = config.mode != RunMode::explicit_steps;
  auto grid = std::make_unique<Grid>(comm, spec);
  problem.set_domain(grid->box(), {grid->boundary(0), grid->boundary(1), grid->boundary(2)});
  return grid;
}

std::unique_ptr<FokkerPlanckOperator> build_operator(const Grid& grid, const Problem& problem,
                                                     const RunConfig& config, Monotonicity& mono) {
  auto op = std::make_unique<FokkerPlanckOperator>(grid, problem, config.scheme, config.limiter,
                                                   config.cross);
  mono = op->monotonicity(0.0);
  if (!mono.monotone && comm_rank(grid.comm()) == 0 && !config.help_only)
    std::fprintf(stderr,
                 "fpflow: warning: the operator matrix is not monotone (off-diagonal %.3g x "
                 "diagonal at x = %s): positivity is not guaranteed. Cross-diffusion needs "
                 "|a_ij| <= min(a_ii h_j/h_i, a_jj h_i/h_j), tighter under strong drift%s\n",
                 mono.worst, mono.where.c_str(),
                 config.cross == CrossMode::limited
                     ? ""
                     : "; -fp_cross limited (the default) guarantees rho >= 0");
  return op;
}

double initial_density(const Grid& grid, const Problem& problem, VecH& rho) {
  FP_CHECK(DMCreateGlobalVector(grid.dm(), rho.out()));
  FP_CHECK(PetscObjectSetName((PetscObject)rho.get(), "density"));
  ProfileEvent ev(profiling().initial_data);
  fill_cell_averages(grid, rho,
                     ExactAverages{[&](const double* lo, const double* hi) {
                                     return problem.initial_cell_average(lo, hi);
                                   },
                                   problem.separable_average(Problem::Law::initial, 0.0)});
  std::string bad;
  {
    VecArrayRead a(rho);
    for (PetscInt c = 0; c < grid.owned_cells() && bad.empty(); ++c)
      if (!std::isfinite(a[c]) || a[c] < 0)
        bad = "initial density is " + std::to_string(a[c]) +
              " in a cell; it must be finite and non-negative";
  }
  throw_if_any(grid.comm(), bad);
  double m = mass(grid, rho);
  if (!(m > 0)) throw Error("initial density has zero mass on the grid (check the box)");
  if (problem.normalize_initial()) {
    FP_CHECK(VecScale(rho, 1.0 / m));
    m = mass(grid, rho);
  }
  return m;
}

std::unique_ptr<TimeStepper> build_stepper(FokkerPlanckOperator& op, RunConfig& config,
                                           bool positivity) {
  config.stepper.enforce_positivity = positivity;
  auto stepper = std::make_unique<TimeStepper>(op, config.stepper);
  // TS reads -ts_max_time itself; take its value back so everything agrees on t_final.
  PetscReal tmax;
  FP_CHECK(TSGetMaxTime(stepper->ts(), &tmax));
  config.stepper.t_final = tmax;
  check_time_span(stepper->ts());
  return stepper;
}

}  // namespace fpflow
