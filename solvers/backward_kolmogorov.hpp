// solvers/backward_kolmogorov.hpp — the adjoint solve: the backward Kolmogorov equation with the
// transposed discrete operator, backward in time from a terminal function.
//
//   d_t u + L(t)^T u = 0 on [0, T],  u(T) = g,
// solved in reversed time s = T - t as du/ds = L(T - s)^T u with PETSc TS (options prefix
// "adjoint_": -adjoint_ts_type, -adjoint_ts_dt, ...; default the forward default, rk 2a, with the
// forward run's step). u(x, t) = E[g(X_T) | X_t = x] for the grid's chain, so for the forward
// density rho(t) of the same operator
//   <u(t), rho(t)> = sum_K u_K rho_K |K| is constant in t,
// exactly (to round-off) when both solves take the same steps with a method whose step map is a
// polynomial or rational function of dt L (Runge-Kutta: its transpose is the same function of
// dt L^T, applied to the reversed stages): discrete duality, the test of an adjoint. With
// absorbing walls u vanishes there (an absorbed path pays g = 0), so u(0, x) is the probability
// weighted by g of surviving to T.
//
// L^T is the transpose of the operator's matrix (FokkerPlanckOperator::assemble_jacobian), so
// the operator must be linear (sg or upwind, no limited cross fluxes); the matrix is assembled
// once when the coefficients do not depend on t, at every evaluation time otherwise.
#pragma once

#include "operators/fp_operator.hpp"

#include <vector>

namespace fpflow {

struct BackwardOptions {
  double t_final = 1.0;  // T: u is given at T and computed at 0
  double dt = 0;         // step (0: -adjoint_ts_dt, or T / 100)
  // The forward run's accepted times 0 = t_0 < ... < t_n = T (e.g. a SnapshotStore's): when
  // given, the adjoint takes exactly these steps in reverse, which discrete duality needs when
  // the forward steps were not all equal.
  std::vector<double> forward_times;
};

class BackwardKolmogorov {
 public:
  BackwardKolmogorov(FokkerPlanckOperator& op, const BackwardOptions& opt);
  // u: g at T in, u(0) out. Throws Error if the integration fails.
  void solve(Vec u);
  // out = L(t)^T u.
  void apply_transpose(double t, Vec u, Vec out);
  PetscInt steps() const { return steps_; }
  TS ts() const { return ts_; }

 private:
  static PetscErrorCode rhs(TS, PetscReal s, Vec U, Vec F, void* ctx);
  static PetscErrorCode rhs_jacobian(TS, PetscReal s, Vec U, Mat A, Mat P, void* ctx);
  void update_matrix(double t);

  FokkerPlanckOperator& op_;
  BackwardOptions opt_;
  TSH ts_;
  void step_through_forward_times();
  MatH L_, LT_;  // the operator's matrix at matrix_time_, and its transpose
  MatH jac_;     // TS's copy of LT_ for implicit methods (TS shifts it in place)
  double matrix_time_ = -1;
  bool matrix_ready_ = false;
  PetscInt steps_ = 0;
};

}  // namespace fpflow
