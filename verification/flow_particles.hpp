// verification/flow_particles.hpp — the probability-flow ODE driven by a grid solution.
//
// Deterministic particles dx/dt = v(x, t) with v = J/rho the grid's probability-flow velocity
// (FokkerPlanckOperator::flow_fields) have the Fokker-Planck marginals (docs/MATH.md), and carry
// their log-density along: d/dt log rho(x(t), t) = -div v(x(t), t).
//
// A FlowSnapshot is one grid state made available at any point on every rank: face velocities
// (gathered into natural order, exact copies of the operator's), the cell divergence and the cell
// log-density. Interpolation is multilinear on each field's own lattice: the velocity component
// a between the faces normal to a and between cell centres across; divergence and log rho
// between cell centres; constant beyond the outermost nodes. Two snapshots at t0 < t1 give the
// field in between by linear interpolation in time, second order like the grid.
#pragma once

#include "operators/fp_operator.hpp"
#include "verification/particles.hpp"

#include <array>
#include <vector>

namespace fpflow {

class FlowSnapshot {
 public:
  // Collective: the flow fields of rho at time t (floor relative to max rho, see -pf_floor).
  void capture(FokkerPlanckOperator& op, double t, Vec rho, double floor_rel = 1e-12);
  double time() const { return t_; }
  double max_log_rho() const { return max_log_rho_; }
  // Velocity (dim components), divergence and log-density at x (3 entries).
  void eval(const double* x, double* v, double* div, double* log_rho) const;

 private:
  double interpolate(const std::vector<double>& f, int face_axis, const double* x) const;
  double t_ = 0, max_log_rho_ = 0;
  int dim_ = 1;
  Box box_;
  std::array<PetscInt, 3> n_{1, 1, 1};
  std::array<double, 3> h_{1, 1, 1};
  std::array<std::vector<double>, 3> face_v_;  // axis a: (n_a + 1) faces x cells across, natural
  std::vector<double> div_, log_rho_;          // cells, natural
};

// Mean over live particles, where the grid density exceeds `cut` times its maximum, of
// |carried log rho - the snapshot's log rho at the particle|. Collective.
double log_density_mismatch(const Ensemble& e, const FlowSnapshot& s, double cut = 1e-3);

// The field between two snapshots (linear in time), for Ensemble::step_flow_rk4.
class FlowBetween : public FlowField {
 public:
  FlowBetween(const FlowSnapshot& a, const FlowSnapshot& b) : a_(a), b_(b) {}
  void eval(const double* x, double t, double* v, double* div) const override;

 private:
  const FlowSnapshot &a_, &b_;
};

}  // namespace fpflow
