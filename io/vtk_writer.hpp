// io/vtk_writer.hpp — ParaView-ready time series of cell data, written in parallel.
//
// Layout under the output directory:
//   fpflow.pvd                     collection: one entry per frame with its time
//   frames/fpflow_NNNNN.pvti       parallel image data: whole extent, origin, spacing, pieces
//   frames/fpflow_NNNNN_RRRR.vti   one piece per rank with that rank's owned cells
// Each rank writes only its own piece (no gather); rank 0 writes the .pvti (extents of all
// pieces follow from the DMDA ownership ranges, no communication) and rewrites the .pvd after
// every rank reports its piece complete. All files go through tmp + rename.
// Arrays are CellData on the true cell geometry: density (the active scalars), current (the
// active vectors), and whatever else the frame carries (drift, score, velocity, ...).
#pragma once

#include "mesh/grid.hpp"

#include <string>
#include <utility>
#include <vector>

namespace fpflow {

// One frame: the density plus any number of named cell arrays over the owned cells, each with
// 1 or 3 components (drift, current, score, velocity, divergence, mask, ...).
struct CellArray {
  std::string name;
  int components = 1;
  const std::vector<double>* values = nullptr;  // components per owned cell
};
struct Frame {
  const double* density = nullptr;  // owned cells
  std::vector<CellArray> arrays;
};

class VtkSeriesWriter {
 public:
  // compressor: "lz4" (fast, the default), "zlib" (smaller, ~30 MB/s) or "none".
  VtkSeriesWriter(const Grid& grid, std::string dir, std::string compressor = "lz4");
  // Collective. Writes one frame at time t.
  void write(double t, const Frame& f);
  int frames() const { return int(times_.size()); }

 private:
  std::string piece_name(int frame, int rank) const;
  const Grid& grid_;
  std::string dir_;
  std::string compressor_;
  std::vector<std::pair<double, std::string>> times_;
};

}  // namespace fpflow
