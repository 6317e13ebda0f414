// solvers/step_control.hpp — "fpflow", a PETSc TSAdapt type: the step follows the positivity
// bound of the coefficients at the current time, and no state that breaks a promise is accepted.
//
// Why a TSAdapt and not a post-step hook: TSAdaptChoose is where PETSc clips the next step so
// that the run lands exactly on the final time (TS_EXACTFINALTIME_MATCHSTEP). A hook that sets
// the step after that (TSSetPostStep + TSSetTimeStep) undoes the clipping: runs with
// t-dependent coefficients used to end past -ts_max_time. Here the bound is the adaptor's
// proposal and PETSc's clipping comes after it.
//
// choose(), called by every integrator after a step with the new state in the solution vector:
//   * rejects a state that is not finite, or (when the operator promises positivity) has a value
//     below -tol max|rho|: the integrator rolls the step back and retries with half the step;
//   * otherwise proposes the next step: cfl / rate(t), the operator's positivity bound at the new
//     time and at the end of the proposed step (coefficients that move with t), or the fixed step
//     (-ts_dt, implicit runs). After a rejection the proposal stays halved for the rest of the
//     run: a forced step above the bound is not retried (a state can pass the checks at an
//     unstable step, so growing back would trade rejections for garbage).
// The counts of rejected steps feed the run summary.
#pragma once

#include <petscts.h>

#include <functional>

namespace fpflow {

inline constexpr const char* kTSAdaptFpflow = "fpflow";

struct StepControl {
  // Largest step allowed from time t (the positivity bound times the CFL fraction); empty: keep
  // `fixed_dt`.
  std::function<double(double t)> bound;
  double fixed_dt = 0;
  // Check each new state: finite always; non-negative (to -negative_tol x max) if positive.
  bool check_state = true;
  bool positive = false;
  double negative_tol = 1e-14;
  // Filled while stepping.
  PetscInt rejected = 0;   // steps rejected by this check (PETSc's stage rejections not included)
  double scale = 1.0;      // current reduction of the proposal after rejections
  PetscInt clean = 0;      // accepted steps since the last rejection (diagnostic)
  double last_proposal = 0;  // the step proposed last (a smaller accepted one was cut by PETSc)
};

// Registers the type with PETSc (idempotent).
void register_step_control();
// Sets the TS's adaptor to this type, driven by `ctl` (which must outlive the TS's solve).
void use_step_control(TS ts, StepControl* ctl);

}  // namespace fpflow
