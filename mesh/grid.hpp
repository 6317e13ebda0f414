// mesh/grid.hpp — a cell-centred uniform grid over a box, distributed on a PETSc DMDA (1-3-D).
//
// Conventions (written down once, used everywhere):
//  * Cells are indexed i = 0..M-1 per axis; cell i occupies [lo + i h, lo + (i+1) h], its
//    centre is lo + (i + 1/2) h. Unknowns are cell averages; mass = sum(rho) * cell_volume.
//  * Face i along an axis is the LOW face of cell i, at lo + i h; faces run 0..M. Face i
//    separates cell K = i-1 (low side) from cell L = i (high side). A positive face flux moves
//    mass from K to L.
//  * Axes beyond `dim` are degenerate (one cell, h = 1) so loops are written once for 3-D.
//  * Boundary kinds per SIDE of each axis (side 0 = the low end lo, side 1 = the high end hi):
//    reflecting (zero normal flux), absorbing (density zero on the wall; the outgoing flux leaves
//    the domain and is accounted), periodic (DMDA wraps the ghosts). Periodic joins the two ends
//    of an axis, so it is both sides or neither; "absorbing at lo, reflecting at hi" is an axis
//    like any other. Non-periodic axes use DM_BOUNDARY_GHOSTED so the ghost layer exists at the
//    physical boundary; fill_boundary_ghosts() writes it side by side (mirror for reflecting,
//    zero for absorbing).
#pragma once

#include "core/petsc.hpp"
#include "core/resources.hpp"

#include <array>
#include <string>
#include <vector>

namespace fpflow {

enum class Boundary { reflecting, periodic, absorbing };

// The walls of one axis: one kind per side. A single kind converts to both sides alike, so
// `Boundaries bc = {Boundary::absorbing, Boundary::periodic, ...}` still gives one kind per axis.
// There is no comparison with a single Boundary: a use says which side it means (side(s), lo,
// hi), or asks periodic() / any(kind).
struct AxisBoundary {
  Boundary lo = Boundary::reflecting, hi = Boundary::reflecting;
  constexpr AxisBoundary() = default;
  constexpr AxisBoundary(Boundary both) : lo(both), hi(both) {}  // both sides alike (implicit)
  constexpr AxisBoundary(Boundary low, Boundary high) : lo(low), hi(high) {}
  constexpr Boundary side(int s) const { return s == 0 ? lo : hi; }
  constexpr bool periodic() const { return lo == Boundary::periodic; }
  constexpr bool any(Boundary b) const { return lo == b || hi == b; }
  constexpr bool operator==(const AxisBoundary&) const = default;
  bool operator==(Boundary) const = delete;  // ambiguous: which side?
};
using Boundaries = std::array<AxisBoundary, 3>;

Boundary parse_boundary(const std::string& name);
std::string to_string(Boundary b);
// One axis's walls from "KIND" (both sides) or "LO:HI"; an empty or unknown side, more than two
// sides, or periodic on one side only (it joins both ends) is an Error naming the value.
AxisBoundary parse_axis_boundary(const std::string& value);
// "KIND" when both sides agree, else "LO:HI" (what parse_axis_boundary reads back).
std::string to_string(const AxisBoundary& b);
// "x_lo", "x_hi", "y_lo", ...: the name of a side in summaries.
std::string side_name(int axis, int side);

struct Box {
  std::array<double, 3> lo{0, 0, 0};
  std::array<double, 3> hi{1, 1, 1};
};

struct GridSpec {
  int dim = 2;
  Box box;
  Boundaries bc{};                             // reflecting on every side by default
  std::array<PetscInt, 3> cells{64, 64, 64};  // defaults; -da_grid_x/y/z override
  PetscInt stencil_width = 1;                  // ghost layers the flux scheme needs
  bool box_stencil = false;                    // corner ghosts too (cross-diffusion)
  // What the run will keep per cell: the grid is refused before allocation if it cannot fit.
  RunFootprint footprint;
};

// How a DMDA spreads its cells over ranks: ranks per axis and cells per rank along each axis.
struct Partition {
  std::array<PetscInt, 3> ranks{1, 1, 1};
  std::array<std::vector<PetscInt>, 3> cells;
};

// PETSc's own DMDA layout for `size` ranks (-da_processors_x/y/z in `requested`, PETSC_DECIDE
// elsewhere), computed on every rank alike. Throws Error with one collective line where PETSc
// would fail on some ranks only and leave the others waiting: fewer cells than ranks along an
// axis, or fewer cells on a rank than the stencil width (ghosts would span two neighbours).
Partition partition_grid(int dim, const std::array<PetscInt, 3>& cells, int size,
                         const std::array<PetscInt, 3>& requested, PetscInt stencil_width,
                         const std::array<bool, 3>& periodic);

class Grid {
 public:
  // Creates the DMDA; reads -da_grid_x/y/z, -da_processors_*, -da_refine through the options.
  Grid(MPI_Comm comm, const GridSpec& spec);
  // A coarse level of `like` on the DMDA `coarse` (made by DMCoarsen from like's; referenced).
  Grid(DM coarse, const Grid& like);

  DM dm() const { return dm_; }
  MPI_Comm comm() const { return comm_; }
  int dim() const { return dim_; }
  const Box& box() const { return box_; }
  // The wall kind at side 0 (lo) or 1 (hi) of an axis; the axis's two sides; periodic axis.
  Boundary bc(int axis, int side) const { return bc_[axis].side(side); }
  const AxisBoundary& boundary(int axis) const { return bc_[axis]; }
  bool periodic(int axis) const { return bc_[axis].periodic(); }
  PetscInt stencil_width() const { return width_; }
  bool box_stencil() const { return box_stencil_; }

  PetscInt cells(int a) const { return M_[a]; }      // global cells along axis a
  PetscInt start(int a) const { return xs_[a]; }     // first owned cell
  PetscInt owned(int a) const { return xm_[a]; }     // owned cells
  PetscInt gstart(int a) const { return gxs_[a]; }   // first ghosted cell
  PetscInt gextent(int a) const { return gxm_[a]; }  // ghosted cells
  double h(int a) const { return h_[a]; }
  double cell_volume() const { return volume_; }
  PetscInt owned_cells() const { return xm_[0] * xm_[1] * xm_[2]; }
  double global_cells() const { return double(M_[0]) * double(M_[1]) * double(M_[2]); }

  double centre(int a, PetscInt i) const { return box_.lo[a] + (double(i) + 0.5) * h_[a]; }
  double face(int a, PetscInt i) const { return box_.lo[a] + double(i) * h_[a]; }

  // Strides into the ghosted local array and into the owned (global-vector) array.
  std::ptrdiff_t lstride(int a) const { return ls_[a]; }
  std::ptrdiff_t ostride(int a) const { return os_[a]; }
  std::ptrdiff_t local_index(PetscInt i, PetscInt j, PetscInt k) const {
    return (i - gxs_[0]) * ls_[0] + (j - gxs_[1]) * ls_[1] + (k - gxs_[2]) * ls_[2];
  }
  std::ptrdiff_t owned_index(PetscInt i, PetscInt j, PetscInt k) const {
    return (i - xs_[0]) * os_[0] + (j - xs_[1]) * os_[1] + (k - xs_[2]) * os_[2];
  }

  // Calls fn({i, j, k}) for every owned cell, in owned-array order (x fastest).
  template <class Fn>
  void for_each_owned(Fn&& fn) const {
    for (PetscInt k = xs_[2]; k < xs_[2] + xm_[2]; ++k)
      for (PetscInt j = xs_[1]; j < xs_[1] + xm_[1]; ++j)
        for (PetscInt i = xs_[0]; i < xs_[0] + xm_[0]; ++i) fn(std::array<PetscInt, 3>{i, j, k});
  }

  // Writes the physical-boundary ghost layers of a ghosted local array (see header comment).
  void fill_boundary_ghosts(PetscScalar* local) const;

  // Global vector -> ghosted local array with boundary ghosts filled.
  void to_local(Vec global, Vec local) const;

  // The ghost points of `local` that hold data (another rank's cells, periodic wraps) from
  // `global`, without copying the owned cells: a scatter of those points only. Physical-wall
  // ghosts and the owned part of `local` are left untouched (LinearStencil::euler reads the
  // owned cells from the global array and applies the wall rules itself).
  void update_ghosts(Vec global, Vec local) const;

 private:
  void read_layout();
  MPI_Comm comm_;
  DMH dm_;
  int dim_;
  Box box_;
  Boundaries bc_;
  PetscInt width_;
  bool box_stencil_;
  std::array<PetscInt, 3> M_{1, 1, 1}, xs_{0, 0, 0}, xm_{1, 1, 1}, gxs_{0, 0, 0}, gxm_{1, 1, 1};
  std::array<double, 3> h_{1, 1, 1};
  std::array<std::ptrdiff_t, 3> ls_{1, 1, 1}, os_{1, 1, 1};
  double volume_ = 1;
  mutable VecScatterH ghost_scatter_;  // update_ghosts: ghost points only (built on first use)
};

// A DMDA global vector in natural ordering (x fastest) on rank 0, empty elsewhere (collective).
std::vector<double> gather_natural(DM dm, Vec v);

}  // namespace fpflow
