// solvers/backward_kolmogorov.cpp — the adjoint (backward Kolmogorov) solve
// (backward_kolmogorov.hpp).
#include "solvers/backward_kolmogorov.hpp"

#include <cmath>

namespace fpflow {

BackwardKolmogorov::BackwardKolmogorov(FokkerPlanckOperator& op, const BackwardOptions& opt)
    : op_(op), opt_(opt) {
  if (!op.linear())
    throw Error("the adjoint solve needs a linear operator (-fp_scheme sg or upwind, without "
                "limited cross-diffusion fluxes), not " + to_string(op.scheme()));
  if (!(opt.t_final > 0)) throw Error("the adjoint solve needs a positive final time");
  const Grid& g = op.grid();
  FP_CHECK(DMCreateMatrix(g.dm(), L_.out()));
  FP_CHECK(TSCreate(g.comm(), ts_.out()));
  FP_CHECK(TSSetOptionsPrefix(ts_, "adjoint_"));
  FP_CHECK(TSSetProblemType(ts_, TS_LINEAR));
  FP_CHECK(TSSetType(ts_, TSRK));
  FP_CHECK(TSRKSetType(ts_, TSRK2A));
  FP_CHECK(TSSetRHSFunction(ts_, nullptr, rhs, this));
  update_matrix(opt.t_final);
  FP_CHECK(MatDuplicate(LT_, MAT_COPY_VALUES, jac_.out()));
  FP_CHECK(TSSetRHSJacobian(ts_, jac_, jac_, rhs_jacobian, this));
  FP_CHECK(TSSetMaxTime(ts_, opt.t_final));
  FP_CHECK(TSSetTimeStep(ts_, opt.dt > 0 ? opt.dt : opt.t_final / 100));
  FP_CHECK(TSSetExactFinalTime(ts_, TS_EXACTFINALTIME_MATCHSTEP));
  // Fixed steps unless asked otherwise: duality with the forward run needs its steps.
  TSAdapt adapt;
  FP_CHECK(TSGetAdapt(ts_, &adapt));
  FP_CHECK(TSAdaptSetType(adapt, TSADAPTNONE));
  FP_CHECK(TSSetFromOptions(ts_));
}

void BackwardKolmogorov::update_matrix(double t) {
  if (matrix_ready_ && (op_.time_independent() || t == matrix_time_)) return;
  op_.assemble_jacobian(t, L_, Part::full);
  if (!matrix_ready_) {
    FP_CHECK(MatTranspose(L_, MAT_INITIAL_MATRIX, LT_.out()));
  } else {
    Mat lt = LT_;
    FP_CHECK(MatTranspose(L_, MAT_REUSE_MATRIX, &lt));
  }
  matrix_time_ = t;
  matrix_ready_ = true;
}

void BackwardKolmogorov::apply_transpose(double t, Vec u, Vec out) {
  update_matrix(t);
  FP_CHECK(MatMult(LT_, u, out));
}

PetscErrorCode BackwardKolmogorov::rhs(TS, PetscReal s, Vec U, Vec F, void* ctx) {
  auto* self = static_cast<BackwardKolmogorov*>(ctx);
  return guarded(self->op_.grid().comm(),
                 [&] { self->apply_transpose(self->opt_.t_final - s, U, F); });
}

PetscErrorCode BackwardKolmogorov::rhs_jacobian(TS, PetscReal s, Vec, Mat, Mat, void* ctx) {
  auto* self = static_cast<BackwardKolmogorov*>(ctx);
  return guarded(self->op_.grid().comm(), [&] {
    self->update_matrix(self->opt_.t_final - s);
    FP_CHECK(MatCopy(self->LT_, self->jac_, SAME_NONZERO_PATTERN));
  });
}

void BackwardKolmogorov::step_through_forward_times() {
  const std::vector<double>& t = opt_.forward_times;
  if (std::abs(t.back() - opt_.t_final) > 1e-12 * opt_.t_final || t.front() != 0.0)
    throw Error("the adjoint solve's forward times must run from 0 to its final time");
  FP_CHECK(TSSetUp(ts_));
  for (std::size_t i = t.size() - 1; i > 0; --i) {
    FP_CHECK(TSSetTimeStep(ts_, t[i] - t[i - 1]));
    FP_CHECK(TSStep(ts_));
    TSConvergedReason reason;
    FP_CHECK(TSGetConvergedReason(ts_, &reason));
    if (reason < 0)
      throw Error(std::string("the adjoint solve failed: ") + TSConvergedReasons[reason]);
  }
}

void BackwardKolmogorov::solve(Vec u) {
  FP_CHECK(TSSetTime(ts_, 0.0));
  FP_CHECK(TSSetStepNumber(ts_, 0));
  FP_CHECK(TSSetSolution(ts_, u));
  if (opt_.forward_times.size() > 1)
    step_through_forward_times();
  else
    FP_CHECK(TSSolve(ts_, u));
  TSConvergedReason reason;
  FP_CHECK(TSGetConvergedReason(ts_, &reason));
  if (reason < 0)
    throw Error(std::string("the adjoint solve failed: ") + TSConvergedReasons[reason]);
  FP_CHECK(TSGetStepNumber(ts_, &steps_));
  PetscReal s = 0;
  FP_CHECK(TSGetTime(ts_, &s));
  if (std::abs(s - opt_.t_final) > 1e-12 * opt_.t_final)
    throw Error("the adjoint solve stopped at t = " + std::to_string(opt_.t_final - s) +
                " instead of 0");
}

}  // namespace fpflow
