// apps/observers.hpp — what watches a solve: VTK frames, snapshots kept in memory, user hooks.
//
// A solve reports every accepted state (step 0 included) to the observers attached to it, and
// its last state once more at the end (finish). A step that is rolled back is reported again
// with an earlier step number, so an observer that must only move forward checks the number.
// Observers never change the state.
#pragma once

#include "core/petsc.hpp"
#include "io/vtk_writer.hpp"
#include "operators/fp_operator.hpp"

#include <functional>
#include <memory>
#include <vector>

namespace fpflow {

class SolveObserver {
 public:
  virtual ~SolveObserver() = default;
  virtual void observe(PetscInt step, double t, Vec state) = 0;
  // After the last step (or after a steady solve, with step 0).
  virtual void finish(PetscInt step, double t, Vec state) {}
};

// The observers of one solve, in the order they were attached (not owned).
class ObserverList {
 public:
  void attach(SolveObserver& o) { list_.push_back(&o); }
  void observe(PetscInt step, double t, Vec state) const {
    for (auto* o : list_) o->observe(step, t, state);
  }
  void finish(PetscInt step, double t, Vec state) const {
    for (auto* o : list_) o->finish(step, t, state);
  }

 private:
  std::vector<SolveObserver*> list_;
};

// A function as an observer (tests' and apps' per-step hooks).
class CallbackObserver : public SolveObserver {
 public:
  using Callback = std::function<void(PetscInt, double, Vec)>;
  explicit CallbackObserver(Callback f) : f_(std::move(f)) {}
  void observe(PetscInt step, double t, Vec state) override {
    if (f_) f_(step, t, state);
  }

 private:
  Callback f_;
};

// What a VTK frame of a density carries: density, drift, current and, with flow fields, the
// score, velocity, divergence and mask, all from one pass over the faces.
struct FrameContent {
  bool flow_fields = true;
  double pf_floor = 1e-12;  // relative to max rho
};
void write_density_frame(FokkerPlanckOperator& op, VtkSeriesWriter& writer,
                         const FrameContent& content, double t, Vec rho);

// Writes a frame every `every` steps and of the final state (unless it was just written).
class FrameObserver : public SolveObserver {
 public:
  FrameObserver(FokkerPlanckOperator& op, VtkSeriesWriter& writer, FrameContent content,
                PetscInt every)
      : op_(op), writer_(writer), content_(content), every_(every) {}
  void observe(PetscInt step, double t, Vec state) override;
  void finish(PetscInt step, double t, Vec state) override;

 private:
  FokkerPlanckOperator& op_;
  VtkSeriesWriter& writer_;
  FrameContent content_;
  PetscInt every_;
  PetscInt last_ = -1;
};

// Copies of the state at every `every`-th accepted step (and the last), kept in memory for a
// later solve on the same grid (a backward solve's terminal data, a velocity series). A rolled
// back step replaces the snapshots after it. state_at() interpolates linearly in time.
class SnapshotStore : public SolveObserver {
 public:
  explicit SnapshotStore(PetscInt every = 1) : every_(every) {}
  void observe(PetscInt step, double t, Vec state) override;
  void finish(PetscInt step, double t, Vec state) override;

  std::size_t size() const { return times_.size(); }
  double time(std::size_t i) const { return times_[i]; }
  Vec state(std::size_t i) const { return states_[i]; }
  // out = the state at time t (linear between snapshots; t outside the span is clamped).
  void state_at(double t, Vec out) const;

 private:
  void keep(PetscInt step, double t, Vec state);
  PetscInt every_;
  std::vector<PetscInt> steps_;
  std::vector<double> times_;
  std::vector<VecH> states_;
};

}  // namespace fpflow
