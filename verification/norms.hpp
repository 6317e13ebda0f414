// verification/norms.hpp — discrete invariants and error norms of cell-average fields.
//
// Mass = sum(rho) |c|. Errors compare cell averages with EXACT cell averages (VERIFICATION.md:
// point values at centres differ by O(h^2) and would change the error constant):
//   L1 = sum |e| |c|,  L2 = sqrt(sum e^2 |c|),  Linf = max |e|.
#pragma once

#include "mesh/grid.hpp"

#include <functional>

namespace fpflow {

struct ErrorNorms {
  double L1 = 0, L2 = 0, Linf = 0;
};

// Exact cell average over [lo, hi] (3 entries each, unused axes ignored).
using CellAverage = std::function<double(const double* lo, const double* hi)>;

// A product-form cell average: the factor along `axis` over [lo, hi] (the cell average is the
// product over the grid's axes). Fills and norms then evaluate each factor once per owned cell
// row of an axis: O(sum of cells per axis) evaluations instead of O(cells).
using AxisAverage = std::function<double(int axis, double lo, double hi)>;

double mass(const Grid& g, Vec rho);
double min_value(Vec rho);
// Fills rho with cell averages (owned cells).
void fill_cell_averages(const Grid& g, Vec rho, const CellAverage& f);
ErrorNorms error_norms(const Grid& g, Vec rho, const CellAverage& exact);
// The same for a product-form average, times `scale`.
void fill_cell_averages(const Grid& g, Vec rho, const AxisAverage& f);
ErrorNorms error_norms(const Grid& g, Vec rho, const AxisAverage& exact, double scale = 1.0);

}  // namespace fpflow
