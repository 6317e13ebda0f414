// solvers/step_control.cpp — the "fpflow" TSAdapt implementation (see step_control.hpp).
//
// A TSAdapt type is PETSc's extension point for step-size control; its choose routine sees the
// adaptor internals, hence the private header (as in PETSc's own src/ts/adapt/impls).
#include "solvers/step_control.hpp"

#include "core/petsc.hpp"
#include "solvers/fused_euler.hpp"

#include <petsc/private/tsimpl.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace fpflow {

namespace {

StepControl* control(TSAdapt adapt) { return static_cast<StepControl*>(adapt->data); }

// One pass over the state: is it finite, and is its minimum above -tol x max|rho| (collective).
bool state_acceptable(Vec U, const StepControl& c) {
  PetscInt n = 0;
  FP_CHECK(VecGetLocalSize(U, &n));
  double mn = std::numeric_limits<double>::infinity(), mx = 0, bad = 0;
  {
    VecArrayRead a(U);
    for (PetscInt i = 0; i < n; ++i) {
      const double v = a[i];
      if (!std::isfinite(v)) bad = 1;
      mn = std::min(mn, v);
      mx = std::max(mx, std::fabs(v));
    }
  }
  double in[3] = {-mn, mx, bad}, out[3];
  MPI_Allreduce(in, out, 3, MPI_DOUBLE, MPI_MAX, PetscObjectComm((PetscObject)U));
  if (out[2] != 0) return false;
  return !c.positive || -out[0] >= -c.negative_tol * out[1];
}

PetscErrorCode choose(TSAdapt adapt, TS ts, PetscReal h, PetscInt* next_sc, PetscReal* next_h,
                      PetscBool* accept, PetscReal* wlte, PetscReal* wltea, PetscReal* wlter) {
  *next_sc = 0;
  *wlte = *wltea = *wlter = -1;
  StepControl* c = control(adapt);
  return guarded(PetscObjectComm((PetscObject)ts), [&] {
    if (!c) throw Error("internal: the fpflow step control has no context");
    // The fused Euler type checks its new state itself before it becomes the solution.
    PetscBool fused = PETSC_FALSE;
    FP_CHECK(PetscObjectTypeCompare((PetscObject)ts, kTSFusedEuler, &fused));
    *accept = PETSC_TRUE;
    if (c->check_state && !fused && !state_acceptable(ts->vec_sol, *c)) {
      *accept = PETSC_FALSE;
      ++c->rejected;
      c->scale = std::max(c->scale * 0.5, 1.0 / 1024);
      c->clean = 0;
      *next_h = 0.5 * h;
      c->last_proposal = *next_h;
      return;
    }
    ++c->clean;
    // PETSc shrank this step after a failed solve or a rejected stage: keep the smaller size.
    if (c->last_proposal > 0 && h < c->last_proposal * (1 - 1e-12))
      c->scale = std::max(c->scale * h / c->last_proposal, 1.0 / 1024);
    // The step just taken ends at t1 (the integrator advances ts->ptime after this call).
    const double t1 = ts->ptime + ts->time_step;
    const double proposal = c->bound ? c->bound(t1) : c->fixed_dt;
    *next_h = c->scale * proposal;
    c->last_proposal = *next_h;
    if (!(*next_h > 0) || !std::isfinite(*next_h))
      throw Error("the step bound at t = " + std::to_string(t1) + " is not a positive number (" +
                  std::to_string(*next_h) + "): are the coefficients finite there?");
  });
}

PetscErrorCode create(TSAdapt adapt) {
  adapt->ops->choose = choose;
  adapt->data = nullptr;  // set by use_step_control; owned by the caller
  return 0;
}

}  // namespace

void register_step_control() {
  static bool done = false;
  if (done) return;
  FP_CHECK(TSAdaptRegister(kTSAdaptFpflow, create));
  done = true;
}

void use_step_control(TS ts, StepControl* ctl) {
  register_step_control();
  TSAdapt adapt;
  FP_CHECK(TSGetAdapt(ts, &adapt));
  FP_CHECK(TSAdaptSetType(adapt, kTSAdaptFpflow));
  adapt->data = ctl;
}

}  // namespace fpflow
