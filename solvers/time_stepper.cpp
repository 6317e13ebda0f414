// solvers/time_stepper.cpp — TS set-up, callbacks and progress reporting for TimeStepper.
#include "solvers/time_stepper.hpp"

#include "core/options.hpp"

#include <algorithm>
#include <cmath>
#include <set>

namespace fpflow {

namespace {
const std::set<std::string> kExplicit = {"euler", "rk", "ssp", "mprk"};
// TS types whose forward quadrature (TSCreateQuadratureTS) uses the integrator's own stages.
const std::set<std::string> kQuadrature = {"rk", "theta", "beuler", "cn"};
}  // namespace

TimeStepper::TimeStepper(FokkerPlanckOperator& op, const StepperOptions& opt)
    : op_(op), opt_(opt) {
  const Grid& g = op.grid();
  const MPI_Comm comm = g.comm();
  FP_CHECK(TSCreate(comm, ts_.out()));
  FP_CHECK(TSSetDM(ts_, g.dm()));
  FP_CHECK(TSSetProblemType(ts_, is_linear(op.scheme()) ? TS_LINEAR : TS_NONLINEAR));
  FP_CHECK(TSSetType(ts_, TSRK));
  FP_CHECK(TSRKSetType(ts_, TSRK2A));
  FP_CHECK(TSSetMaxTime(ts_, opt.t_final));
  FP_CHECK(TSSetMaxSteps(ts_, PETSC_MAX_INT));
  FP_CHECK(TSSetExactFinalTime(ts_, TS_EXACTFINALTIME_MATCHSTEP));
  TSAdapt adapt;
  FP_CHECK(TSGetAdapt(ts_, &adapt));
  FP_CHECK(TSAdaptSetType(adapt, TSADAPTNONE));
  {
    // Implicit steps: mass is conserved only to the linear-solver tolerance (a preconditioned
    // Krylov update is not exactly mass-neutral), so the default tolerance is tight.
    SNES snes;
    KSP ksp;
    FP_CHECK(TSGetSNES(ts_, &snes));
    FP_CHECK(SNESGetKSP(snes, &ksp));
    FP_CHECK(KSPSetTolerances(ksp, 1e-12, 1e-50, PETSC_DEFAULT, PETSC_DEFAULT));
  }
  default_multigrid_options(g);
  FP_CHECK(TSSetFromOptions(ts_));

  TSType t;
  FP_CHECK(TSGetType(ts_, &t));
  type_ = t;
  bool fully_implicit = false;
  if (type_ == "arkimex") {
    PetscBool fi = PETSC_FALSE;
    FP_CHECK(PetscOptionsGetBool(nullptr, nullptr, "-ts_arkimex_fully_implicit", &fi, nullptr));
    fully_implicit = fi;
  }
  mode_ = kExplicit.count(type_) ? "explicit" : (type_ == "arkimex" && !fully_implicit)
                                                      ? "imex"
                                                      : "implicit";

  if (mode_ != "explicit") FP_CHECK(DMCreateMatrix(g.dm(), J_.out()));
  // Implicit and IMEX methods get the implicit part as IFunction/IJacobian (rather than an RHS
  // Jacobian that TS shifts in place), so an unchanged matrix can be kept with its
  // preconditioner from step to step.
  if (mode_ == "explicit") {
    FP_CHECK(TSSetRHSFunction(ts_, nullptr, rhs_full, this));
  } else {
    implicit_part_ = mode_ == "imex" ? Part::diffusion : Part::full;
    if (mode_ == "imex") FP_CHECK(TSSetRHSFunction(ts_, nullptr, rhs_explicit, this));
    FP_CHECK(TSSetIFunction(ts_, nullptr, ifunction, this));
    FP_CHECK(TSSetIJacobian(ts_, J_, J_, ijacobian, this));
  }

  if (option_given("-ts_dt")) {
    FP_CHECK(TSGetTimeStep(ts_, &dt0_));
  } else {
    const double cfl = opt.cfl;
    if (mode_ == "explicit") {
      const double rate = op.max_rate(0.0);
      dt0_ = rate > 0 ? cfl / rate : opt.t_final;
    } else if (mode_ == "imex") {
      const double rate = op.max_rate(0.0, true);
      dt0_ = rate > 0 ? cfl / rate : opt.t_final / 10;
    } else {
      dt0_ = opt.t_final / 100;
    }
    dt0_ = std::min(dt0_, opt.t_final);
    FP_CHECK(TSSetTimeStep(ts_, dt0_));
  }
  if (!(dt0_ > 0)) throw Error("time step must be positive, got " + std::to_string(dt0_));

  for (int a = 0; a < g.dim(); ++a) absorbing_ = absorbing_ || g.bc(a) == Boundary::absorbing;
  if (absorbing_ && kQuadrature.count(type_)) {
    TS q;
    FP_CHECK(TSCreateQuadratureTS(ts_, PETSC_TRUE, &q));
    FP_CHECK(TSSetRHSFunction(q, nullptr, outflow, this));
    // TSSetUp asks the quadrature TS for an RHS Jacobian (used only by adjoints, never here);
    // without a matrix it would try to create one from a shell DM and fail.
    FP_CHECK(MatCreateDense(comm, 1, 1, PETSC_DECIDE, PETSC_DECIDE, nullptr, quad_J_.out()));
    FP_CHECK(TSSetRHSJacobian(q, quad_J_, quad_J_, nullptr, nullptr));
    quadrature_ = true;
  }
  FP_CHECK(TSMonitorSet(ts_, monitor, this, nullptr));
}

// -pc_type mg on its own should just work: Galerkin coarse operators of the assembled matrix (the DMDA's Q0
// interpolation makes them a cell-centred aggregation hierarchy) and as many levels as halve
// every axis down to >= 4 cells. Explicit -pc_mg_* options take precedence.
void TimeStepper::default_multigrid_options(const Grid& g) {
  char pc[64] = {0};
  PetscBool set = PETSC_FALSE;
  FP_CHECK(PetscOptionsGetString(nullptr, nullptr, "-pc_type", pc, sizeof(pc), &set));
  if (!set || std::string(pc) != "mg") return;
  if (g.dim() == 1)
    throw Error("-pc_type mg is not available in 1-D (PETSc 3.18 has no cell-centred 1-D "
                "interpolation); 1-D systems are tridiagonal: use -pc_type lu");
  if (!option_given("-pc_mg_galerkin"))
    FP_CHECK(PetscOptionsSetValue(nullptr, "-pc_mg_galerkin", "pmat"));  // Amat may be MFFD
  if (!option_given("-pc_mg_levels")) {
    int levels = 1;
    auto halvable = [&](int l) {
      for (int a = 0; a < g.dim(); ++a)
        if (g.cells(a) % (PetscInt(1) << l) != 0 || (g.cells(a) >> l) < 4) return false;
      return true;
    };
    while (levels < 10 && halvable(levels)) ++levels;
    FP_CHECK(PetscOptionsSetValue(nullptr, "-pc_mg_levels", std::to_string(levels).c_str()));
  }
}

PetscErrorCode TimeStepper::rhs_full(TS, PetscReal t, Vec U, Vec F, void* ctx) {
  auto* self = static_cast<TimeStepper*>(ctx);
  return guarded(self->op_.grid().comm(), [&] { self->op_.apply(t, U, F, Part::full); });
}

PetscErrorCode TimeStepper::rhs_explicit(TS, PetscReal t, Vec U, Vec F, void* ctx) {
  auto* self = static_cast<TimeStepper*>(ctx);
  return guarded(self->op_.grid().comm(),
                 [&] { self->op_.apply(t, U, F, Part::explicit_part); });
}

// G(t, U, Udot) = Udot - L_implicit(U).
PetscErrorCode TimeStepper::ifunction(TS, PetscReal t, Vec U, Vec Udot, Vec G, void* ctx) {
  auto* self = static_cast<TimeStepper*>(ctx);
  return guarded(self->op_.grid().comm(), [&] {
    self->op_.apply(t, U, G, self->implicit_part_);
    FP_CHECK(VecAYPX(G, -1.0, Udot));
  });
}

// dG/dU + shift dG/dUdot = shift I - J_implicit.
PetscErrorCode TimeStepper::ijacobian(TS, PetscReal t, Vec, Vec, PetscReal shift, Mat A, Mat P,
                                      void* ctx) {
  auto* self = static_cast<TimeStepper*>(ctx);
  return guarded(self->op_.grid().comm(), [&] {
    // With time-independent coefficients the matrix depends only on the shift: leaving it
    // untouched lets KSP keep its preconditioner (e.g. the multigrid hierarchy) across stages.
    if (self->op_.time_independent() && self->ijac_shift_ == shift) return;
    self->op_.assemble_jacobian(t, P, self->implicit_part_);
    FP_CHECK(MatScale(P, -1.0));
    FP_CHECK(MatShift(P, shift));
    self->ijac_shift_ = shift;
    if (A != P) {
      FP_CHECK(MatAssemblyBegin(A, MAT_FINAL_ASSEMBLY));
      FP_CHECK(MatAssemblyEnd(A, MAT_FINAL_ASSEMBLY));
    }
  });
}

// Quadrature integrand: this rank's outflow rate through absorbing faces (a 1-entry Seq Vec).
PetscErrorCode TimeStepper::outflow(TS, PetscReal t, Vec U, Vec R, void* ctx) {
  auto* self = static_cast<TimeStepper*>(ctx);
  return guarded(self->op_.grid().comm(), [&] {
    LocalVec loc(self->op_.grid().dm());
    self->op_.grid().to_local(U, loc);
    const double rate = self->op_.local_outflow(t, loc);
    FP_CHECK(VecSetValue(R, 0, rate, INSERT_VALUES));
    FP_CHECK(VecAssemblyBegin(R));
    FP_CHECK(VecAssemblyEnd(R));
  });
}

PetscErrorCode TimeStepper::monitor(TS, PetscInt step, PetscReal t, Vec U, void* ctx) {
  auto* self = static_cast<TimeStepper*>(ctx);
  return guarded(self->op_.grid().comm(), [&] {
    self->steps_ = step;
    self->time_ = t;
    if (self->observer_) self->observer_(step, t, U);
    self->progress(step, t, U, false);
  });
}

void TimeStepper::progress(PetscInt step, double t, Vec rho, bool force) {
  if (opt_.progress_seconds < 0) return;
  const MPI_Comm comm = op_.grid().comm();
  // Rank 0's clock decides, so that every rank joins the reductions below or none does.
  int print = 0;
  const double now = MPI_Wtime();
  if (comm_rank(comm) == 0)
    print = force || step == 0 || now - last_progress_ >= opt_.progress_seconds;
  MPI_Bcast(&print, 1, MPI_INT, 0, comm);
  if (!print) return;
  last_progress_ = now;
  PetscReal sum = 0, mn = 0, dt = 0;
  FP_CHECK(VecSum(rho, &sum));
  FP_CHECK(VecMin(rho, nullptr, &mn));
  FP_CHECK(TSGetTimeStep(ts_, &dt));
  const double elapsed = now - wall_start_;
  const double frac = opt_.t_final > 0 ? t / opt_.t_final : 1.0;
  const double eta = frac > 0 ? elapsed * (1 - frac) / frac : 0.0;
  FP_CHECK(PetscPrintf(comm,
                       "step %6" PetscInt_FMT "  t = %.6e / %.6e (%5.1f%%)  dt = %.3e  mass = %.15e"
                       "  min = %+.3e  [%.1f s, eta %.1f s]\n",
                       step, t, opt_.t_final, 100 * frac, dt, sum * op_.grid().cell_volume(), mn,
                       elapsed, eta));
}

void TimeStepper::solve(Vec rho) {
  wall_start_ = MPI_Wtime();
  FP_CHECK(TSSetSolution(ts_, rho));
  FP_CHECK(TSSetTime(ts_, 0.0));
  FP_CHECK(TSSetStepNumber(ts_, 0));
  FP_CHECK(TSSolve(ts_, rho));
  TSConvergedReason reason;
  FP_CHECK(TSGetConvergedReason(ts_, &reason));
  FP_CHECK(TSGetStepNumber(ts_, &steps_));
  PetscReal t;
  FP_CHECK(TSGetSolveTime(ts_, &t));
  time_ = t;
  if (reason < 0)
    throw Error(std::string("time integration failed at t = ") + std::to_string(time_) + ": " +
                TSConvergedReasons[reason] +
                " (try a smaller -ts_dt, or an implicit -ts_type with -pc_type mg)");
  progress(steps_, time_, rho, true);
}

double TimeStepper::absorbed_mass(double mass_initial, double mass_final) const {
  if (!quadrature_) return mass_initial - mass_final;
  Vec q;
  FP_CHECK(TSGetCostIntegral(ts_, &q));
  PetscReal local = 0;
  {
    VecArrayRead a(q);
    local = a[0];
  }
  double global = 0;
  MPI_Allreduce(&local, &global, 1, MPI_DOUBLE, MPI_SUM, op_.grid().comm());
  return global;
}

}  // namespace fpflow
