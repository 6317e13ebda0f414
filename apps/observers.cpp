// apps/observers.cpp — frame writing and in-memory snapshots of a solve (observers.hpp).
#include "apps/observers.hpp"

#include "core/profiling.hpp"

#include <algorithm>

namespace fpflow {

void write_density_frame(FokkerPlanckOperator& op, VtkSeriesWriter& writer,
                         const FrameContent& content, double t, Vec rho) {
  ProfileStage stage(Stage::output);
  const Grid& grid = op.grid();
  LocalVec loc(grid.dm());
  grid.to_local(rho, loc);
  std::vector<double> drift, current;
  op.current(t, loc, current);
  op.drift_at_cells(t, drift);
  FokkerPlanckOperator::FlowFields flow;
  if (content.flow_fields) {
    // The floor is relative to the largest density (a documented, scale-free choice).
    PetscReal top = 0;
    FP_CHECK(VecMax(rho, nullptr, &top));
    op.flow_fields(t, loc, std::max(content.pf_floor * top, kDensityFloor), flow);
  }
  VecArrayRead d(rho);
  Frame frame;
  frame.density = d.data();
  frame.arrays = {{"drift", 3, &drift}, {"current", 3, &current}};
  if (content.flow_fields)
    frame.arrays.insert(frame.arrays.end(), {{"score", 3, &flow.score},
                                             {"velocity", 3, &flow.velocity},
                                             {"divergence", 1, &flow.divergence},
                                             {"mask", 1, &flow.mask}});
  ProfileEvent ev(profiling().vtk_write);
  writer.write(t, frame);
}

void FrameObserver::observe(PetscInt step, double t, Vec state) {
  // Frames only move forward: a rolled-back step comes again with an earlier number.
  if (step % every_ != 0 || step <= last_) return;
  write_density_frame(op_, writer_, content_, t, state);
  last_ = step;
}

void FrameObserver::finish(PetscInt step, double t, Vec state) {
  if (last_ == step) return;
  write_density_frame(op_, writer_, content_, t, state);
  last_ = step;
}

void SnapshotStore::keep(PetscInt step, double t, Vec state) {
  // A rolled-back step: drop what came after the state it returned to.
  while (!steps_.empty() && steps_.back() >= step) {
    steps_.pop_back();
    times_.pop_back();
    states_.pop_back();
  }
  VecH copy;
  FP_CHECK(VecDuplicate(state, copy.out()));
  FP_CHECK(VecCopy(state, copy));
  steps_.push_back(step);
  times_.push_back(t);
  states_.push_back(std::move(copy));
}

void SnapshotStore::observe(PetscInt step, double t, Vec state) {
  if (step % every_ == 0 || (!steps_.empty() && step <= steps_.back())) keep(step, t, state);
}

void SnapshotStore::finish(PetscInt step, double t, Vec state) {
  if (steps_.empty() || steps_.back() != step) keep(step, t, state);
}

void SnapshotStore::state_at(double t, Vec out) const {
  if (times_.empty()) throw Error("internal: no snapshot stored");
  if (t <= times_.front()) {
    FP_CHECK(VecCopy(states_.front(), out));
    return;
  }
  if (t >= times_.back()) {
    FP_CHECK(VecCopy(states_.back(), out));
    return;
  }
  const std::size_t i = std::upper_bound(times_.begin(), times_.end(), t) - times_.begin();
  const double w = (t - times_[i - 1]) / (times_[i] - times_[i - 1]);
  FP_CHECK(VecCopy(states_[i - 1], out));
  FP_CHECK(VecAXPBY(out, w, 1 - w, states_[i]));
}

}  // namespace fpflow
