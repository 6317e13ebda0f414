// core/resources.cpp — per-cell memory estimate, available memory, 32-bit index limits.
#include "core/resources.hpp"

#include "core/petsc.hpp"

#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>

namespace fpflow {

double bytes_per_cell(const RunFootprint& f) {
  // State, second buffer and ghosted local vector; face coefficients (drift and diffusion per
  // axis, kept for the current and the rate bound); the integrator's work vectors.
  double b = 8 * 3 + 16.0 * f.dim + 16;
  if (f.implicit) {
    const double entries = f.box_stencil ? std::pow(3.0, f.dim) : 2.0 * f.dim + 1;
    // AIJ: 8-byte value + 4-byte column per entry, coarse levels add a third; GMRES holds
    // 15 vectors after its first cycle.
    b += entries * 12 * 4.0 / 3.0 + 15 * 8;
  }
  if (f.frames) b += 6 * 8 + 7 * 8;  // drift and current, then VTK's copies with the density
  if (f.frames && f.flow_fields) b += 8 * 8 + 8 * 8;  // score, velocity, divergence, mask, twice
  return b;
}

namespace {

double read_number(const std::string& path) {
  std::ifstream f(path);
  double v = -1;
  if (!(f >> v)) return -1;
  return v;
}

// The cgroup's remaining memory (limit - usage), or -1 when unlimited or unknown.
double cgroup_headroom() {
  std::ifstream cg("/proc/self/cgroup");
  std::string line;
  double best = -1;
  auto consider = [&](double limit, double usage) {
    if (limit <= 0 || limit > 1e18) return;
    const double room = limit - std::max(usage, 0.0);
    if (best < 0 || room < best) best = room;
  };
  while (std::getline(cg, line)) {
    const auto a = line.find(':'), b = line.find(':', a + 1);
    if (a == std::string::npos || b == std::string::npos) continue;
    const std::string controllers = line.substr(a + 1, b - a - 1), path = line.substr(b + 1);
    if (controllers.empty()) {  // cgroup v2
      const std::string d = "/sys/fs/cgroup" + path;
      consider(read_number(d + "/memory.max"), read_number(d + "/memory.current"));
    } else if (("," + controllers + ",").find(",memory,") != std::string::npos) {  // v1
      for (const std::string& d : {"/sys/fs/cgroup/memory" + path, std::string("/sys/fs/cgroup/memory")})
        consider(read_number(d + "/memory.limit_in_bytes"), read_number(d + "/memory.usage_in_bytes"));
    }
  }
  return best;
}

std::string gb(double bytes) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f GB", bytes / 1e9);
  return buf;
}

}  // namespace

double available_memory_bytes() {
  std::ifstream f("/proc/meminfo");
  std::string key;
  double kb = -1, avail = -1;
  std::string unit;
  while (f >> key >> kb) {
    std::getline(f, unit);
    if (key == "MemAvailable:") {
      avail = kb * 1024;
      break;
    }
  }
  const double cg = cgroup_headroom();
  if (cg >= 0 && (avail < 0 || cg < avail)) avail = cg;
  return avail;
}

std::string grid_fit_problem(const std::array<std::int64_t, 3>& cells, int dim,
                             const RunFootprint& f, int ranks, int ranks_on_node,
                             double available_bytes) {
  std::ostringstream shape;
  double n = 1;
  for (int a = 0; a < dim; ++a) {
    shape << (a ? " x " : "") << cells[a];
    n *= double(cells[a]);
  }
  char count[32];
  std::snprintf(count, sizeof(count), "%.3g", n);
  const std::string grid = "the grid (" + shape.str() + (dim > 1 ? " = " + std::string(count) : "") +
                           " cells)";
  const double index_max = double(std::numeric_limits<std::int32_t>::max());
  if (n > index_max)
    return grid + " has more cells than PETSc's 32-bit indices can number (at most 2147483647); "
                  "use fewer cells";
  if (f.implicit) {
    const double per_row = f.box_stencil ? std::pow(3.0, dim) : 2.0 * dim + 1;
    const double per_rank = n * per_row / std::max(ranks, 1);
    char e[32];
    std::snprintf(e, sizeof(e), "%.3g", per_rank);
    if (per_rank > index_max)
      return grid + " gives the implicit matrix " + e + " entries per rank, more than PETSc's "
                    "32-bit indices allow; use more ranks or fewer cells";
  }
  const double bpc = bytes_per_cell(f);
  const double need = n * bpc * double(ranks_on_node) / double(std::max(ranks, 1));
  if (available_bytes > 0 && need > available_bytes) {
    char per[32];
    std::snprintf(per, sizeof(per), "%.0f", bpc);
    return grid + " needs ~" + gb(need) + " of memory" +
           (ranks_on_node > 1 ? " on this machine's " + std::to_string(ranks_on_node) + " ranks" : "") +
           " (~" + per + " bytes per cell), this machine has " + gb(available_bytes) +
           " available; use fewer cells (-da_grid_x/y/z) or more machines";
  }
  return "";
}

void check_grid_fits(MPI_Comm comm, const std::array<std::int64_t, 3>& cells,
                     const RunFootprint& f) {
  MPI_Comm node;
  MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node);
  const int on_node = comm_size(node);
  const bool node_root = comm_rank(node) == 0;
  MPI_Comm_free(&node);
  // One reading per node (its first rank), so that ranks of one node agree.
  const std::string mine =
      node_root ? grid_fit_problem(cells, f.dim, f, comm_size(comm), on_node, available_memory_bytes())
                : "";
  throw_if_any(comm, mine);
}

}  // namespace fpflow
