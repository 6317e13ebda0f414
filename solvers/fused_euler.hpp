// solvers/fused_euler.hpp — "fpeuler", a PETSc TS type for forward Euler in one memory pass.
//
// PETSc's TSEULER computes F = L(rho) into a work vector (after a full global-to-local copy),
// then rho_new = rho + dt F (VecAYPX) and copies it back (VecCopy): about 7 vector passes per
// step for an update that needs two (read rho, write rho_new). fpeuler takes the step with
// LinearStencil::euler: ghosts exchanged without copying the owned cells
// (Grid::update_ghosts), rho_new written into a second buffer which then becomes the solution
// by swapping arrays (VecPlaceArray/VecResetArray), so nothing is copied. Positivity: with
// dt <= 1/rate (the operator's largest outflow rate) every weight of the update is >= 0, so a
// non-negative state stays non-negative and nothing needs checking; with a larger dt each new
// state is checked (min, max, finiteness, a cache-hot second pass per line) and a negative or
// non-finite one is rejected and the step retried at half the size (up to -ts_max_reject times,
// then TS_DIVERGED_STEP_REJECTED with the state left as it was).
//
// It is a registered TS type (TSRegister), so TSSolve, monitors, -ts_max_steps, -ts_monitor,
// TS_EXACTFINALTIME_MATCHSTEP and TSRollBack work as for any other type. TimeStepper selects it
// for -ts_type euler whenever the operator has a LinearStencil (-fp_fused false keeps PETSc's).
#pragma once

#include "operators/fp_operator.hpp"

namespace fpflow {

inline constexpr const char* kTSFusedEuler = "fpeuler";

// Registers the type with PETSc (idempotent).
void register_fused_euler();
// Attaches the operator to a TS of type fpeuler. reject_negative: refuse steps whose state goes
// below -1e-12 max|rho| (only meaningful for a monotone operator matrix).
void fused_euler_set_operator(TS ts, const FokkerPlanckOperator* op, bool reject_negative);
// Leaves the TS solution vector holding its own array again (copying the state into it if the
// last step left it in the work buffer). TimeStepper calls it after TSSolve; the type also does
// on reset and destroy.
void fused_euler_finish(TS ts);

}  // namespace fpflow
