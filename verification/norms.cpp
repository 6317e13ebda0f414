// verification/norms.cpp — mass, minimum, cell-average fill and error norms on a Grid.
#include "verification/norms.hpp"

#include <cmath>

namespace fpflow {

namespace {
template <class Fn>
void for_each_owned_cell(const Grid& g, Fn&& fn) {
  std::ptrdiff_t n = 0;
  g.for_each_owned([&](std::array<PetscInt, 3> idx) {
    double lo[3] = {0, 0, 0}, hi[3] = {1, 1, 1};
    for (int d = 0; d < g.dim(); ++d) {
      lo[d] = g.face(d, idx[d]);
      hi[d] = g.face(d, idx[d] + 1);
    }
    fn(n++, lo, hi);
  });
}
}  // namespace

double mass(const Grid& g, Vec rho) {
  PetscReal s = 0;
  FP_CHECK(VecSum(rho, &s));
  return s * g.cell_volume();
}

double min_value(Vec rho) {
  PetscReal m = 0;
  FP_CHECK(VecMin(rho, nullptr, &m));
  return m;
}

void fill_cell_averages(const Grid& g, Vec rho, const CellAverage& f) {
  VecArray a(rho);
  for_each_owned_cell(g, [&](std::ptrdiff_t n, const double* lo, const double* hi) {
    a[n] = f(lo, hi);
  });
}

ErrorNorms error_norms(const Grid& g, Vec rho, const CellAverage& exact) {
  double local[3] = {0, 0, 0};
  {
    VecArrayRead a(rho);
    for_each_owned_cell(g, [&](std::ptrdiff_t n, const double* lo, const double* hi) {
      const double e = std::fabs(a[n] - exact(lo, hi));
      local[0] += e;
      local[1] += e * e;
      local[2] = std::max(local[2], e);
    });
  }
  double global[3];
  MPI_Allreduce(local, global, 2, MPI_DOUBLE, MPI_SUM, g.comm());
  MPI_Allreduce(local + 2, global + 2, 1, MPI_DOUBLE, MPI_MAX, g.comm());
  return {global[0] * g.cell_volume(), std::sqrt(global[1] * g.cell_volume()), global[2]};
}

}  // namespace fpflow
