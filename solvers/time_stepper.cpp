// solvers/time_stepper.cpp — TS set-up, callbacks and progress reporting for TimeStepper.
#include "solvers/time_stepper.hpp"

#include "core/options.hpp"
#include "core/profiling.hpp"
#include "core/signals.hpp"
#include "solvers/fused_euler.hpp"
#include "solvers/steady_state.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>

namespace fpflow {

namespace {
const std::set<std::string> kExplicit = {"euler", "rk", "ssp", "mprk"};
// TS types whose forward quadrature (TSCreateQuadratureTS) uses the integrator's own stages.
const std::set<std::string> kQuadrature = {"rk", "theta", "beuler", "cn"};
}  // namespace

TimeStepper::TimeStepper(FokkerPlanckOperator& op, const StepperOptions& opt)
    : op_(op), opt_(opt), levels_(op) {
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
  // A failed step ends TSSolve with a reason that solve() turns into a one-line explanation.
  FP_CHECK(TSSetErrorIfStepFails(ts_, PETSC_FALSE));
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
  const std::vector<std::string> inserted = default_multigrid_options(g);
  FP_CHECK(TSSetFromOptions(ts_));
  // -ts_max_time may have changed the final time: defaults and progress follow TS.
  PetscReal tmax;
  FP_CHECK(TSGetMaxTime(ts_, &tmax));
  opt_.t_final = tmax;
  if (!(std::isfinite(tmax) && tmax > 0)) {
    char got[32];
    std::snprintf(got, sizeof(got), "%g", double(tmax));
    throw Error(std::string("final time must be positive and finite (-ts_max_time), got ") + got);
  }

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

  if (type_ == "euler" && opt.fused && op.linear_stencil()) {
    register_fused_euler();
    FP_CHECK(TSSetType(ts_, kTSFusedEuler));
    fused_ = true;
  }

  // Multigrid defaults are for linear solves: an explicit run must not report them unused.
  if (mode_ == "explicit")
    for (const auto& name : inserted) FP_CHECK(PetscOptionsClearValue(nullptr, name.c_str()));
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

  const bool dt_given = option_given("-ts_dt");
  if (dt_given) {
    FP_CHECK(TSGetTimeStep(ts_, &dt0_));
  } else {
    dt0_ = default_step(0.0);
    FP_CHECK(TSSetTimeStep(ts_, dt0_));
  }
  if (!(dt0_ > 0)) throw Error("time step must be positive, got " + std::to_string(dt0_));
  if (fused_) {
    // The fused step checks the new state in the same pass and rejects it itself.
    fused_euler_set_operator(ts_, &op, opt.enforce_positivity);
  } else if (mode_ == "explicit" && opt.enforce_positivity) {
    // Never accept a negative or non-finite state: TS rejects the stage and retries smaller.
    FP_CHECK(TSSetFunctionDomainError(ts_, domain_check));
    TSAdaptType at;
    FP_CHECK(TSAdaptGetType(adapt, &at));
    // With time-dependent coefficients the positivity bound moves: follow it step by step.
    follow_bound_ = !dt_given && !op.time_independent() && std::string(at) == TSADAPTNONE;
    check_positivity_ = true;
  }
  // Always: post_step also ends the run at a step boundary on SIGINT/SIGTERM.
  FP_CHECK(TSSetPostStep(ts_, post_step));

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
  FP_CHECK(TSSetApplicationContext(ts_, this));
  FP_CHECK(TSMonitorSet(ts_, monitor, this, nullptr));
}

double TimeStepper::default_step(double t) {
  const double T = opt_.t_final;
  double dt;
  if (mode_ == "explicit") {
    double rate = op_.max_rate(t);
    if (!op_.time_independent()) {
      // The bound must hold at the end of the step too (a drift that switches on with t).
      const double dt1 = rate > 0 ? opt_.cfl / rate : T;
      rate = std::max(rate, op_.max_rate(std::min(t + dt1, T)));
    }
    dt = rate > 0 ? opt_.cfl / rate : T;
  } else if (mode_ == "imex") {
    const double rate = op_.max_rate(t, true);
    dt = rate > 0 ? opt_.cfl / rate : T / 10;
  } else {
    dt = T / 100;
  }
  return std::min(dt, T);
}

// Collective: a stage with a NaN/Inf or a value below -1e-12 max|rho| is rejected (round-off
// negatives of exactly positive schemes are ~1e-18 and accepted).
PetscErrorCode TimeStepper::domain_check(TS ts, PetscReal, Vec Y, PetscBool* accept) {
  PetscReal mn, mx, nrm;
  PetscErrorCode ierr = VecMin(Y, nullptr, &mn);
  if (!ierr) ierr = VecMax(Y, nullptr, &mx);
  if (!ierr) ierr = VecNorm(Y, NORM_1, &nrm);
  if (ierr) return ierr;
  *accept = (std::isfinite(nrm) && mn >= -1e-12 * std::max(std::fabs(mx), std::fabs(mn)))
                ? PETSC_TRUE
                : PETSC_FALSE;
  return 0;
}

// Explicit runs, after every accepted step: the stage check cannot see the final combination
// of an RK step, so the solution itself is checked; then the step follows the moving bound.
PetscErrorCode TimeStepper::post_step(TS ts) {
  void* ctx = nullptr;
  PetscErrorCode ierr = TSGetApplicationContext(ts, &ctx);
  if (ierr) return ierr;
  auto* self = static_cast<TimeStepper*>(ctx);
  return guarded(self->op_.grid().comm(), [&] {
    PetscReal t;
    Vec U;
    FP_CHECK(TSGetTime(ts, &t));
    FP_CHECK(TSGetSolution(ts, &U));
    if (self->check_positivity_) {
      PetscBool ok;
      FP_CHECK(domain_check(ts, t, U, &ok));
      if (!ok) {
        // The final combination of an RK step went negative although every stage passed:
        // undo the step and retry it with a quarter of the step size.
        PetscReal tprev;
        FP_CHECK(TSGetPrevTime(ts, &tprev));
        const double taken = t - tprev;
        if (++self->rollbacks_ > 50 || !(taken > 1e-14 * self->opt_.t_final))
          throw Error("the density became negative or not finite at t = " + std::to_string(t) +
                      ": the explicit step exceeds the positivity bound (drop -ts_dt to use "
                      "the bound, or use an implicit -ts_type)");
        FP_CHECK(TSRollBack(ts));
        // TSStep may already have declared the final time reached: keep integrating.
        FP_CHECK(TSSetConvergedReason(ts, TS_CONVERGED_ITERATING));
        FP_CHECK(TSSetTimeStep(ts, 0.25 * taken));
        return;
      }
      self->rollbacks_ = 0;  // the limit is on consecutive rollbacks
    }
    if (self->opt_.until_stationary > 0) {
      // Relative rate of change ||L rho||_1 / (max_rate ||rho||_1): the steady criterion. The
      // work vector is kept, and max_rate (a pass over every matrix row) is recomputed only
      // when the coefficients depend on t.
      if (!self->work_) FP_CHECK(VecDuplicate(U, self->work_.out()));
      self->op_.apply(t, U, self->work_, Part::full);
      PetscReal res, n1;
      FP_CHECK(VecNorm(self->work_, NORM_1, &res));
      FP_CHECK(VecNorm(U, NORM_1, &n1));
      if (self->stationary_rate_ < 0 || !self->op_.time_independent())
        self->stationary_rate_ = self->op_.max_rate(t);
      self->stationary_residual_ = res / (self->stationary_rate_ * n1);
      if (self->stationary_residual_ <= self->opt_.until_stationary) {
        self->stationary_reached_ = true;
        FP_CHECK(TSSetConvergedReason(ts, TS_CONVERGED_USER));
      }
    }
    if (self->follow_bound_) FP_CHECK(TSSetTimeStep(ts, self->default_step(t)));
    // SIGINT/SIGTERM: end TSSolve after this step (collective, so every rank stops at the same
    // step); the driver saves the state and reports the run as interrupted. (A reason set in
    // the monitor would be reset by the next TSStep.)
    if (stop_requested(self->op_.grid().comm())) {
      self->interrupted_ = true;
      FP_CHECK(TSSetConvergedReason(ts, TS_CONVERGED_USER));
    }
  });
}

// -pc_type mg on its own should just work: the operator rediscretised on every coarse DMDA
// (Q0, cell-centred transfer; -pc_mg_galerkin pmat gives Galerkin products instead), as many
// levels as halve every axis down to >= 4 cells and >= the stencil width per rank, full
// multigrid cycles and Richardson + SOR smoothing. Explicit -pc_mg_* / -mg_levels_* options
// take precedence. Returns the names of the options it inserted.
std::vector<std::string> TimeStepper::default_multigrid_options(const Grid& g) {
  std::vector<std::string> inserted;
  char pc[64] = {0};
  PetscBool set = PETSC_FALSE;
  FP_CHECK(PetscOptionsGetString(nullptr, nullptr, "-pc_type", pc, sizeof(pc), &set));
  if (!set || std::string(pc) != "mg") return inserted;
  if (g.dim() == 1)
    throw Error("-pc_type mg is not available in 1-D (PETSc 3.18 has no cell-centred 1-D "
                "interpolation); 1-D systems are tridiagonal: use -pc_type lu");
  if (!option_given("-pc_mg_galerkin")) {
    // Rediscretised coarse operators (ijacobian assembles the operator on each coarse DMDA):
    // Galerkin products with the Q0 transfer over-weight diffusion by 2 per level, and their
    // iteration counts grow with the number of levels (7 -> 14.5 from 256^2 to 2048^2).
    FP_CHECK(PetscOptionsSetValue(nullptr, "-pc_mg_galerkin", "none"));
    inserted.push_back("-pc_mg_galerkin");
  }
  // Full multigrid: iteration counts flat under refinement with the piecewise-constant (Q0)
  // transfer (V-cycles rise from 5 to 8 between 32^2 and 512^2, FMG stays at 5-6).
  if (!option_given("-pc_mg_type")) {
    FP_CHECK(PetscOptionsSetValue(nullptr, "-pc_mg_type", "full"));
    inserted.push_back("-pc_mg_type");
  }
  // Level smoother: Richardson + SOR (2 sweeps) rather than PETSc's Chebyshev + SOR. In
  // parallel SOR is processor-local; the rank boundary pushes the preconditioned spectrum past
  // Chebyshev's estimated bound (max eigenvalue 0.99 at 1 rank, 1.25 at 2), and the iterations
  // then grew with the grid (2 ranks: 10 -> 14 from 256^2 to 2048^2; strong drift, e.g.
  // -ou_theta 20 at 1024^2, stalled). Richardson needs no eigenvalue bounds: 3 iterations per
  // step at 1 rank and 4-5 at 2 over the same sizes (docs/PERFORMANCE.md).
  if (!option_given("-mg_levels_ksp_type")) {
    FP_CHECK(PetscOptionsSetValue(nullptr, "-mg_levels_ksp_type", "richardson"));
    inserted.push_back("-mg_levels_ksp_type");
  }
  if (!option_given("-mg_levels_pc_type")) {
    FP_CHECK(PetscOptionsSetValue(nullptr, "-mg_levels_pc_type", "sor"));
    inserted.push_back("-mg_levels_pc_type");
  }
  if (!option_given("-pc_mg_levels")) {
    const int levels = multigrid_levels(g);
    FP_CHECK(PetscOptionsSetValue(nullptr, "-pc_mg_levels", std::to_string(levels).c_str()));
    inserted.push_back("-pc_mg_levels");
  }
  return inserted;
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
    // A matrix-free Amat (-snes_mf_operator) must learn the new linearisation point always.
    if (A != P) {
      FP_CHECK(MatAssemblyBegin(A, MAT_FINAL_ASSEMBLY));
      FP_CHECK(MatAssemblyEnd(A, MAT_FINAL_ASSEMBLY));
    }
    // A coarse multigrid level asks for its own matrix (its DM is a coarsened DMDA): the
    // operator rediscretised on that grid (solvers/coarse_levels.hpp).
    self->levels_.assemble(t, shift, self->implicit_part_, P);
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
  if (!print || step == last_progress_step_) return;
  last_progress_step_ = step;
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
  {
    ProfileStage stage(Stage::stepping);
    const PetscErrorCode ierr = TSSolve(ts_, rho);
    if (fused_) fused_euler_finish(ts_);  // rho holds its own array again, with the state
    FP_CHECK(ierr);
  }
  TSConvergedReason reason;
  FP_CHECK(TSGetConvergedReason(ts_, &reason));
  FP_CHECK(TSGetStepNumber(ts_, &steps_));
  PetscReal t;
  FP_CHECK(TSGetSolveTime(ts_, &t));
  time_ = t;
  if (reason == TS_DIVERGED_STEP_REJECTED && mode_ == "explicit")
    throw Error("explicit step rejected at t = " + std::to_string(time_) +
                ": the density would become negative (time step above the positivity bound; "
                "drop -ts_dt to use the bound, or use -ts_type rk or an implicit -ts_type)");
  if (reason < 0)
    throw Error(std::string("time integration failed at t = ") + std::to_string(time_) + ": " +
                TSConvergedReasons[reason] +
                " (try a smaller -ts_dt, or an implicit -ts_type with -pc_type mg)");
  progress(steps_, time_, rho, true);
  PetscReal nrm;
  FP_CHECK(VecNorm(rho, NORM_1, &nrm));
  if (!std::isfinite(nrm))
    throw Error("the solution is not finite at t = " + std::to_string(time_) +
                " (unstable step? use the default -ts_dt or an implicit -ts_type)");
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
