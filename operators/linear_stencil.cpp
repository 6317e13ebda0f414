// operators/linear_stencil.cpp — weight storage and the sweep kernels of LinearStencil.
//
// The kernels are written so that GCC vectorises the inner loop (restrict pointers, no
// branches, x contiguous); this file is compiled with -ffp-contract=off (and, by default,
// -march=native, see CMakeLists.txt) so that a cell's update is the same expression with the
// same rounding on any rank count and in either weight mode (rank independence to the bit).
#include "operators/linear_stencil.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace fpflow {

LinearStencil::LinearStencil(const Grid& grid) : grid_(grid) {
  zeros_.assign(std::size_t(grid.owned(0)), 0.0);
}

void LinearStencil::set_face(int axis, std::array<PetscInt, 3> c, double A, double B) {
  if (A_[0].empty()) {  // first face: the streamed arrays, over the ghosted local layout
    std::size_t n = 1;
    for (int a = 0; a < 3; ++a) n *= std::size_t(grid_.gextent(a));
    for (int a = 0; a < grid_.dim(); ++a) {
      A_[a].assign(n, 0.0);
      B_[a].assign(n, 0.0);
    }
  }
  const std::ptrdiff_t l = grid_.local_index(c[0], c[1], c[2]);
  A_[axis][l] = A;
  B_[axis][l] = B;
}

void LinearStencil::set_axis(int axis, const std::vector<double>& A, const std::vector<double>& B) {
  const PetscInt M = grid_.cells(axis), s = grid_.start(axis);
  tA_[axis].assign(std::size_t(M + 1), 0.0);
  tB_[axis].assign(std::size_t(M + 1), 0.0);
  std::copy(A.begin(), A.end(), tA_[axis].begin() + s);
  std::copy(B.begin(), B.end(), tB_[axis].begin() + s);
}

void LinearStencil::finalize() {
  const int dim = grid_.dim();
  separable_ = A_[0].empty();
  for (int a = 0; a < dim && separable_; ++a)
    if (tA_[a].empty()) throw Error("internal: LinearStencil without weights along an axis");
  // Off an x wall the outside value is the mirror image (reflecting: the wall face carries no
  // weights) or 0 (absorbing), whatever each side's kind: either way the weight of the outside
  // neighbour, A of face 0 for the first cell and B of face M for the last, multiplies nothing.
  // Zeroing them (they enter no diagonal) lets euler() run whole lines without redoing the end
  // cells.
  const PetscInt M = grid_.cells(0), xs = grid_.start(0), xe = xs + grid_.owned(0);
  if (!grid_.periodic(0)) {
    if (separable_) {
      if (xs == 0) tA_[0][0] = 0;
      if (xe == M) tB_[0][std::size_t(M)] = 0;
    } else {
      for (PetscInt k = grid_.start(2); k < grid_.start(2) + grid_.owned(2); ++k)
        for (PetscInt j = grid_.start(1); j < grid_.start(1) + grid_.owned(1); ++j) {
          if (xs == 0) A_[0][grid_.local_index(0, j, k)] = 0;
          if (xe == M) B_[0][grid_.local_index(M, j, k)] = 0;
        }
    }
  }
  if (!separable_) {
    // The largest diagonal (outflow rate) of the owned rows: forward Euler is positive for
    // dt <= 1 / rate, so below that the step needs no check of its result.
    max_rate_ = 0;
    grid_.for_each_owned([&](std::array<PetscInt, 3> c) {
      const std::ptrdiff_t l = grid_.local_index(c[0], c[1], c[2]);
      double d = 0;
      for (int a = 0; a < dim; ++a) d += B_[a][l] + A_[a][l + grid_.lstride(a)];
      max_rate_ = std::max(max_rate_, d);
    });
    return;
  }
  // Separable: the same rate, as the sum of the per-axis maxima of B(low face) + A(high face)
  // in the same order (floating-point addition is monotone, and every combination of the axes'
  // indices is an owned cell, so this is the maximum of the sums, to the bit).
  max_rate_ = 0;
  for (int a = 0; a < dim; ++a) {
    double m = 0;
    for (PetscInt i = grid_.start(a); i < grid_.start(a) + grid_.owned(a); ++i)
      m = std::max(m, tB_[a][std::size_t(i)] + tA_[a][std::size_t(i + 1)]);
    max_rate_ += m;
  }
  // Diagonal along x per cell: dx[i] = B(face i) + A(face i + 1).
  tD_.assign(std::size_t(grid_.cells(0)), 0.0);
  for (PetscInt i = grid_.start(0); i < grid_.start(0) + grid_.owned(0); ++i)
    tD_[std::size_t(i)] = tB_[0][std::size_t(i)] + tA_[0][std::size_t(i + 1)];
}

double LinearStencil::bytes_per_cell_update() const {
  return separable_ ? 16.0 : 16.0 + 16.0 * grid_.dim();
}

// n cells of the x-line (j, k) starting at global i0: c points at their values, and the six
// neighbour pointers at the values of the cells -x, +x, -y, +y, -z, +z of each (aligned with c,
// so xm = c - 1 and xp = c + 1 inside a line). out at the cells' owned-layout slots.
template <int Dim, bool Sep, bool Euler>
void LinearStencil::segment(PetscInt i0, PetscInt n, PetscInt j, PetscInt k, const Nbr& p,
                            double dt, PetscScalar* __restrict__ out) const {
  const PetscScalar* __restrict__ c = p.c;
  const PetscScalar* __restrict__ xm = p.xm;
  const PetscScalar* __restrict__ xp = p.xp;
  const PetscScalar* __restrict__ ym = p.ym;
  const PetscScalar* __restrict__ yp = p.yp;
  const PetscScalar* __restrict__ zm = p.zm;
  const PetscScalar* __restrict__ zp = p.zp;
  if constexpr (Sep) {
    const double* __restrict__ ax = tA_[0].data() + i0;
    const double* __restrict__ bx = tB_[0].data() + i0 + 1;
    const double* __restrict__ dx = tD_.data() + i0;
    double ay = 0, by = 0, az = 0, bz = 0, dyz = 0;
    if constexpr (Dim > 1) ay = tA_[1][j], by = tB_[1][j + 1], dyz = tB_[1][j] + tA_[1][j + 1];
    if constexpr (Dim > 2) az = tA_[2][k], bz = tB_[2][k + 1], dyz += tB_[2][k] + tA_[2][k + 1];
    for (PetscInt m = 0; m < n; ++m) {
      const double v = c[m];
      double acc = ax[m] * xm[m] + bx[m] * xp[m];
      if constexpr (Dim > 1) acc += ay * ym[m] + by * yp[m];
      if constexpr (Dim > 2) acc += az * zm[m] + bz * zp[m];
      acc -= (dx[m] + dyz) * v;
      out[m] = Euler ? v + dt * acc : acc;
    }
  } else {
    const std::ptrdiff_t l = grid_.local_index(i0, j, k);
    const std::ptrdiff_t ly = grid_.lstride(1), lz = grid_.lstride(2);
    const double* __restrict__ ax = A_[0].data() + l;
    const double* __restrict__ bx = B_[0].data() + l;
    const double* __restrict__ ay = Dim > 1 ? A_[1].data() + l : nullptr;
    const double* __restrict__ by = Dim > 1 ? B_[1].data() + l : nullptr;
    const double* __restrict__ az = Dim > 2 ? A_[2].data() + l : nullptr;
    const double* __restrict__ bz = Dim > 2 ? B_[2].data() + l : nullptr;
    for (PetscInt m = 0; m < n; ++m) {
      const double v = c[m];
      double acc = ax[m] * xm[m] + bx[m + 1] * xp[m];
      double dyz = 0;  // summed in the separable kernel's order: dx + ((dy) + dz)
      if constexpr (Dim > 1) {
        acc += ay[m] * ym[m] + by[m + ly] * yp[m];
        dyz = by[m] + ay[m + ly];
      }
      if constexpr (Dim > 2) {
        acc += az[m] * zm[m] + bz[m + lz] * zp[m];
        dyz += bz[m] + az[m + lz];
      }
      acc -= ((bx[m] + ax[m + 1]) + dyz) * v;
      out[m] = Euler ? v + dt * acc : acc;
    }
  }
}

template <int Dim, bool Sep>
void LinearStencil::apply_impl(const PetscScalar* rho_local, PetscScalar* out) const {
  const PetscInt xs = grid_.start(0), xm = grid_.owned(0);
  const std::ptrdiff_t ly = grid_.lstride(1), lz = grid_.lstride(2);
  for (PetscInt k = grid_.start(2); k < grid_.start(2) + grid_.owned(2); ++k)
    for (PetscInt j = grid_.start(1); j < grid_.start(1) + grid_.owned(1); ++j) {
      const PetscScalar* c = rho_local + grid_.local_index(xs, j, k);
      const Nbr p{c, c - 1, c + 1, c - ly, c + ly, c - lz, c + lz};
      segment<Dim, Sep, false>(xs, xm, j, k, p, 0.0, out + grid_.owned_index(xs, j, k));
    }
}

namespace {
// min, max and finiteness of a contiguous run, in GCC vector types of two lanes (SSE2, the
// x86-64 baseline; scalar ternaries would not vectorise since they must honour NaN), two
// vectors per iteration. x - x is 0 for finite x and NaN for inf or NaN, so one sum says
// whether every value was finite.
typedef double Lanes __attribute__((vector_size(16)));
void run_stats(const PetscScalar* v, PetscInt n, StepStats& s) {
  Lanes mn0 = {s.min, s.min}, mx0 = {s.max, s.max}, f0 = {0, 0};
  Lanes mn1 = mn0, mx1 = mx0, f1 = f0;
  PetscInt m = 0;
  for (; m + 4 <= n; m += 4) {
    Lanes x, y;
    std::memcpy(&x, v + m, sizeof x);
    std::memcpy(&y, v + m + 2, sizeof y);
    mn0 = x < mn0 ? x : mn0;
    mx0 = x > mx0 ? x : mx0;
    f0 += x - x;
    mn1 = y < mn1 ? y : mn1;
    mx1 = y > mx1 ? y : mx1;
    f1 += y - y;
  }
  double lo = std::min({mn0[0], mn0[1], mn1[0], mn1[1]});
  double hi = std::max({mx0[0], mx0[1], mx1[0], mx1[1]});
  double f = f0[0] + f0[1] + f1[0] + f1[1];
  for (; m < n; ++m) {
    lo = std::min(lo, v[m]);
    hi = std::max(hi, v[m]);
    f += v[m] - v[m];
  }
  s.min = lo;
  s.max = hi;
  if (!(f == 0.0)) s.finite = false;
}
}  // namespace

// Where the value of the cell `g` (global index along `axis`, the others those of the line
// (j, k) at x = xs) lives: the owned array if owned, the local array's ghosts if another rank
// or a periodic wrap holds it, else the wall rule of a width-1 stencil on that side (reflecting:
// the mirror image is the boundary cell itself, `self`; absorbing: zero).
const PetscScalar* LinearStencil::line_of(int axis, PetscInt g, const PetscScalar* self,
                                          const PetscScalar* owned, const PetscScalar* local,
                                          std::array<PetscInt, 3> at) const {
  at[axis] = g;
  if (g >= grid_.start(axis) && g < grid_.start(axis) + grid_.owned(axis))
    return owned + grid_.owned_index(at[0], at[1], at[2]);
  if ((g >= 0 && g < grid_.cells(axis)) || grid_.periodic(axis))
    return local + grid_.local_index(at[0], at[1], at[2]);
  return grid_.bc(axis, g < 0 ? 0 : 1) == Boundary::reflecting ? self : zeros_.data();
}

template <int Dim, bool Sep, bool Check>
StepStats LinearStencil::euler_impl(const PetscScalar* rho_owned, const PetscScalar* rho_local,
                                    double dt, PetscScalar* out) const {
  const PetscInt xs = grid_.start(0), xm = grid_.owned(0);
  const PetscInt ys = grid_.start(1), ye = ys + grid_.owned(1);
  const PetscInt zs = grid_.start(2), ze = zs + grid_.owned(2);
  const std::ptrdiff_t oy = grid_.ostride(1), oz = grid_.ostride(2);
  const bool x_walls = !grid_.periodic(0) && xs == 0 && xm == grid_.cells(0);
  StepStats s;
  if (Check) s.min = HUGE_VAL, s.max = -HUGE_VAL;
  // Plain z, y order: a y-blocked (2.5-D) sweep, which keeps three planes' blocks in cache, was
  // measured slower here (320^3: 35 against 31 ms per step; 160^3: the same).
  for (PetscInt k = zs; k < ze; ++k)
    for (PetscInt j = ys; j < ye; ++j) {
      const std::array<PetscInt, 3> at{xs, j, k};
      const PetscScalar* c = rho_owned + grid_.owned_index(xs, j, k);
      PetscScalar* o = out + grid_.owned_index(xs, j, k);
      Nbr p{c, c - 1, c + 1, c - oy, c + oy, c - oz, c + oz};
      if (Dim > 1 && (j == ys || j == ye - 1)) {  // a neighbour row may be a ghost or a wall
        p.ym = line_of(1, j - 1, c, rho_owned, rho_local, at);
        p.yp = line_of(1, j + 1, c, rho_owned, rho_local, at);
      }
      if (Dim > 2 && (k == zs || k == ze - 1)) {
        p.zm = line_of(2, k - 1, c, rho_owned, rho_local, at);
        p.zp = line_of(2, k + 1, c, rho_owned, rho_local, at);
      }
      // Inside the array the whole line runs through one vector loop, its two end cells then
      // reading the neighbouring lines' values: one loop per line keeps the memory streams
      // going. Between two x walls those values count for nothing (finalize() zeroed the
      // wall weights); otherwise the ends are redone with the neighbour line_of gives them.
      const bool inside = c > rho_owned && c + xm < rho_owned + grid_.owned_cells();
      if (x_walls && inside && xm > 1) {
        segment<Dim, Sep, true>(xs, xm, j, k, p, dt, o);
        if (Check) run_stats(o, xm, s);
        continue;
      }
      const PetscScalar* left = line_of(0, xs - 1, c, rho_owned, rho_local, at);
      const PetscScalar* right = line_of(0, xs + xm, c + (xm - 1), rho_owned, rho_local, at);
      if (xm == 1) {
        p.xm = left, p.xp = right;
        segment<Dim, Sep, true>(xs, 1, j, k, p, dt, o);
      } else {
        if (inside)
          segment<Dim, Sep, true>(xs, xm, j, k, p, dt, o);
        else
          segment<Dim, Sep, true>(xs + 1, xm - 2, j, k, p.shifted(1), dt, o + 1);
        Nbr e = p;
        e.xm = left;
        segment<Dim, Sep, true>(xs, 1, j, k, e, dt, o);
        e = p.shifted(xm - 1);
        e.xp = right;
        segment<Dim, Sep, true>(xs + xm - 1, 1, j, k, e, dt, o + (xm - 1));
      }
      if (Check) run_stats(o, xm, s);
    }
  return s;
}

void LinearStencil::apply(const PetscScalar* rho_local, PetscScalar* out) const {
  switch (grid_.dim() * 2 + (separable_ ? 1 : 0)) {
    case 2: return apply_impl<1, false>(rho_local, out);
    case 3: return apply_impl<1, true>(rho_local, out);
    case 4: return apply_impl<2, false>(rho_local, out);
    case 5: return apply_impl<2, true>(rho_local, out);
    case 6: return apply_impl<3, false>(rho_local, out);
    default: return apply_impl<3, true>(rho_local, out);
  }
}

StepStats LinearStencil::euler(const PetscScalar* rho_owned, const PetscScalar* rho_local,
                               double dt, PetscScalar* out, bool check) const {
  const int mode = (grid_.dim() - 1) * 4 + (separable_ ? 2 : 0) + (check ? 1 : 0);
  switch (mode) {
    case 0: return euler_impl<1, false, false>(rho_owned, rho_local, dt, out);
    case 1: return euler_impl<1, false, true>(rho_owned, rho_local, dt, out);
    case 2: return euler_impl<1, true, false>(rho_owned, rho_local, dt, out);
    case 3: return euler_impl<1, true, true>(rho_owned, rho_local, dt, out);
    case 4: return euler_impl<2, false, false>(rho_owned, rho_local, dt, out);
    case 5: return euler_impl<2, false, true>(rho_owned, rho_local, dt, out);
    case 6: return euler_impl<2, true, false>(rho_owned, rho_local, dt, out);
    case 7: return euler_impl<2, true, true>(rho_owned, rho_local, dt, out);
    case 8: return euler_impl<3, false, false>(rho_owned, rho_local, dt, out);
    case 9: return euler_impl<3, false, true>(rho_owned, rho_local, dt, out);
    case 10: return euler_impl<3, true, false>(rho_owned, rho_local, dt, out);
    default: return euler_impl<3, true, true>(rho_owned, rho_local, dt, out);
  }
}

}  // namespace fpflow
