// solvers/time_stepper.hpp — time integration of d rho/dt = L(rho) with PETSc TS.
//
// The operator is handed to TS as pure functions of (t, rho); the method is chosen at run time
// (-ts_type, default rk/2a = Heun = SSP-RK2, positive under the forward-Euler bound):
//   explicit (euler, rk, ssp, ...)  RHSFunction = full operator
//   implicit (beuler, cn, theta, bdf, ...)  IFunction + IJacobian assembled on the DMDA matrix,
//            so any KSP/PC applies (-pc_type mg uses the DMDA hierarchy with the operator
//            rediscretised on each level; hypre too); with
//            time-independent coefficients the matrix and its preconditioner are reused while
//            the step size is unchanged
//   IMEX (arkimex)  explicit drift part as RHSFunction, central diffusion as IFunction/IJacobian
//            (-ts_arkimex_fully_implicit puts the whole operator in the IFunction)
// Forward Euler (-ts_type euler) with a linear scheme and time-independent coefficients runs
// as the TS type fpeuler: one memory pass per step (solvers/fused_euler.hpp).
// Default step when -ts_dt is not given: explicit -> cfl / max_rate (the positivity bound, at the
// start and end of each step, re-derived for every step when the coefficients depend on t);
// IMEX -> cfl / (drift-only rate); implicit -> t_final / 100. The step control is fpflow's
// TSAdapt (solvers/step_control.hpp), so PETSc clips the last step to end exactly at t_final.
// Explicit runs reject any stage or new state that is negative beyond round-off or not finite
// (TSSetFunctionDomainError and the step control), so TS retries with a smaller step.
// MUSCL is nonlinear: implicit steps run Newton on the first-order upwind Jacobian (converges
// linearly); -snes_mf_operator gives exact Newton (not combinable with -pc_type mg here).
// Absorbed mass: integrated with the integrator's own stages through PETSc's forward
// quadrature TS for rk and the theta family (beuler, cn, theta), one integral per absorbing side
// (their sum is the total), so that mass + absorbed is conserved to round-off; for other
// methods it is the mass balance (reported as such), split between several absorbing sides in
// proportion to their outflow integrated over the accepted steps (exact for forward Euler).
#pragma once

#include "operators/fp_operator.hpp"
#include "solvers/coarse_levels.hpp"
#include "solvers/step_control.hpp"

#include <array>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace fpflow {

struct StepperOptions {
  double t_final = 1.0;
  double progress_seconds = 2.0;  // < 0: no progress lines; 0: every step
  double cfl = 0.9;               // fraction of the positivity bound for the default step
  // The operator preserves positivity at the forward-Euler bound: explicit runs then promise
  // rho >= 0 and reject any state below -kNegativeTolerance max|rho|. False when it cannot (an
  // unlimited cross-diffusion stencil that is not monotone, pflow): negatives are then reported.
  bool enforce_positivity = true;
  // > 0: stop once ||L rho||_1 <= until_stationary * max_rate * ||rho||_1 (run until stationary).
  double until_stationary = 0;
  // -ts_type euler runs as fpflow's fused one-pass step (solvers/fused_euler.hpp) when the
  // operator has a LinearStencil; false keeps PETSc's TSEULER.
  bool fused = true;
};

// True for the explicit TS types (euler, rk, ssp, mprk): the integrator's mode follows.
bool is_explicit_ts_type(const std::string& type);

// Explicit states below -kNegativeTolerance x max|rho| count as negative (round-off negatives of
// a positive scheme are ~1e-18 relative).
inline constexpr double kNegativeTolerance = 1e-14;
// Backward-Euler negatives up to this fraction of max|rho| are solver noise (see
// TimeStepper::project_positive); larger ones are reported, never projected away.
inline constexpr double kProjectionLimit = 1e-6;

// The solver-noise projection: a state that is >= 0 in exact arithmetic (backward Euler or the
// stationary law of a positivity-preserving operator), computed to a solver tolerance, shows
// negatives of that size where the exact value is ~0. If its negatives are all within
// kProjectionLimit x max, they are set to 0 and the state rescaled to its mass (moving those
// cells towards the exact state); returns whether it did. Larger negatives are left alone, for
// the run's checks to report. Collective.
bool project_positive(Vec U, MPI_Comm comm);

class TimeStepper {
 public:
  // Observer called after every accepted step (and at step 0) with the current solution.
  using Observer = std::function<void(PetscInt step, double t, Vec rho)>;

  TimeStepper(FokkerPlanckOperator& op, const StepperOptions& opt);

  void set_observer(Observer obs) { observer_ = std::move(obs); }
  // Integrates rho in place from t = 0 to t_final. Throws Error on failure.
  void solve(Vec rho);

  std::string type() const { return type_; }
  std::string mode() const { return mode_; }  // explicit | implicit | imex
  double dt_initial() const { return dt0_; }
  PetscInt steps() const { return steps_; }
  double time() const { return time_; }
  double t_requested() const { return opt_.t_final; }
  // Why TSSolve stopped: final_time, max_steps (a user's -ts_max_steps), stationary
  // (-until_stationary), or PETSc's reason.
  const std::string& stop_reason() const { return stop_reason_; }
  // Steps rejected and retried smaller (negative or non-finite states, failed solves).
  PetscInt rejected_steps() const { return rejected_; }
  double dt_min() const { return dt_min_; }
  double dt_max() const { return dt_max_; }
  // Explicit runs and backward Euler with a positivity-preserving operator: every accepted state
  // is >= -tol max (backward Euler after projecting solver-tolerance negatives away).
  bool promises_positivity() const { return promise_positive_; }
  PetscInt positivity_projections() const { return projections_; }
  // Global absorbed mass (meaningful after solve); method: "quadrature", "mass-balance", or
  // "none" (no absorbing boundary).
  double absorbed_mass(double mass_initial, double mass_final) const;
  // The absorbing sides (2 axis + side; side 0 = low, 1 = high), and the mass each absorbed
  // (meaningful after solve; the same order). They sum to absorbed_mass(): exactly with the
  // quadrature (the total is their sum), to round-off with the mass balance.
  const std::vector<int>& absorbing_sides() const { return absorbing_sides_; }
  std::vector<double> absorbed_by_side(double mass_initial, double mass_final) const;
  std::string absorbed_method() const {
    return !absorbing_ ? "none" : quadrature_ ? "quadrature" : "mass-balance";
  }
  TS ts() const { return ts_; }
  bool stationary_reached() const { return stationary_reached_; }
  // solve() ended early at a step boundary because SIGINT/SIGTERM arrived (core/signals.hpp).
  bool interrupted() const { return interrupted_; }
  bool fused() const { return fused_; }
  double stationary_residual() const { return stationary_residual_; }

 private:
  static PetscErrorCode rhs_full(TS, PetscReal, Vec, Vec, void*);
  static PetscErrorCode rhs_explicit(TS, PetscReal, Vec, Vec, void*);
  static PetscErrorCode ifunction(TS, PetscReal, Vec, Vec, Vec, void*);
  static PetscErrorCode ijacobian(TS, PetscReal, Vec, Vec, PetscReal, Mat, Mat, void*);
  static PetscErrorCode outflow(TS, PetscReal, Vec, Vec, void*);
  void track_outflow(double t, Vec U);
  static PetscErrorCode monitor(TS, PetscInt, PetscReal, Vec, void*);
  void progress(PetscInt step, double t, Vec rho, bool force);
  static std::vector<std::string> default_multigrid_options(const Grid& g);
  static PetscErrorCode domain_check(TS, PetscReal, Vec, PetscBool*);
  static PetscErrorCode post_step(TS);
  void project_positive(Vec U);
  double default_step(double t);

  FokkerPlanckOperator& op_;
  StepperOptions opt_;
  TSH ts_;
  MatH J_, quad_J_;
  Part implicit_part_ = Part::full;  // what the IFunction carries in IMEX mode
  std::string type_, mode_;
  double dt0_ = 0, time_ = 0;
  PetscInt steps_ = 0;
  bool quadrature_ = false, absorbing_ = false, promise_positive_ = false;
  std::vector<int> absorbing_sides_;  // 2 axis + side, axes in order, low side first
  // track_outflow: per side (2 axis + side) the integrated outflow and the last rate, at time.
  std::array<double, 6> side_integral_{}, rate_prev_{};
  double track_time_ = -1;
  bool project_positive_ = false;
  PetscInt projections_ = 0;
  bool stationary_reached_ = false;
  bool interrupted_ = false;  // set by post_step() on a stop request
  bool fused_ = false;
  double stationary_residual_ = -1, stationary_rate_ = -1;
  VecH work_;  // -until_stationary: L rho
  StepControl control_;
  std::string stop_reason_ = "not run";
  PetscInt rejected_ = 0;
  double dt_min_ = std::numeric_limits<double>::infinity(), dt_max_ = 0, dt_last_ = 0;
  // The IJacobian on the fine grid and on every coarse multigrid level (-pc_type mg).
  CoarseLevels levels_;
  Observer observer_;
  double wall_start_ = 0, last_progress_ = -1e300;
  PetscInt last_progress_step_ = -1;
};

}  // namespace fpflow
