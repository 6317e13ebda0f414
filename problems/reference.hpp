// problems/reference.hpp — whether a closed-form law is the solution on the run's box and walls.
//
// A law known in closed form (a problem's exact transient law or its stationary law) is a
// verification reference only where it solves the problem the grid solves: the Fokker-Planck
// equation on the box with the run's walls. Three cases (docs/MATH.md, "Exact laws on a box"):
//  * laws built for the walls (heat's images / eigen-series law) hold on any box;
//  * a free-space law (the Gaussians of heat and OU, Gibbs and mixture laws) holds on the box
//    only while the box holds it: its mass beyond the walls must stay below kTailTolerance over
//    the whole run (then the walls never touch it, whatever their kind);
//  * a stationary law with zero current (reversible: gradient-form drift, symmetric OU) restricted
//    to the box and renormalised is also the stationary law with reflecting walls, since the
//    zero current already satisfies the no-flux condition; periodic and absorbing walls break it.
// The driver reports "error" only against a valid reference, and "reference_error" with a warning
// otherwise (apps/driver.cpp).
#pragma once

#include "mesh/grid.hpp"

#include <array>
#include <string>

namespace fpflow {

// Mass a free-space law may leave beyond the walls and still count as the solution on the box:
// at this level the walls' effect is below the round-off of the errors it is compared with.
inline constexpr double kTailTolerance = 1e-12;

struct Reference {
  bool valid = false;     // the law is the solution on the box, to round-off
  std::string name;       // what the law is, e.g. "free-space law", "user exact law (-custom_exact)"
  double tail_mass = -1;  // its largest mass beyond the walls over the run (-1: not a free-space law)
  std::string why;        // when not valid: the reason, for the warning line
};

// The decision for a free-space law whose largest mass beyond the walls along each axis over the
// run is axis_tail[d] (d < dim; the union bound sum_d axis_tail[d] is reported as tail_mass).
// With `zero_current` (a stationary law of a reversible process) reflecting walls (both sides)
// on the axes that truncate the law keep it valid.
Reference free_space_reference(const std::string& name, int dim,
                               const std::array<double, 3>& axis_tail,
                               const Boundaries& bc, bool zero_current = false);

// Mass of N(m, s^2) outside [lo, hi], from the erfc tails (accurate when tiny; 0 for an
// unbounded interval).
double gaussian_tail(double lo, double hi, double m, double s);

}  // namespace fpflow
