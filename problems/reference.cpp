// problems/reference.cpp — the free-space-law decision of problems/reference.hpp.
#include "problems/reference.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>

namespace fpflow {

double gaussian_tail(double lo, double hi, double m, double s) {
  if (!(s > 0)) return m < lo || m > hi ? 1.0 : 0.0;
  const double r = 1.0 / (s * std::sqrt(2.0));
  const double below = std::isfinite(lo) ? 0.5 * std::erfc((m - lo) * r) : 0.0;
  const double above = std::isfinite(hi) ? 0.5 * std::erfc((hi - m) * r) : 0.0;
  return std::min(1.0, below + above);
}

Reference free_space_reference(const std::string& name, int dim,
                               const std::array<double, 3>& axis_tail,
                               const Boundaries& bc, bool zero_current) {
  Reference r;
  r.name = name;
  r.tail_mass = 0;
  for (int d = 0; d < dim; ++d) r.tail_mass += axis_tail[d];
  r.tail_mass = std::min(1.0, r.tail_mass);
  r.valid = true;
  const char* ax = "xyz";
  std::string walls;
  for (int d = 0; d < dim; ++d) {
    // An axis whose walls hold the law to round-off does not care about their kind; on a
    // truncating axis only a zero-current law with reflecting walls survives.
    if (axis_tail[d] <= kTailTolerance / dim) continue;
    if (zero_current && bc[d].lo == Boundary::reflecting && bc[d].hi == Boundary::reflecting)
      continue;
    r.valid = false;
    walls += std::string(walls.empty() ? "" : ", ") + ax[d] + " (" + to_string(bc[d]) + ")";
  }
  if (!r.valid) {
    std::ostringstream why;
    why.precision(2);
    why << "the walls along " << walls << " truncate it: up to " << std::scientific
        << r.tail_mass << " of its mass lies beyond them during the run (negligible below "
        << kTailTolerance << ")";
    if (zero_current) why << "; only reflecting walls keep a zero-current stationary law exact";
    r.why = why.str();
  }
  return r;
}

}  // namespace fpflow
