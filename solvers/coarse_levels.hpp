// solvers/coarse_levels.hpp — the operator rediscretised on the coarse grids of geometric
// multigrid.
//
// PCMG coarsens the fine DMDA and asks for a matrix on each coarse DM (through the TS or KSP
// callback that assembles the fine one). Galerkin products R A P with the cell-centred Q0
// transfer over-weight diffusion by 2 per level, and their iteration counts grow with the
// number of levels; the operator sampled afresh on each coarse grid does not. PCMG restricts a
// residual by summing the fine cells (the transpose of Q0 injection), so the coarse matrix is
// scaled by the cell-volume ratio to act on summed residuals.
// Used by the implicit time stepper (IJacobian, the default with -pc_type mg) and by the steady
// solver (KSP operators for its sigma I - J preconditioner, see steady_state.hpp).
#pragma once

#include "operators/fp_operator.hpp"

#include <map>
#include <memory>

namespace fpflow {

class CoarseLevels {
 public:
  explicit CoarseLevels(FokkerPlanckOperator& fine) : fine_(fine) {}

  // P = scale (shift I - L_part(t)) on the grid of P's DM (the fine operator when P has no DM
  // or the fine one, scale 1 there). With time-independent coefficients a level whose matrix
  // already holds this shift is left untouched, so that KSP keeps its preconditioner.
  // A nonlinear fine operator is linearised at `state` (coarse levels without limiting).
  // Returns whether P was (re)assembled.
  bool assemble(double t, double shift, Part part, Mat P, Vec state = nullptr);

 private:
  struct Level {
    std::unique_ptr<Grid> grid;
    std::unique_ptr<FokkerPlanckOperator> op;
    double shift = -1;  // < 0: not assembled yet
  };
  FokkerPlanckOperator& fine_;
  double fine_shift_ = -1;
  std::map<PetscObjectId, Level> levels_;  // keyed by the coarse DM's object id
};

}  // namespace fpflow
