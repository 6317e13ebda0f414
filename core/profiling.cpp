// core/profiling.cpp — registration of fpflow's PETSc log stages and events.
#include "core/profiling.hpp"

namespace fpflow {

const Profiling& profiling() {
  static const Profiling p = [] {
    Profiling q{};
    PetscClassId cls;
    PetscClassIdRegister("fpflow", &cls);
    PetscLogStageRegister("fpflow: set-up", &q.setup);
    PetscLogStageRegister("fpflow: stepping", &q.stepping);
    PetscLogStageRegister("fpflow: output", &q.output);
    PetscLogStageRegister("fpflow: diagnostics", &q.diagnostics);
    PetscLogEventRegister("FPCoefficients", cls, &q.coefficients);
    PetscLogEventRegister("FPLinearSetup", cls, &q.linear_setup);
    PetscLogEventRegister("FPApply", cls, &q.apply);
    PetscLogEventRegister("FPFusedStep", cls, &q.fused_step);
    PetscLogEventRegister("FPGhosts", cls, &q.ghosts);
    PetscLogEventRegister("FPJacobian", cls, &q.jacobian);
    PetscLogEventRegister("FPRateBound", cls, &q.rate_bound);
    PetscLogEventRegister("FPFlowFields", cls, &q.flow_fields);
    PetscLogEventRegister("FPVTKWrite", cls, &q.vtk_write);
    return q;
  }();
  return p;
}

}  // namespace fpflow
