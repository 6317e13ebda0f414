// core/profiling.hpp — PETSc log stages and events for fpflow, so -log_view says where time goes.
//
// Stages (a run passes through them in order; output nests inside stepping):
//   fpflow: set-up       options, problem, grid, coefficient sampling, initial data, TS set-up
//   fpflow: stepping     TSSolve (time steps, implicit solves)
//   fpflow: output       VTK frames (drift, current, flow fields, writing)
//   fpflow: diagnostics  mass, error norms, the run summary
// Events (inside any stage): FPCoefficients (sampling b, a at faces), FPLinearSetup (the fast
// path's weights), FPApply (one operator evaluation), FPFusedStep (one fused Euler step),
// FPGhosts (ghost exchange of a fused step), FPJacobian (matrix assembly), FPRateBound
// (positivity bound and monotonicity scans), FPFlowFields, FPVTKWrite.
#pragma once

#include <petscsys.h>

namespace fpflow {

struct Profiling {
  PetscLogStage setup, stepping, output, diagnostics;
  PetscLogEvent coefficients, linear_setup, apply, fused_step, ghosts, jacobian, rate_bound,
      flow_fields, vtk_write;
};

// Registered with PETSc on first use (after PetscInitialize).
const Profiling& profiling();

// Scoped PetscLogEventBegin/End.
class ProfileEvent {
 public:
  explicit ProfileEvent(PetscLogEvent e) : e_(e) { PetscLogEventBegin(e_, 0, 0, 0, 0); }
  ~ProfileEvent() { PetscLogEventEnd(e_, 0, 0, 0, 0); }
  ProfileEvent(const ProfileEvent&) = delete;
  ProfileEvent& operator=(const ProfileEvent&) = delete;

 private:
  PetscLogEvent e_;
};

// Scoped PetscLogStagePush/Pop.
class ProfileStage {
 public:
  explicit ProfileStage(PetscLogStage s) { PetscLogStagePush(s); }
  ~ProfileStage() { PetscLogStagePop(); }
  ProfileStage(const ProfileStage&) = delete;
  ProfileStage& operator=(const ProfileStage&) = delete;
};

}  // namespace fpflow
