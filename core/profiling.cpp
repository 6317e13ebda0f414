// core/profiling.cpp — registration of fpflow's PETSc log stages and events.
#include "core/profiling.hpp"

#include <array>

namespace fpflow {

const Profiling& profiling() {
  static const Profiling p = [] {
    Profiling q{};
    PetscClassId cls;
    PetscClassIdRegister("fpflow", &cls);
    PetscLogEventRegister("FPCoefficients", cls, &q.coefficients);
    PetscLogEventRegister("FPLinearSetup", cls, &q.linear_setup);
    PetscLogEventRegister("FPInitialData", cls, &q.initial_data);
    PetscLogEventRegister("FPApply", cls, &q.apply);
    PetscLogEventRegister("FPFusedStep", cls, &q.fused_step);
    PetscLogEventRegister("FPGhosts", cls, &q.ghosts);
    PetscLogEventRegister("FPJacobian", cls, &q.jacobian);
    PetscLogEventRegister("FPRateBound", cls, &q.rate_bound);
    PetscLogEventRegister("FPFlowFields", cls, &q.flow_fields);
    PetscLogEventRegister("FPVTKWrite", cls, &q.vtk_write);
    PetscLogEventRegister("FPErrorNorms", cls, &q.error_norms);
    PetscLogEventRegister("FPSummaryWrite", cls, &q.summary_write);
    return q;
  }();
  return p;
}

ProfileStage::ProfileStage(Stage s) {
  static constexpr const char* names[] = {"fpflow: set-up", "fpflow: stepping", "fpflow: steady solve",
                                          "fpflow: output", "fpflow: diagnostics"};
  static std::array<PetscLogStage, 5> ids = {-1, -1, -1, -1, -1};
  PetscLogStage& id = ids[static_cast<int>(s)];
  if (id < 0 && PetscLogStageRegister(names[static_cast<int>(s)], &id) != 0) id = -1;
  pushed_ = id >= 0 && PetscLogStagePush(id) == 0;
}

}  // namespace fpflow
