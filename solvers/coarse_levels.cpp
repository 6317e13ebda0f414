// solvers/coarse_levels.cpp — multigrid coarse operators by rediscretisation (see the header).
#include "solvers/coarse_levels.hpp"

namespace fpflow {

bool CoarseLevels::assemble(double t, double shift, Part part, Mat P, Vec state) {
  FokkerPlanckOperator* op = &fine_;
  double* cached = &fine_shift_;
  double scale = 1.0;
  DM dm = nullptr;
  FP_CHECK(MatGetDM(P, &dm));
  if (dm && dm != fine_.grid().dm()) {
    PetscObjectId id;
    FP_CHECK(PetscObjectGetId((PetscObject)dm, &id));
    Level& level = levels_[id];
    if (!level.op) {
      level.grid = std::make_unique<Grid>(dm, fine_.grid());
      level.op = fine_.on_grid(*level.grid);
    }
    op = level.op.get();
    cached = &level.shift;
    scale = level.grid->cell_volume() / fine_.grid().cell_volume();
  }
  // A nonlinear (limited) fine operator is linearised afresh at every state; coarse levels are
  // its linearisation without limiting, which depends on the shift only.
  const bool fine = op == &fine_;
  const bool state_dependent = fine && !fine_.linear() && part == Part::full;
  if (op->time_independent() && *cached == shift && !state_dependent) return false;
  op->assemble_jacobian(t, P, part, true, fine ? state : nullptr);
  FP_CHECK(MatScale(P, -scale));
  FP_CHECK(MatShift(P, shift * scale));
  *cached = shift;
  return true;
}

}  // namespace fpflow
