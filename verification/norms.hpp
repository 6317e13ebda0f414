// verification/norms.hpp — discrete invariants and error norms of cell-average fields.
//
// Mass = sum(rho) |c|. Errors compare cell averages with EXACT cell averages (docs/VERIFICATION.md §1:
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
// product over the grid's axes).
using AxisAverage = std::function<double(int axis, double lo, double hi)>;

// An exact law's cell averages: per cell, and, when the law is a product over the axes, per
// axis. With `axes` set, fills and norms use it alone and evaluate each factor once per owned
// cell row of an axis: O(sum of cells per axis) evaluations instead of O(cells), the same values.
struct ExactAverages {
  CellAverage cell;
  AxisAverage axes;
};

double mass(const Grid& g, Vec rho);
double min_value(Vec rho);
// Fills rho with the cell averages (owned cells).
void fill_cell_averages(const Grid& g, Vec rho, const ExactAverages& f);
void fill_cell_averages(const Grid& g, Vec rho, const CellAverage& f);
// Norms of rho - scale x the cell averages.
ErrorNorms error_norms(const Grid& g, Vec rho, const ExactAverages& exact, double scale = 1.0);
ErrorNorms error_norms(const Grid& g, Vec rho, const CellAverage& exact);

}  // namespace fpflow
