// verification/norms.cpp — mass, minimum, cell-average fill and error norms on a Grid.
#include "verification/norms.hpp"

#include <array>
#include <cmath>
#include <vector>

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

// Each axis's factor over this rank's owned cells (unused axes: 1, an exact product factor).
std::array<std::vector<double>, 3> axis_tables(const Grid& g, const AxisAverage& f) {
  std::array<std::vector<double>, 3> t;
  for (int a = 0; a < 3; ++a) {
    if (a >= g.dim()) {
      t[a].assign(1, 1.0);
      continue;
    }
    t[a].resize(std::size_t(g.owned(a)));
    for (PetscInt i = 0; i < g.owned(a); ++i)
      t[a][i] = f(a, g.face(a, g.start(a) + i), g.face(a, g.start(a) + i + 1));
  }
  return t;
}

// fn(n, value) over owned cells in storage order (x fastest), value = product of the factors in
// axis order, as Gaussian cell averages multiply them.
template <class Fn>
void for_each_owned_product(const Grid& g, const AxisAverage& f, Fn&& fn) {
  const auto t = axis_tables(g, f);
  const PetscInt nx = g.owned(0), ny = g.dim() > 1 ? g.owned(1) : 1, nz = g.dim() > 2 ? g.owned(2) : 1;
  std::ptrdiff_t n = 0;
  for (PetscInt k = 0; k < nz; ++k)
    for (PetscInt j = 0; j < ny; ++j)
      for (PetscInt i = 0; i < nx; ++i) {
        double v = t[0][i];
        if (g.dim() > 1) v *= t[1][j];
        if (g.dim() > 2) v *= t[2][k];
        fn(n++, v);
      }
}
// fn(n, value) over owned cells in storage order with the law's cell averages.
template <class Fn>
void for_each_exact(const Grid& g, const ExactAverages& law, Fn&& fn) {
  if (law.axes)
    for_each_owned_product(g, law.axes, fn);
  else
    for_each_owned_cell(g, [&](std::ptrdiff_t n, const double* lo, const double* hi) {
      fn(n, law.cell(lo, hi));
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

void fill_cell_averages(const Grid& g, Vec rho, const ExactAverages& f) {
  VecArray a(rho);
  for_each_exact(g, f, [&](std::ptrdiff_t n, double v) { a[n] = v; });
}

void fill_cell_averages(const Grid& g, Vec rho, const CellAverage& f) {
  fill_cell_averages(g, rho, ExactAverages{f, {}});
}

ErrorNorms error_norms(const Grid& g, Vec rho, const ExactAverages& exact, double scale) {
  double local[3] = {0, 0, 0};
  {
    VecArrayRead a(rho);
    for_each_exact(g, exact, [&](std::ptrdiff_t n, double v) {
      const double e = std::fabs(a[n] - scale * v);
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

ErrorNorms error_norms(const Grid& g, Vec rho, const CellAverage& exact) {
  return error_norms(g, rho, ExactAverages{exact, {}});
}

}  // namespace fpflow
