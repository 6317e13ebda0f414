// core/resources.hpp — will the run fit? Memory and index limits checked before allocating.
//
// A grid too large for the machine used to end in the kernel's OOM killer (exit 137, no word) or
// in a PETSc allocation trace; one beyond 32-bit indices wrapped around. Both are now refused
// before the first large allocation, with the estimate and what the machine has.
#pragma once

#include <mpi.h>

#include <array>
#include <cstdint>
#include <string>

namespace fpflow {

// What a run keeps per cell (the estimate errs low: a refused run certainly does not fit).
struct RunFootprint {
  int dim = 2;
  bool implicit = false;     // assembled matrix, Krylov basis, multigrid levels
  bool box_stencil = false;  // 3^dim matrix entries per row instead of 2 dim + 1
  bool frames = false;       // VTK frames: the frame's arrays and VTK's own copies
  bool flow_fields = false;  // score, velocity, divergence, mask in every frame
};

// Bytes per cell of a run (peak, all ranks together), from the measured footprints in
// docs/PERFORMANCE.md: explicit 72-139 B/cell, implicit + multigrid ~500 B/cell.
double bytes_per_cell(const RunFootprint& f);

// Bytes this machine can still give: MemAvailable from /proc/meminfo, bounded by the cgroup's
// memory limit when there is one. Negative when unknown (then nothing is refused).
double available_memory_bytes();

// Collective. Refuses (Error) a grid of cells[0] x cells[1] x cells[2] whose cells or matrix
// entries exceed PETSc's 32-bit indices, or whose estimated memory on this node (its ranks'
// share of the cells) exceeds what the node has available:
//   "the grid (40000 x 40000 = 1.6e+09 cells) needs ~480.0 GB (~300 bytes per cell), this
//    machine has 23.4 GB available"
void check_grid_fits(MPI_Comm comm, const std::array<std::int64_t, 3>& cells,
                     const RunFootprint& f);

// The message part, without MPI or /proc (for tests): empty when the run fits.
std::string grid_fit_problem(const std::array<std::int64_t, 3>& cells, int dim,
                             const RunFootprint& f, int ranks, int ranks_on_node,
                             double available_bytes);

}  // namespace fpflow
