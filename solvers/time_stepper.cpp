// solvers/time_stepper.cpp — TS set-up, callbacks and progress reporting for TimeStepper.
#include "solvers/time_stepper.hpp"

#include "core/options.hpp"
#include "core/profiling.hpp"
#include "core/signals.hpp"
#include "solvers/fused_euler.hpp"
#include "solvers/steady_state.hpp"
#include "solvers/step_control.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <set>

namespace fpflow {

namespace {
const std::set<std::string> kExplicit = {"euler", "rk", "ssp", "mprk"};
// TS types whose forward quadrature (TSCreateQuadratureTS) uses the integrator's own stages.
const std::set<std::string> kQuadrature = {"rk", "theta", "beuler", "cn"};
}  // namespace

bool is_explicit_ts_type(const std::string& type) { return kExplicit.count(type) > 0; }

TimeStepper::TimeStepper(FokkerPlanckOperator& op, const StepperOptions& opt)
    : op_(op), opt_(opt), levels_(op) {
  const Grid& g = op.grid();
  const MPI_Comm comm = g.comm();
  FP_CHECK(TSCreate(comm, ts_.out()));
  FP_CHECK(TSSetDM(ts_, g.dm()));
  FP_CHECK(TSSetProblemType(ts_, op.linear() ? TS_LINEAR : TS_NONLINEAR));
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
  } else if (type_ == "euler") {
    // The same method as PETSc's RK tableau 1fe, whose step retries a rejected state with a
    // smaller step (TSEULER ends the run at the first rejection).
    FP_CHECK(TSSetType(ts_, TSRK));
    FP_CHECK(TSRKSetType(ts_, TSRK1FE));
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
  // Positivity is promised (and every new state checked against it) for explicit runs of an
  // operator that preserves it at the bound; implicit states are checked for finiteness only
  // (their negatives are at the level of the linear-solver tolerance, reported at the end).
  // Backward Euler with a positivity-preserving operator is positive for any step; its computed
  // state only to the nonlinear/linear solver tolerance, whose negatives the post-step
  // projection removes (project_positive).
  project_positive_ = type_ == "beuler" && op.positivity_preserving();
  promise_positive_ = (mode_ == "explicit" && opt.enforce_positivity) || project_positive_;
  if (fused_) {
    // The fused step checks the new state in the same pass and retries smaller itself.
    fused_euler_set_operator(ts_, &op, promise_positive_);
  } else if (promise_positive_ && mode_ == "explicit") {
    // A stage that is negative or not finite is rejected at once: TS retries with a smaller step.
    // (Implicit stages are Newton iterates: their solver-tolerance negatives are projected away
    // after the step instead.)
    FP_CHECK(TSSetFunctionDomainError(ts_, domain_check));
  }
  // Step control: the positivity bound followed step by step (or the fixed step), every new
  // state checked, and PETSc's own clipping to the final time (solvers/step_control.hpp). A
  // user's -ts_adapt_type takes precedence.
  if (!option_given("-ts_adapt_type")) {
    if (!dt_given && mode_ != "implicit")
      control_.bound = [this](double t) { return default_step(t); };
    control_.fixed_dt = dt0_;
    control_.positive = promise_positive_;
    // Backward Euler's own state carries solver-tolerance negatives until the post-step
    // projection: only negatives beyond what it removes are a failed step.
    control_.negative_tol = project_positive_ ? kProjectionLimit : kNegativeTolerance;
    use_step_control(ts_, &control_);
  }
  // Always: post_step also ends the run at a step boundary on SIGINT/SIGTERM.
  FP_CHECK(TSSetPostStep(ts_, post_step));
  // A nonlinear (limited) implicit step whose Newton iteration fails is retried with a smaller
  // step rather than ending the run.
  if (mode_ != "explicit" && !op.linear()) FP_CHECK(TSSetMaxSNESFailures(ts_, -1));

  for (int a = 0; a < g.dim(); ++a)
    for (int side = 0; side < 2; ++side)
      if (g.bc(a, side) == Boundary::absorbing) absorbing_sides_.push_back(2 * a + side);
  absorbing_ = !absorbing_sides_.empty();
  if (absorbing_ && kQuadrature.count(type_)) {
    // One integral per absorbing side (this rank's faces; summed over ranks in absorbed_*), so
    // the sides' masses sum to the total exactly.
    const PetscInt n = PetscInt(absorbing_sides_.size());
    TS q;
    FP_CHECK(TSCreateQuadratureTS(ts_, PETSC_TRUE, &q));
    VecH integral;
    FP_CHECK(VecCreateSeq(PETSC_COMM_SELF, n, integral.out()));
    FP_CHECK(VecSet(integral, 0.0));
    FP_CHECK(TSSetSolution(q, integral));
    FP_CHECK(TSSetRHSFunction(q, nullptr, outflow, this));
    // TSSetUp asks the quadrature TS for an RHS Jacobian (used only by adjoints, never here);
    // without a matrix it would try to create one from a shell DM and fail.
    FP_CHECK(MatCreateDense(comm, n, n, PETSC_DECIDE, PETSC_DECIDE, nullptr, quad_J_.out()));
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

// Collective: a stage with a NaN/Inf or a value below -tol max|rho| is rejected (round-off
// negatives of exactly positive schemes are ~1e-18 and accepted).
PetscErrorCode TimeStepper::domain_check(TS ts, PetscReal, Vec Y, PetscBool* accept) {
  // One pass and one reduction: {-min, max|.|, not finite}.
  PetscInt n = 0;
  PetscErrorCode ierr = VecGetLocalSize(Y, &n);
  if (ierr) return ierr;
  const PetscScalar* a = nullptr;
  ierr = VecGetArrayRead(Y, &a);
  if (ierr) return ierr;
  double v[3] = {-std::numeric_limits<double>::infinity(), 0, 0}, r[3];
  for (PetscInt i = 0; i < n; ++i) {
    if (!std::isfinite(a[i])) v[2] = 1;
    v[0] = std::max(v[0], -a[i]);
    v[1] = std::max(v[1], std::fabs(a[i]));
  }
  ierr = VecRestoreArrayRead(Y, &a);
  if (ierr) return ierr;
  MPI_Allreduce(v, r, 3, MPI_DOUBLE, MPI_MAX, PetscObjectComm((PetscObject)Y));
  *accept = (r[2] == 0 && -r[0] >= -kNegativeTolerance * r[1]) ? PETSC_TRUE : PETSC_FALSE;
  return 0;
}

// The exact backward-Euler state of a positivity-preserving operator is >= 0; the computed one
// differs from it by the solver tolerance, so it may show negatives of that size in cells where
// the exact value is ~0. Those are set to 0 (which moves them towards the exact state) and the
// state is rescaled to its mass before, which changes no cell by more than the negatives' total.
// Negatives above kProjectionLimit x max|rho| are not solver noise: they are left for the
// run's final positivity check to report.
bool project_positive(Vec U, MPI_Comm comm) {
  PetscInt n = 0;
  FP_CHECK(VecGetLocalSize(U, &n));
  double local[3] = {0, 0, 0};  // sum of negatives, sum of all, -min
  double mx = 0;
  {
    VecArrayRead a(U);
    for (PetscInt i = 0; i < n; ++i) {
      local[1] += a[i];
      if (a[i] < 0) local[0] += a[i], local[2] = std::max(local[2], -a[i]);
      mx = std::max(mx, a[i]);
    }
  }
  double sums[2], worst[2], lmax[2] = {local[2], mx};
  MPI_Allreduce(local, sums, 2, MPI_DOUBLE, MPI_SUM, comm);
  MPI_Allreduce(lmax, worst, 2, MPI_DOUBLE, MPI_MAX, comm);
  if (!(worst[0] > 0) || worst[0] > kProjectionLimit * worst[1]) return false;
  const double scale = sums[1] / (sums[1] - sums[0]);
  VecArray a(U);
  for (PetscInt i = 0; i < n; ++i) a[i] = a[i] < 0 ? 0.0 : a[i] * scale;
  return true;
}

void TimeStepper::project_positive(Vec U) {
  if (fpflow::project_positive(U, op_.grid().comm())) ++projections_;
}

// After every accepted step: the positivity projection of backward Euler, -until_stationary
// (the relative rate of change ||L rho||_1 / (max_rate ||rho||_1) is the steady criterion), and
// SIGINT/SIGTERM, which end TSSolve after this step (collective, so every rank stops at the same
// step; the driver saves the state and reports the run as interrupted; a reason set in the
// monitor would be reset by the next TSStep).
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
    if (self->project_positive_) self->project_positive(U);
    if (self->opt_.until_stationary > 0) {
      // The work vector is kept; max_rate is recomputed only when the coefficients depend on t.
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
PetscErrorCode TimeStepper::ijacobian(TS, PetscReal t, Vec U, Vec, PetscReal shift, Mat A, Mat P,
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
    self->levels_.assemble(t, shift, self->implicit_part_, P, U);
  });
}

// Quadrature integrand: this rank's outflow rate through each absorbing side (a Seq Vec, one
// entry per side of absorbing_sides_).
PetscErrorCode TimeStepper::outflow(TS, PetscReal t, Vec U, Vec R, void* ctx) {
  auto* self = static_cast<TimeStepper*>(ctx);
  return guarded(self->op_.grid().comm(), [&] {
    LocalVec loc(self->op_.grid().dm());
    self->op_.grid().to_local(U, loc);
    const std::array<double, 6> rate = self->op_.local_outflow_by_side(t, loc);
    VecArray r(R);
    for (std::size_t i = 0; i < self->absorbing_sides_.size(); ++i)
      r[std::ptrdiff_t(i)] = rate[std::size_t(self->absorbing_sides_[i])];
  });
}

// Methods without the forward quadrature, several absorbing sides: each side's outflow rate at
// every accepted state, integrated over the steps (left-point rule for forward Euler, which is
// its exact outflow; trapezoid otherwise), to split the mass balance between the sides.
void TimeStepper::track_outflow(double t, Vec U) {
  LocalVec loc(op_.grid().dm());
  op_.grid().to_local(U, loc);
  const std::array<double, 6> local = op_.local_outflow_by_side(t, loc);
  std::array<double, 6> rate{};
  MPI_Allreduce(local.data(), rate.data(), 6, MPI_DOUBLE, MPI_SUM, op_.grid().comm());
  if (track_time_ >= 0 && t > track_time_) {
    const double dt = t - track_time_;
    const bool left = type_ == "euler";
    for (int s : absorbing_sides_) {
      const std::size_t i = std::size_t(s);
      side_integral_[i] += left ? dt * rate_prev_[i] : 0.5 * dt * (rate_prev_[i] + rate[i]);
    }
  }
  rate_prev_ = rate;
  track_time_ = t;
}

PetscErrorCode TimeStepper::monitor(TS, PetscInt step, PetscReal t, Vec U, void* ctx) {
  auto* self = static_cast<TimeStepper*>(ctx);
  return guarded(self->op_.grid().comm(), [&] {
    // A step that is reported again after a rollback carries an earlier step number.
    if (step > self->steps_ && t > self->time_) {
      const double dt = t - self->time_;
      self->dt_min_ = std::min(self->dt_min_, dt);
      self->dt_max_ = std::max(self->dt_max_, dt);
      self->dt_last_ = dt;
    }
    self->steps_ = step;
    self->time_ = t;
    if (!self->quadrature_ && self->absorbing_sides_.size() > 1) self->track_outflow(t, U);
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
  FP_CHECK(TSGetStepRejections(ts_, &rejected_));
  PetscReal t;
  FP_CHECK(TSGetSolveTime(ts_, &t));
  time_ = t;
  if (reason == TS_DIVERGED_STEP_REJECTED && mode_ == "explicit")
    throw Error("explicit steps kept being rejected at t = " + std::to_string(time_) +
                ": the density would become negative or not finite even with the step reduced " +
                "(last dt = " + std::to_string(dt_last_) +
                "); drop -ts_dt to use the positivity bound, or use an implicit -ts_type");
  if (reason < 0)
    throw Error(std::string("time integration failed at t = ") + std::to_string(time_) + ": " +
                TSConvergedReasons[reason] +
                " (try a smaller -ts_dt, or an implicit -ts_type with -pc_type mg)");
  switch (reason) {
    case TS_CONVERGED_TIME: stop_reason_ = "final_time"; break;
    case TS_CONVERGED_ITS: stop_reason_ = "max_steps"; break;
    case TS_CONVERGED_USER:
      stop_reason_ = interrupted_ ? "interrupted" : stationary_reached_ ? "stationary" : "user";
      break;
    default: stop_reason_ = TSConvergedReasons[reason]; break;
  }
  // TS declares the final time reached when ptime >= max_time; with MATCHSTEP it must be equal.
  if (stop_reason_ == "final_time" && std::fabs(time_ - opt_.t_final) > 1e-12 * opt_.t_final)
    throw Error("internal: the run ended at t = " + std::to_string(time_) +
                " instead of the requested final time " + std::to_string(opt_.t_final));
  progress(steps_, time_, rho, true);
  PetscReal nrm;
  FP_CHECK(VecNorm(rho, NORM_1, &nrm));
  if (!std::isfinite(nrm))
    throw Error("the solution is not finite at t = " + std::to_string(time_) +
                " (unstable step? use the default -ts_dt or an implicit -ts_type)");
}

std::vector<double> TimeStepper::absorbed_by_side(double mass_initial, double mass_final) const {
  const std::size_t n = absorbing_sides_.size();
  std::vector<double> out(n, 0.0);
  if (n == 0) return out;
  if (quadrature_) {
    Vec q;
    FP_CHECK(TSGetCostIntegral(ts_, &q));
    std::vector<double> local(n);
    {
      VecArrayRead a(q);
      for (std::size_t i = 0; i < n; ++i) local[i] = a[std::ptrdiff_t(i)];
    }
    MPI_Allreduce(local.data(), out.data(), int(n), MPI_DOUBLE, MPI_SUM, op_.grid().comm());
    return out;
  }
  // The mass balance, split in proportion to the sides' tracked outflow (all of it to a single
  // side; evenly if nothing was tracked to leave).
  const double total = mass_initial - mass_final;
  double tracked = 0;
  for (int s : absorbing_sides_) tracked += side_integral_[std::size_t(s)];
  for (std::size_t i = 0; i < n; ++i)
    out[i] = n == 1         ? total
             : tracked > 0 ? total * (side_integral_[std::size_t(absorbing_sides_[i])] / tracked)
                           : total / double(n);
  return out;
}

double TimeStepper::absorbed_mass(double mass_initial, double mass_final) const {
  if (!quadrature_) return mass_initial - mass_final;
  double total = 0;
  for (double m : absorbed_by_side(mass_initial, mass_final)) total += m;
  return total;
}

}  // namespace fpflow
