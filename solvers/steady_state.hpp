// solvers/steady_state.hpp — the stationary law F(rho) = 0 with the mass of the initial data.
//
// Newton-Krylov on the operator F(rho) = L rho (flux form: every column of its Jacobian J sums
// to 0, so range(J) is the zero-mass vectors and null(J) the stationary law, whose mass is not
// zero). Each outer step solves for a zero-mass correction,
//     J delta = -F(rho),  sum(delta) = 0,  rho <- rho + delta,
// a non-singular problem on the zero-mass vectors: GMRES applies J to Pi x = x - (sum x /
// sum rho) rho, and the correction is Pi x, so the mass never drifts and no near-null
// direction is amplified. GMRES is right-preconditioned (its residual is F itself) by one
// multigrid cycle for sigma I - J: rediscretised coarse levels, full multigrid, Richardson + SOR,
// the backward-Euler hierarchy of the time stepper with dt = 1/sigma (LU in 1-D and on grids that
// do not halve, where multigrid would be a lone smoother: 111 iterations at 99^2). sigma is
// shift x the largest rate of L on the coarsest multigrid grid (4-7 cells per axis when the grid
// halves that far), a rate set by the problem, not by the fine grid, so the Krylov iterations do
// not grow under refinement; sigma I - J is never near-singular on any level. Smaller shifts
// cluster the spectrum better but make the cycle a worse approximation (breakdowns below ~1e-3);
// larger ones leave more slow modes to GMRES (docs/PERFORMANCE.md). For today's linear schemes J
// is exact and one outer step converges. Stops when ||F(rho)||_1 <= tol * max_rate * ||rho||_1
// (default 1e-12: max_rate grows like h^-2, and at 1e-10 the solver error was 0.2 % of the
// discretisation error at 1024^2).
// A metastable law (double well with small eps) has a spectral gap far below max_rate: its
// error is up to residual / gap, so such problems need a smaller -steady_tol.
// Options (prefix steady_): -steady_tol, -steady_max_it, -steady_shift, and the linear solver as
// -steady_ksp_* / -steady_pc_* / -steady_mg_levels_* (e.g. -steady_pc_type lu).
#pragma once

#include "operators/fp_operator.hpp"

#include <nlohmann/json.hpp>

namespace fpflow {

// Levels for geometric multigrid: halve every axis while it stays divisible, >= 4 cells and
// >= the stencil width (at least 2) per rank along the axis.
int multigrid_levels(const Grid& g);

struct SteadyResult {
  int iterations = 0;          // outer (Newton) steps
  int krylov_iterations = 0;   // summed over the linear solves
  double residual = 0;         // ||L rho||_1 / (max_rate ||rho||_1)
  double mass = 0;
  double shift = 0;            // sigma of the preconditioner (absolute rate)
  bool converged = false;
  bool projected = false;      // solver-tolerance negatives set to 0 (time_stepper.hpp)
  nlohmann::json to_json() const;
};

struct SteadyOptions {
  double tol = 1e-12;
  // sigma / (largest rate on the coarsest multigrid grid). Unless given: 0.03 with multigrid;
  // 1e-6 with a direct solve (LU: exact for any sigma, and the smaller sigma the fewer
  // Krylov iterations, down to round-off).
  double shift = 0.03;
  bool shift_given = false;
  PetscInt max_it = 30;
  bool max_it_given = false;
};
// Reads -steady_tol, -steady_max_it, -steady_shift (read on every run, so -help lists them).
SteadyOptions read_steady_options(MPI_Comm comm);

class SteadyState {
 public:
  SteadyState(FokkerPlanckOperator& op, const SteadyOptions& opt);
  // rho: initial guess in, stationary density (same mass) out.
  SteadyResult solve(Vec rho);

 private:
  FokkerPlanckOperator& op_;
  SteadyOptions opt_;
};

}  // namespace fpflow
