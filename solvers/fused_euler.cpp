// solvers/fused_euler.cpp — the "fpeuler" TS implementation (see fused_euler.hpp).
//
// A TS type is PETSc's extension point for time integrators; its step routine sees the TS
// internals, hence the private header (as in PETSc's own src/ts/impls).
#include "solvers/fused_euler.hpp"

#include "core/profiling.hpp"
#include "solvers/time_stepper.hpp"

#include <petsc/private/tsimpl.h>

#include <algorithm>
#include <cmath>

namespace fpflow {

namespace {

struct FusedData {
  const FokkerPlanckOperator* op = nullptr;
  bool reject_negative = true;
  VecH work;                  // the second buffer (same layout as the solution)
  VecH local;                 // ghosts and frame of the current state
  PetscScalar* own = nullptr;   // the solution vector's own array
  PetscScalar* spare = nullptr; // the work vector's array
  bool placed = false;        // the solution currently shows `spare`
  double rate = -1;           // the operator's global positivity rate (once known)
};

FusedData* data(TS ts) { return static_cast<FusedData*>(ts->data); }

// The other buffer becomes the solution (or, from a rollback, the previous state again).
void swap_buffers(TS ts, FusedData* d) {
  if (d->placed) {
    FP_CHECK(VecResetArray(ts->vec_sol));
  } else {
    FP_CHECK(VecPlaceArray(ts->vec_sol, d->spare));
  }
  d->placed = !d->placed;
}

void finish(TS ts, FusedData* d) {
  if (!d->placed || !ts->vec_sol) return;
  {
    VecArrayRead cur(ts->vec_sol);
    PetscInt n = 0;
    FP_CHECK(VecGetLocalSize(ts->vec_sol, &n));
    std::copy(cur.data(), cur.data() + n, d->own);
  }
  FP_CHECK(VecResetArray(ts->vec_sol));
  d->placed = false;
}

// One attempt at ts->time_step: the new state is written into the other buffer; returns
// whether it is acceptable (finite; non-negative when required). Collective.
bool attempt(TS ts, FusedData* d) {
  const Grid& g = d->op->grid();
  const LinearStencil& stencil = *d->op->linear_stencil();
  Vec U = ts->vec_sol;
  StepStats s;
  bool check = true;
  {
    ProfileEvent ev(profiling().fused_step);
    VecArrayRead cur(U);
    if (!d->placed) d->own = const_cast<PetscScalar*>(cur.data());
    {
      ProfileEvent gh(profiling().ghosts);
      g.update_ghosts(U, d->local);
    }
    VecArrayRead loc(d->local);
    // Below the positivity bound a non-negative finite state stays so (all update weights
    // are >= 0): the check would be a second pass for nothing. Above it, every step is
    // checked. The slack covers the rounding of dt * rate.
    if (d->rate < 0) {
      const double mine = stencil.max_rate_local();
      MPI_Allreduce(&mine, &d->rate, 1, MPI_DOUBLE, MPI_MAX, g.comm());
    }
    check = !(ts->time_step * d->rate <= 1.0 + 1e-12) || !d->reject_negative;
    s = stencil.euler(cur.data(), loc.data(), ts->time_step, d->placed ? d->own : d->spare,
                      check);
  }
  if (!check) return true;
  double v[3] = {s.min, -s.max, s.finite ? 1.0 : 0.0}, r[3];
  MPI_Allreduce(v, r, 3, MPI_DOUBLE, MPI_MIN, g.comm());
  const double mn = r[0], mx = -r[1];
  const bool finite = r[2] == 1.0 && std::isfinite(mn) && std::isfinite(mx);
  const bool negative = mn < -kNegativeTolerance * std::max(std::fabs(mx), std::fabs(mn));
  return finite && !(d->reject_negative && negative);
}

PetscErrorCode step(TS ts) {
  FusedData* d = data(ts);
  return guarded(PetscObjectComm((PetscObject)ts), [&] {
    if (!d->op || !d->op->linear_stencil())
      throw Error("internal: -ts_type fpeuler needs fpflow's linear operator");
    FP_CHECK(TSPreStage(ts, ts->ptime));
    Vec U = ts->vec_sol;
    if (!d->work) {
      FP_CHECK(VecDuplicate(U, d->work.out()));
      FP_CHECK(DMCreateLocalVector(d->op->grid().dm(), d->local.out()));
      VecArray w(d->work);
      d->spare = w.data();  // stays valid: the work vector never changes its array
    }
    // A rejected state never becomes the solution: retry with half the step, as PETSc's own
    // integrators do after a domain error, up to -ts_max_reject times.
    for (PetscInt rejections = 0;; ++rejections) {
      if (attempt(ts, d)) break;
      ++ts->reject;
      if (ts->max_reject >= 0 && rejections + 1 > ts->max_reject) {
        ts->reason = TS_DIVERGED_STEP_REJECTED;  // the solution still holds the old state
        return;
      }
      ts->time_step *= 0.5;
    }
    PetscReal next = ts->time_step;
    PetscBool accept = PETSC_TRUE;
    FP_CHECK(TSAdaptChoose(ts->adapt, ts, ts->time_step, nullptr, &next, &accept));
    if (!accept) {
      ts->reason = TS_DIVERGED_STEP_REJECTED;
      return;
    }
    swap_buffers(ts, d);
    FP_CHECK(PetscObjectStateIncrease((PetscObject)U));
    FP_CHECK(TSPostStage(ts, ts->ptime, 0, &U));
    ts->ptime += ts->time_step;
    ts->time_step = next;
  });
}

PetscErrorCode rollback(TS ts) {
  return guarded(PetscObjectComm((PetscObject)ts), [&] { swap_buffers(ts, data(ts)); });
}

PetscErrorCode reset(TS ts) {
  return guarded(PetscObjectComm((PetscObject)ts), [&] {
    FusedData* d = data(ts);
    finish(ts, d);
    d->work.reset();
    d->local.reset();
    d->spare = d->own = nullptr;
  });
}

PetscErrorCode destroy(TS ts) {
  PetscErrorCode ierr = reset(ts);
  delete data(ts);
  ts->data = nullptr;
  return ierr;
}

PetscErrorCode view(TS ts, PetscViewer viewer) {
  PetscBool ascii = PETSC_FALSE;
  PetscErrorCode ierr = PetscObjectTypeCompare((PetscObject)viewer, PETSCVIEWERASCII, &ascii);
  if (ierr || !ascii) return ierr;
  const FusedData* d = data(ts);
  const bool sep = d->op && d->op->linear_stencil() && d->op->linear_stencil()->separable();
  return PetscViewerASCIIPrintf(viewer,
                                "  fpflow fused forward Euler: one pass per step, %s face "
                                "weights\n",
                                sep ? "separable (cached)" : "streamed");
}

PetscErrorCode create(TS ts) {
  ts->ops->step = step;
  ts->ops->rollback = rollback;
  ts->ops->reset = reset;
  ts->ops->destroy = destroy;
  ts->ops->view = view;
  ts->usessnes = PETSC_FALSE;
  ts->default_adapt_type = TSADAPTNONE;
  ts->data = new FusedData();
  return 0;
}

bool is_fused(TS ts) {
  PetscBool same = PETSC_FALSE;
  FP_CHECK(PetscObjectTypeCompare((PetscObject)ts, kTSFusedEuler, &same));
  return same;
}

}  // namespace

void register_fused_euler() {
  static bool done = false;
  if (done) return;
  FP_CHECK(TSRegister(kTSFusedEuler, create));
  done = true;
}

void fused_euler_set_operator(TS ts, const FokkerPlanckOperator* op, bool reject_negative) {
  if (!is_fused(ts)) throw Error("internal: fused_euler_set_operator on another TS type");
  if (!op->linear_stencil())
    throw Error("-ts_type fpeuler needs a linear scheme (sg, upwind) with time-independent "
                "coefficients and no cross-diffusion");
  data(ts)->op = op;
  data(ts)->reject_negative = reject_negative;
}

void fused_euler_finish(TS ts) {
  if (is_fused(ts)) finish(ts, data(ts));
}

}  // namespace fpflow
