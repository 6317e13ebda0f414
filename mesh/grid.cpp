// mesh/grid.cpp — DMDA construction, geometry and boundary ghost filling for Grid.
#include "mesh/grid.hpp"

#include "core/options.hpp"

#include <petsc/private/dmdaimpl.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace fpflow {

Boundary parse_boundary(const std::string& name) {
  if (name == "reflecting") return Boundary::reflecting;
  if (name == "periodic") return Boundary::periodic;
  if (name == "absorbing") return Boundary::absorbing;
  throw Error("unknown boundary kind '" + name + "'; valid: reflecting, periodic, absorbing");
}

std::string to_string(Boundary b) {
  switch (b) {
    case Boundary::reflecting: return "reflecting";
    case Boundary::periodic: return "periodic";
    case Boundary::absorbing: return "absorbing";
  }
  return "?";
}

AxisBoundary parse_axis_boundary(const std::string& value) {
  const std::size_t colon = value.find(':');
  if (colon == std::string::npos) return AxisBoundary(parse_boundary(value));
  if (value.find(':', colon + 1) != std::string::npos)
    throw Error("boundary '" + value +
                "' has more than two sides; give KIND (both sides) or LO:HI");
  const std::string lo = value.substr(0, colon), hi = value.substr(colon + 1);
  if (lo.empty() || hi.empty())
    throw Error("boundary '" + value + "' leaves the " + (lo.empty() ? "low" : "high") +
                " side empty; give KIND (both sides) or LO:HI with KIND one of reflecting, "
                "absorbing, periodic");
  AxisBoundary b;
  for (int side = 0; side < 2; ++side) {
    try {
      (side == 0 ? b.lo : b.hi) = parse_boundary(side == 0 ? lo : hi);
    } catch (const Error& e) {
      throw Error(std::string(e.what()) + " (in '" + value + "')");
    }
  }
  if ((b.lo == Boundary::periodic) != (b.hi == Boundary::periodic))
    throw Error("boundary '" + value + "': periodic joins the two sides of an axis, so it "
                "cannot be one side only; give 'periodic' for the axis");
  return b;
}

std::string to_string(const AxisBoundary& b) {
  return b.lo == b.hi ? to_string(b.lo) : to_string(b.lo) + ":" + to_string(b.hi);
}

std::string side_name(int axis, int side) {
  return std::string(1, "xyz"[axis]) + (side == 0 ? "_lo" : "_hi");
}

namespace {
// The grid must fit in 32-bit indices and in memory (core/resources.hpp); -da_grid_* values
// are named in the message.
void spec_footprint_check(MPI_Comm comm, const std::array<std::int64_t, 3>& cells,
                          RunFootprint f, int dim) {
  f.dim = dim;
  check_grid_fits(comm, cells, f);
}

// Coarse DMDAs made by DMCoarsen (multigrid) must also use cell-centred Q0 transfer; PETSc does
// not carry the interpolation type over in every dimension, so the hook sets it and re-arms
// itself on the coarse grid for the next level down.
PetscErrorCode keep_q0_on_coarsen(DM, DM coarse, void*) {
  PetscErrorCode ierr = DMDASetInterpolationType(coarse, DMDA_Q0);
  if (ierr) return ierr;
  return DMCoarsenHookAdd(coarse, keep_q0_on_coarsen, nullptr, nullptr);
}
}  // namespace

Grid::Grid(MPI_Comm comm, const GridSpec& spec)
    : comm_(comm),
      dim_(spec.dim),
      box_(spec.box),
      bc_(spec.bc),
      width_(spec.stencil_width),
      box_stencil_(spec.box_stencil) {
  if (dim_ < 1 || dim_ > 3) throw Error("-dim must be 1, 2 or 3, got " + std::to_string(dim_));
  const char* axis_name = "xyz";
  for (int a = 0; a < dim_; ++a)
    if ((bc_[a].lo == Boundary::periodic) != (bc_[a].hi == Boundary::periodic))
      throw Error(std::string("boundary along ") + axis_name[a] + " is '" + to_string(bc_[a]) +
                  "': periodic joins the two sides of an axis, so it cannot be one side only");
  for (int a = 0; a < dim_; ++a) {
    if (!(box_.lo[a] < box_.hi[a]) || !std::isfinite(box_.lo[a]) || !std::isfinite(box_.hi[a]))
      throw Error(std::string("empty box along ") + axis_name[a] + ": lo = " +
                  std::to_string(box_.lo[a]) + " is not below hi = " +
                  std::to_string(box_.hi[a]) + " (set -box_lo / -box_hi)");
  }
  std::array<PetscInt, 3> n = spec.cells;
  {
    OptionsBlock opt(comm, nullptr, "fpflow grid (cell-centred DMDA)");
    const char* names[3] = {"-da_grid_x", "-da_grid_y", "-da_grid_z"};
    const char* helps[3] = {"Cells along x", "Cells along y", "Cells along z"};
    for (int a = 0; a < dim_; ++a) {
      n[a] = opt.integer(names[a], helps[a], n[a]);
      if (n[a] < 1)
        throw Error(std::string(names[a]) + " must be at least 1, got " + std::to_string(n[a]));
    }
  }
  DMBoundaryType bt[3];
  for (int a = 0; a < 3; ++a)
    bt[a] = (a < dim_ && bc_[a].periodic()) ? DM_BOUNDARY_PERIODIC : DM_BOUNDARY_GHOSTED;
  FP_CHECK(DMDACreate(comm, dm_.out()));
  FP_CHECK(DMSetDimension(dm_, dim_));
  FP_CHECK(DMDASetSizes(dm_, n[0], dim_ > 1 ? n[1] : 1, dim_ > 2 ? n[2] : 1));
  FP_CHECK(DMDASetDof(dm_, 1));
  FP_CHECK(DMDASetStencilType(dm_, box_stencil_ ? DMDA_STENCIL_BOX : DMDA_STENCIL_STAR));
  FP_CHECK(DMDASetStencilWidth(dm_, width_));
  FP_CHECK(DMDASetBoundaryType(dm_, bt[0], bt[1], bt[2]));
  // Cell-centred unknowns: piecewise-constant transfer and M -> M/2 coarsening for multigrid.
  FP_CHECK(DMDASetInterpolationType(dm_, DMDA_Q0));
  FP_CHECK(DMCoarsenHookAdd(dm_, keep_q0_on_coarsen, nullptr, nullptr));
  {
    // -da_refine multiplies the cells inside DMSetFromOptions: refuse an overflow first (the
    // product over axes and the memory are checked below, on the final sizes).
    PetscInt refine = 0, factor[3] = {2, 2, 2};
    const char* fnames[3] = {"-da_refine_x", "-da_refine_y", "-da_refine_z"};
    FP_CHECK(PetscOptionsGetInt(nullptr, nullptr, "-da_refine", &refine, nullptr));
    for (int a = 0; a < dim_; ++a) {
      FP_CHECK(PetscOptionsGetInt(nullptr, nullptr, fnames[a], &factor[a], nullptr));
      double m = double(n[a]);
      for (PetscInt r = 0; r < refine && m < 1e12; ++r) m *= double(std::max<PetscInt>(factor[a], 1));
      if (!(m <= double(PETSC_MAX_INT)))
        throw Error("-da_refine " + std::to_string(refine) + " makes " + std::string(1, "xyz"[a]) +
                    " more than the 2147483647 cells PETSc's 32-bit indices can number");
    }
  }
  FP_CHECK(DMSetFromOptions(dm_));
  {
    // The final sizes and the requested ranks per axis (the DMDA's own fields: the public
    // getters need a set-up DM). Before any allocation: the grid must fit in 32-bit indices and
    // in memory; then PETSc's layout, computed here and given to it, so that a grid too small
    // for the ranks fails on every rank alike, as one line.
    const auto* dd = static_cast<const DM_DA*>(dm_.get()->data);
    const std::array<PetscInt, 3> M{dd->M, dim_ > 1 ? dd->N : 1, dim_ > 2 ? dd->P : 1};
    spec_footprint_check(comm, {M[0], M[1], M[2]}, spec.footprint, dim_);
    const Partition part = partition_grid(
        dim_, M, comm_size(comm), {dd->m, dim_ > 1 ? dd->n : 1, dim_ > 2 ? dd->p : 1}, width_,
        {bt[0] == DM_BOUNDARY_PERIODIC, bt[1] == DM_BOUNDARY_PERIODIC, bt[2] == DM_BOUNDARY_PERIODIC});
    FP_CHECK(DMDASetNumProcs(dm_, part.ranks[0], dim_ > 1 ? part.ranks[1] : PETSC_DECIDE,
                             dim_ > 2 ? part.ranks[2] : PETSC_DECIDE));
    FP_CHECK(DMDASetOwnershipRanges(dm_, part.cells[0].data(),
                                    dim_ > 1 ? part.cells[1].data() : nullptr,
                                    dim_ > 2 ? part.cells[2].data() : nullptr));
  }
  // Collective: with the layout checked above PETSc has no reason left to fail on one rank only.
  FP_CHECK(DMSetUp(dm_));

  read_layout();
}

// A coarse level of `like` (multigrid rediscretisation): the same box, boundaries and stencil
// on a DMDA that DMCoarsen made from like's.
Grid::Grid(DM coarse, const Grid& like)
    : comm_(like.comm_),
      dim_(like.dim_),
      box_(like.box_),
      bc_(like.bc_),
      width_(like.width_),
      box_stencil_(like.box_stencil_) {
  FP_CHECK(PetscObjectReference((PetscObject)coarse));
  *dm_.out() = coarse;
  read_layout();
}

void Grid::read_layout() {
  const char* axis_name = "xyz";
  DMDALocalInfo info;
  FP_CHECK(DMDAGetLocalInfo(dm_, &info));
  PetscInt Mg[3] = {info.mx, info.my, info.mz};
  PetscInt xs[3] = {info.xs, info.ys, info.zs}, xm[3] = {info.xm, info.ym, info.zm};
  PetscInt gxs[3] = {info.gxs, info.gys, info.gzs}, gxm[3] = {info.gxm, info.gym, info.gzm};
  volume_ = 1;
  for (int a = 0; a < dim_; ++a) {
    M_[a] = Mg[a];
    xs_[a] = xs[a];
    xm_[a] = xm[a];
    gxs_[a] = gxs[a];
    gxm_[a] = gxm[a];
    h_[a] = (box_.hi[a] - box_.lo[a]) / double(M_[a]);
    volume_ *= h_[a];
    if (bc_[a].periodic() && M_[a] < width_)
      throw Error(std::string("periodic axis ") + axis_name[a] + " needs at least " +
                  std::to_string(width_) + " cells");
  }
  ls_ = {1, gxm_[0], gxm_[0] * gxm_[1]};
  os_ = {1, xm_[0], xm_[0] * xm_[1]};
}

void Grid::fill_boundary_ghosts(PetscScalar* u) const {
  for (int a = 0; a < dim_; ++a) {
    if (bc_[a].periodic()) continue;
    const bool mirror_lo = bc_[a].lo == Boundary::reflecting;
    const bool mirror_hi = bc_[a].hi == Boundary::reflecting;
    const int b = (a + 1) % 3, c = (a + 2) % 3;  // the two transverse axes
    const bool has_low = xs_[a] == 0, has_high = xs_[a] + xm_[a] == M_[a];
    if (!has_low && !has_high) continue;
    for (PetscInt kc = 0; kc < gxm_[c]; ++kc)
      for (PetscInt kb = 0; kb < gxm_[b]; ++kb) {
        PetscScalar* line = u + kb * ls_[b] + kc * ls_[c];  // axis-a line, index (i - gxs_a)
        for (PetscInt g = 1; g <= width_; ++g) {
          if (has_low) {
            const PetscInt ghost = -g - gxs_[a], image = std::min(g - 1, M_[a] - 1) - gxs_[a];
            line[ghost * ls_[a]] = mirror_lo ? line[image * ls_[a]] : 0.0;
          }
          if (has_high) {
            const PetscInt ghost = M_[a] - 1 + g - gxs_[a];
            const PetscInt image = std::max<PetscInt>(M_[a] - g, 0) - gxs_[a];
            line[ghost * ls_[a]] = mirror_hi ? line[image * ls_[a]] : 0.0;
          }
        }
      }
  }
}

void Grid::update_ghosts(Vec global, Vec local) const {
  if (!ghost_scatter_) {
    // Ghost points that hold data (another rank's cell, or this rank's across a periodic wrap),
    // as natural indices mapped to PETSc's ordering by the DMDA's AO. Physical-boundary ghosts
    // are left to fill_boundary_ghosts; with a star stencil, points off the axes are unused.
    std::vector<PetscInt> from, to;
    for (PetscInt k = gxs_[2]; k < gxs_[2] + gxm_[2]; ++k)
      for (PetscInt j = gxs_[1]; j < gxs_[1] + gxm_[1]; ++j) {
        // On an owned (j, k) line only the x ghosts are ghosts: skip the owned run.
        const bool owned_line = j >= xs_[1] && j < xs_[1] + xm_[1] && k >= xs_[2] &&
                                k < xs_[2] + xm_[2];
        for (PetscInt i = gxs_[0]; i < gxs_[0] + gxm_[0]; ++i) {
          if (owned_line && i == xs_[0]) i = xs_[0] + xm_[0];
          if (i >= gxs_[0] + gxm_[0]) break;
          std::array<PetscInt, 3> c{i, j, k};
          int outside = 0;
          bool data = true;
          for (int a = 0; a < dim_; ++a) {
            if (c[a] >= xs_[a] && c[a] < xs_[a] + xm_[a]) continue;
            ++outside;
            if (c[a] < 0 || c[a] >= M_[a]) {
              if (!bc_[a].periodic()) data = false;
              c[a] = (c[a] % M_[a] + M_[a]) % M_[a];
            }
          }
          if (outside == 0 || !data || (!box_stencil_ && outside > 1)) continue;
          from.push_back(c[0] + M_[0] * (c[1] + M_[1] * c[2]));
          to.push_back(PetscInt(local_index(i, j, k)));
        }
      }
    // Natural -> PETSc ordering from the ownership ranges (the DMDA's AO would build a map of
    // every cell for this): the owner's offset plus the position inside the owner's box.
    const PetscInt* lr[3] = {nullptr, nullptr, nullptr};
    PetscInt np[3] = {1, 1, 1};
    FP_CHECK(DMDAGetInfo(dm_, nullptr, nullptr, nullptr, nullptr, &np[0], &np[1], &np[2], nullptr,
                         nullptr, nullptr, nullptr, nullptr, nullptr));
    FP_CHECK(DMDAGetOwnershipRanges(dm_, &lr[0], &lr[1], &lr[2]));
    std::array<std::vector<PetscInt>, 3> starts;
    for (int a = 0; a < 3; ++a) {
      starts[a].assign(1, 0);
      for (PetscInt p = 0; p < np[a]; ++p) starts[a].push_back(starts[a].back() + (lr[a] ? lr[a][p] : 1));
    }
    std::vector<PetscInt> rank_offset(std::size_t(np[0] * np[1] * np[2]) + 1, 0);
    for (PetscInt pk = 0, r = 0; pk < np[2]; ++pk)
      for (PetscInt pj = 0; pj < np[1]; ++pj)
        for (PetscInt pi = 0; pi < np[0]; ++pi, ++r)
          rank_offset[std::size_t(r + 1)] = rank_offset[std::size_t(r)] +
                                            (lr[0] ? lr[0][pi] : 1) * (lr[1] ? lr[1][pj] : 1) *
                                                (lr[2] ? lr[2][pk] : 1);
    for (PetscInt& g : from) {
      PetscInt c[3] = {g % M_[0], (g / M_[0]) % M_[1], g / (M_[0] * M_[1])}, p[3], o[3];
      for (int a = 0; a < 3; ++a) {
        p[a] = PetscInt(std::upper_bound(starts[a].begin(), starts[a].end(), c[a]) - starts[a].begin()) - 1;
        o[a] = c[a] - starts[a][std::size_t(p[a])];
      }
      const PetscInt r = p[0] + np[0] * (p[1] + np[1] * p[2]);
      const PetscInt w0 = lr[0] ? lr[0][p[0]] : 1, w1 = lr[1] ? lr[1][p[1]] : 1;
      g = rank_offset[std::size_t(r)] + o[0] + w0 * (o[1] + w1 * o[2]);
    }
    IS isf, ist;
    FP_CHECK(ISCreateGeneral(PETSC_COMM_SELF, PetscInt(from.size()), from.data(),
                             PETSC_COPY_VALUES, &isf));
    FP_CHECK(ISCreateGeneral(PETSC_COMM_SELF, PetscInt(to.size()), to.data(), PETSC_COPY_VALUES,
                             &ist));
    const PetscErrorCode ierr = VecScatterCreate(global, isf, local, ist, ghost_scatter_.out());
    ISDestroy(&isf);
    ISDestroy(&ist);
    FP_CHECK(ierr);
  }
  FP_CHECK(VecScatterBegin(ghost_scatter_, global, local, INSERT_VALUES, SCATTER_FORWARD));
  FP_CHECK(VecScatterEnd(ghost_scatter_, global, local, INSERT_VALUES, SCATTER_FORWARD));
}

void Grid::to_local(Vec global, Vec local) const {
  FP_CHECK(DMGlobalToLocalBegin(dm_, global, INSERT_VALUES, local));
  FP_CHECK(DMGlobalToLocalEnd(dm_, global, INSERT_VALUES, local));
  VecArray a(local);
  fill_boundary_ghosts(a.data());
}

namespace {
// PETSc's choice of ranks per axis (src/dm/impls/da/da2.c, da3.c): as square as the cell
// counts allow, honouring the axes the user fixed with -da_processors_*.
std::array<PetscInt, 3> ranks_per_axis(int dim, const std::array<PetscInt, 3>& c, PetscInt size,
                                       std::array<PetscInt, 3> r) {
  const double M = double(c[0]), N = double(c[1]), P = double(c[2]), S = double(size);
  PetscInt &m = r[0], &n = r[1], &p = r[2];
  const PetscInt D = PETSC_DECIDE;
  if (dim == 1) {
    if (m == D) m = size;
    return {m, 1, 1};
  }
  if (dim == 2) {
    if (m == D || n == D) {
      if (n != D) m = size / n;
      else if (m != D) n = size / m;
      else {
        m = PetscInt(0.5 + std::sqrt(M * S / N));
        if (!m) m = 1;
        while (m > 0) {
          n = size / m;
          if (m * n == size) break;
          --m;
        }
        if (M > N && m < n) std::swap(m, n);
      }
    }
    return {m, n, 1};
  }
  if (m == D && n != D && p != D) {
    m = size / (n * p);
  } else if (m != D && n == D && p != D) {
    n = size / (m * p);
  } else if (m != D && n != D && p == D) {
    p = size / (m * n);
  } else if (m == D && n == D && p != D) {
    m = PetscInt(0.5 + std::sqrt(M * S / (N * double(p))));
    if (!m) m = 1;
    while (m > 0) {
      n = size / (m * p);
      if (m * n * p == size) break;
      --m;
    }
    if (M > N && m < n) std::swap(m, n);
  } else if (m == D && n != D && p == D) {
    m = PetscInt(0.5 + std::sqrt(M * S / (P * double(n))));
    if (!m) m = 1;
    while (m > 0) {
      p = size / (m * n);
      if (m * n * p == size) break;
      --m;
    }
    if (M > P && m < p) std::swap(m, p);
  } else if (m != D && n == D && p == D) {
    n = PetscInt(0.5 + std::sqrt(N * S / (P * double(m))));
    if (!n) n = 1;
    while (n > 0) {
      p = size / (m * n);
      if (m * n * p == size) break;
      --n;
    }
    if (N > P && n < p) std::swap(n, p);
  } else if (m == D && n == D && p == D) {
    n = PetscInt(0.5 + std::pow(N * N * S / (P * M), 1.0 / 3.0));
    if (!n) n = 1;
    while (n > 0) {
      if (n * (size / n) == size) break;
      --n;
    }
    if (!n) n = 1;
    m = PetscInt(0.5 + std::sqrt(M * S / (P * double(n))));
    if (!m) m = 1;
    while (m > 0) {
      p = size / (m * n);
      if (m * n * p == size) break;
      --m;
    }
    if (M > P && m < p) std::swap(m, p);
  }
  return {m, n, p};
}
}  // namespace

Partition partition_grid(int dim, const std::array<PetscInt, 3>& cells, int size,
                         const std::array<PetscInt, 3>& requested, PetscInt stencil_width,
                         const std::array<bool, 3>& periodic) {
  const char* axis = "xyz";
  const std::string over = "cannot partition the grid over " + std::to_string(size) +
                           (size == 1 ? " rank" : " ranks") + ": ";
  for (int a = 0; a < dim; ++a) {
    const PetscInt r = requested[a];
    if (r != PETSC_DECIDE && (r < 1 || r > size))
      throw Error(over + "-da_processors_" + axis[a] + " " + std::to_string(r) +
                  " must be between 1 and the number of ranks");
  }
  Partition part;
  part.ranks = ranks_per_axis(dim, cells, size, requested);
  PetscInt product = 1;
  for (int a = 0; a < dim; ++a) product *= std::max<PetscInt>(part.ranks[a], 0);
  if (product != size) {
    std::string given;
    for (int a = 0; a < dim; ++a)
      given += (a ? " x " : "") + (requested[a] == PETSC_DECIDE ? std::string("?")
                                                                 : std::to_string(requested[a]));
    throw Error(over + "no layout of " + std::to_string(size) + " ranks fits -da_processors " +
                given + " (their product must be the number of ranks)");
  }
  for (int a = 0; a < dim; ++a) {
    const PetscInt M = cells[a], m = part.ranks[a];
    if (M < m)
      throw Error(over + std::to_string(M) + (M == 1 ? " cell" : " cells") + " along " + axis[a] + " for " +
                  std::to_string(m) + " ranks along " + axis[a] +
                  " (each rank needs at least one); use more cells or fewer ranks");
    for (PetscInt i = 0; i < m; ++i) part.cells[a].push_back(M / m + ((M % m) > i));
    // A rank's ghost layer must come from its direct neighbour (PETSc's condition; in 1-D it
    // also holds on one rank).
    const PetscInt thinnest = part.cells[a].back();
    const bool needs = m > 1 || periodic[a] || (dim == 1 && M > 1);
    if (needs && thinnest < stencil_width) {
      if (m == 1)
        throw Error(std::string(periodic[a] ? "periodic axis " : "axis ") + axis[a] + " needs at least " +
                    std::to_string(stencil_width) + " cells for the scheme's stencil, got " +
                    std::to_string(M));
      throw Error(over + std::to_string(M) + " cells along " + axis[a] + " over " +
                  std::to_string(m) + " ranks leave " + std::to_string(thinnest) +
                  (thinnest == 1 ? " cell" : " cells") + " on some rank, fewer than the stencil width " +
                  std::to_string(stencil_width) + "; use at least " +
                  std::to_string(m * stencil_width) + " cells along " + axis[a] + ", or fewer ranks");
    }
  }
  for (int a = dim; a < 3; ++a) part.cells[a].assign(1, 1);
  return part;
}

std::vector<double> gather_natural(DM dm, Vec v) {
  VecH natural, seq;
  FP_CHECK(DMDACreateNaturalVector(dm, natural.out()));
  FP_CHECK(DMDAGlobalToNaturalBegin(dm, v, INSERT_VALUES, natural));
  FP_CHECK(DMDAGlobalToNaturalEnd(dm, v, INSERT_VALUES, natural));
  VecScatter sc;
  FP_CHECK(VecScatterCreateToZero(natural, &sc, seq.out()));
  VecScatterH sch(sc);
  FP_CHECK(VecScatterBegin(sc, natural, seq, INSERT_VALUES, SCATTER_FORWARD));
  FP_CHECK(VecScatterEnd(sc, natural, seq, INSERT_VALUES, SCATTER_FORWARD));
  PetscInt n = 0;
  FP_CHECK(VecGetLocalSize(seq, &n));
  VecArrayRead a(seq);
  return std::vector<double>(a.data(), a.data() + n);
}

}  // namespace fpflow
