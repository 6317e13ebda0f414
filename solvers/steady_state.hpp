// solvers/steady_state.hpp — the stationary law L rho = 0 with the mass of the initial data.
//
// Shifted inverse iteration: (sigma I - J) rho_{k+1} = sigma rho_k, then rescale to the initial
// mass. J is the assembled operator matrix (exact for the linear schemes sg and upwind), so each
// solve is a non-singular M-matrix system — the same kind as a backward-Euler step with
// dt = 1/sigma — and geometric multigrid on the DMDA hierarchy applies unchanged (default for
// 2-D/3-D; LU in 1-D). Every non-stationary mode is damped by sigma/(sigma + lambda) per
// iteration, lambda >= the spectral gap, so a small shift (default 1e-8 x the largest diagonal of
// J) converges in a few iterations; the stationary mode is what the near-singular solve
// amplifies. Stops when ||L rho||_1 <= tol * max_rate * ||rho||_1.
// Options (prefix steady_): -steady_tol, -steady_max_it, -steady_shift, and the linear solver as
// -steady_ksp_* / -steady_pc_* (e.g. -steady_pc_type hypre).
#pragma once

#include "operators/fp_operator.hpp"

#include <nlohmann/json.hpp>

namespace fpflow {

// Levels for geometric multigrid: halve every axis while it stays divisible, >= 4 cells and
// >= the stencil width (at least 2) per rank along the axis.
int multigrid_levels(const Grid& g);

struct SteadyResult {
  int iterations = 0;          // outer (inverse-iteration) steps
  int krylov_iterations = 0;   // summed over the linear solves
  double residual = 0;         // ||L rho||_1 / (max_rate ||rho||_1)
  double mass = 0;
  bool converged = false;
  nlohmann::json to_json() const;
};

struct SteadyOptions {
  double tol = 1e-10, shift = 1e-8;
  PetscInt max_it = 30;
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
  double tol_, shift_rel_;
  PetscInt max_it_;
};

}  // namespace fpflow
