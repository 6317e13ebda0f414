// apps/promises.cpp — checking a finished run's promises (promises.hpp).
#include "apps/promises.hpp"

#include "solvers/time_stepper.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

namespace fpflow {

double mass_tolerance(const RunSummary& s, double linear_rtol) {
  const double steps = s.steps ? double(std::max<PetscInt>(s.steps->steps, 1)) : 1.0;
  double per_step = 100 * std::numeric_limits<double>::epsilon();
  if (!s.steps || s.steps->mode != RunMode::explicit_steps)
    per_step = std::max(per_step, 10 * linear_rtol);
  return 1e-13 + steps * per_step;
}

namespace {

std::string early_stop(const StepsReport& r, bool user_limit) {
  const bool asked = r.stop_reason == "max_steps" && user_limit;
  if (r.stop_reason == "final_time" || r.stop_reason == "stationary" || asked) return "";
  char buf[512];
  std::snprintf(buf, sizeof buf, "the run stopped at t = %.9g before the requested final time "
                "%.9g (%s)", r.t_final, r.t_requested, r.stop_reason.c_str());
  return buf;
}

}  // namespace

std::string broken_promise(const RunSummary& s, const PromiseContext& ctx) {
  if (s.steps) {
    const std::string early = early_stop(*s.steps, ctx.user_step_limit);
    if (!early.empty()) return early;
  }
  if (!std::isfinite(s.mass_final)) return "the final density is not finite";
  char buf[512];
  const double tol = mass_tolerance(s, ctx.linear_rtol);
  if (!(std::fabs(s.mass_balance_error) <= tol)) {
    std::snprintf(buf, sizeof buf, "mass is not conserved: (final + absorbed - initial) / initial "
                  "= %.3g (initial %.17g, final %.17g), above the %.1g this run guarantees",
                  s.mass_balance_error, s.mass_initial, s.mass_final, tol);
    return buf;
  }
  if (s.positivity_guaranteed && s.min_density < -kNegativeTolerance * std::fabs(ctx.max_density)) {
    std::snprintf(buf, sizeof buf, "the density became negative (min %.3g, max %.3g) although "
                  "this scheme and step promise rho >= 0", s.min_density, ctx.max_density);
    return buf;
  }
  return "";
}

}  // namespace fpflow
