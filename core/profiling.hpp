// core/profiling.hpp — PETSc log stages and events for fpflow, so -log_view says where time goes.
//
// Stages (a run passes through them in order; output nests inside stepping):
//   fpflow: set-up        options, problem, grid, coefficient sampling, initial data, TS set-up
//   fpflow: stepping      TSSolve (time steps, implicit solves)
//   fpflow: steady solve  -steady (Newton-Krylov, solvers/steady_state.hpp)
//   fpflow: output        VTK frames (drift, current, flow fields, writing)
//   fpflow: diagnostics   mass, error norms, the run summary
// A stage is registered with PETSc when it is first entered, so -log_view lists only the stages a
// run used (PETSc 3.18 prints a registered but unused stage as "Unknown").
//
// Events (inside any stage): FPCoefficients (sampling b, a at faces), FPLinearSetup (the fast
// path's weights), FPInitialData (initial cell averages and their checks), FPApply (one operator
// evaluation), FPFusedStep (one fused Euler step), FPGhosts (ghost exchange of a fused step),
// FPJacobian (matrix assembly, every multigrid level), FPRateBound (positivity bound and
// monotonicity check), FPFlowFields, FPVTKWrite, FPErrorNorms (reference law and error norms),
// FPSummaryWrite (summary.json and options.txt).
#pragma once

#include <petscsys.h>

namespace fpflow {

enum class Stage { setup, stepping, steady, output, diagnostics };

struct Profiling {
  PetscLogEvent coefficients, linear_setup, initial_data, apply, fused_step, ghosts, jacobian,
      rate_bound, flow_fields, vtk_write, error_norms, summary_write;
};

// Events are registered with PETSc on first use (after PetscInitialize).
const Profiling& profiling();

// Scoped PetscLogEventBegin/End.
class ProfileEvent {
 public:
  explicit ProfileEvent(PetscLogEvent e) : e_(e) { PetscLogEventBegin(e_, 0, 0, 0, 0); }
  ~ProfileEvent() { end(); }
  // Ends the event before the scope does (idempotent).
  void end() {
    if (open_) PetscLogEventEnd(e_, 0, 0, 0, 0);
    open_ = false;
  }
  ProfileEvent(const ProfileEvent&) = delete;
  ProfileEvent& operator=(const ProfileEvent&) = delete;

 private:
  PetscLogEvent e_;
  bool open_ = true;
};

// Scoped PetscLogStagePush/Pop; registers the stage the first time any rank's run enters it (every
// rank runs the same stages in the same order, so the numbering agrees across ranks).
class ProfileStage {
 public:
  explicit ProfileStage(Stage s);
  ~ProfileStage() {
    if (pushed_) PetscLogStagePop();
  }
  ProfileStage(const ProfileStage&) = delete;
  ProfileStage& operator=(const ProfileStage&) = delete;

 private:
  bool pushed_ = false;  // pop only what this object pushed
};

}  // namespace fpflow
