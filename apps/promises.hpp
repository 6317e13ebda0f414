// apps/promises.hpp — the promises a finished run must have kept before it may say "ok".
//
// The requested end (or a step limit the user set), a finite state, mass conserved (or
// accounted through absorbing walls) to what the integrator guarantees, and rho >= 0 where the
// run promised it. A run that breaks one ends "failed" with the reason (apps/driver.hpp).
#pragma once

#include "apps/run_summary.hpp"

#include <string>

namespace fpflow {

struct PromiseContext {
  bool user_step_limit = false;  // -ts_max_steps given: stopping there is what was asked
  double linear_rtol = 1e-12;    // the implicit solves' relative tolerance
  double max_density = 0;        // of the final state
};

// Mass tolerance of a run: explicit steps conserve mass to round-off (~1e-16 per step);
// implicit ones (and -steady) to the linear solver's relative tolerance per step.
double mass_tolerance(const RunSummary& s, double linear_rtol);

// The first broken promise, or "" when all were kept.
std::string broken_promise(const RunSummary& s, const PromiseContext& ctx);

}  // namespace fpflow
