// io/vtk_writer.cpp — per-rank .vti pieces through VTK's XML writer, .pvti/.pvd by rank 0.
#include "io/vtk_writer.hpp"

#include "io/output.hpp"

#include <vtkCellData.h>
#include <vtkDoubleArray.h>
#include <vtkErrorCode.h>
#include <vtkImageData.h>
#include <vtkNew.h>
#include <vtkXMLImageDataWriter.h>

#include <cstdio>
#include <filesystem>
#include <sstream>

namespace fpflow {

namespace {
// True when the file ends with VTK's closing tag (complete XML file).
bool ends_with_closing_tag(const std::string& path) {
  static const std::string tag = "</VTKFile>";
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return false;
  char buf[64] = {0};
  std::size_t n = 0;
  if (std::fseek(f, -long(sizeof(buf)), SEEK_END) != 0) std::rewind(f);
  n = std::fread(buf, 1, sizeof(buf), f);
  std::fclose(f);
  const std::string tail(buf, n);
  const auto at = tail.rfind(tag);
  return at != std::string::npos && tail.find_first_not_of(" \n\r", at + tag.size()) == std::string::npos;
}

std::string fmt_double(double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.17g", v);
  return buf;
}
}  // namespace

VtkSeriesWriter::VtkSeriesWriter(const Grid& grid, std::string dir, std::string compressor)
    : grid_(grid), dir_(std::move(dir)), compressor_(std::move(compressor)) {
  // fpflow reports a failed write itself, as one line; VTK's own multi-line report would
  // duplicate it on every rank.
  vtkObject::GlobalWarningDisplayOff();
  std::string err;
  if (comm_rank(grid_.comm()) == 0) {
    std::error_code ec;
    std::filesystem::create_directories(dir_ + "/frames", ec);
    if (ec) err = "cannot create " + dir_ + "/frames: " + ec.message();
  }
  throw_if_any(grid_.comm(), err);
}

std::string VtkSeriesWriter::piece_name(int frame, int rank) const {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "fpflow_%05d_%04d.vti", frame, rank);
  return buf;
}

void VtkSeriesWriter::write(double t, const Frame& f) {
  const MPI_Comm comm = grid_.comm();
  const int rank = comm_rank(comm), frame = frames();
  const int dim = grid_.dim();
  std::string err;
  try {
    vtkNew<vtkImageData> img;
    int ext[6] = {0, 0, 0, 0, 0, 0};
    double origin[3] = {0, 0, 0}, spacing[3] = {1, 1, 1};
    for (int d = 0; d < dim; ++d) {
      ext[2 * d] = int(grid_.start(d));
      ext[2 * d + 1] = int(grid_.start(d) + grid_.owned(d));
      origin[d] = grid_.box().lo[d];
      spacing[d] = grid_.h(d);
    }
    img->SetExtent(ext);
    img->SetOrigin(origin);
    img->SetSpacing(spacing);
    const vtkIdType n = grid_.owned_cells();
    vtkNew<vtkDoubleArray> density;
    density->SetName("density");
    density->SetNumberOfTuples(n);
    for (vtkIdType c = 0; c < n; ++c) density->SetValue(c, f.density[c]);
    img->GetCellData()->SetScalars(density);
    for (const CellArray& a : f.arrays) {
      vtkNew<vtkDoubleArray> arr;
      arr->SetName(a.name.c_str());
      arr->SetNumberOfComponents(a.components);
      arr->SetNumberOfTuples(n);
      for (vtkIdType c = 0; c < a.components * n; ++c) arr->SetValue(c, (*a.values)[c]);
      if (a.name == "current") img->GetCellData()->SetVectors(arr);
      else img->GetCellData()->AddArray(arr);
    }
    const std::string path = dir_ + "/frames/" + piece_name(frame, rank);
    vtkNew<vtkXMLImageDataWriter> w;
    w->SetFileName((path + ".tmp").c_str());
    w->SetInputData(img);
    w->SetDataModeToAppended();
    w->EncodeAppendedDataOff();
    if (compressor_ == "none") w->SetCompressorTypeToNone();
    else if (compressor_ == "zlib") w->SetCompressorTypeToZLib();
    else w->SetCompressorTypeToLZ4();
    const std::string tmp = path + ".tmp";
    if (w->Write() != 1 || w->GetErrorCode() != vtkErrorCode::NoError) {
      const unsigned long code = w->GetErrorCode();
      std::remove(tmp.c_str());
      err = "cannot write " + path + ": " +
            (code == vtkErrorCode::OutOfDiskSpaceError ? std::string("no space left on device")
             : code == vtkErrorCode::NoError           ? std::string("VTK writer failed")
                                                       : std::string(vtkErrorCode::GetStringFromErrorCode(code)));
    } else {
      // VTK closes its stream without checking the last flush: a file cut short (full disk,
      // file-size limit) lacks the closing tag and must not be renamed into place.
      if (!ends_with_closing_tag(tmp)) {
        std::remove(tmp.c_str());
        err = "cannot write " + path + ": the file is incomplete (disk full or file too large)";
      } else {
        commit_file(tmp, path);
      }
    }
  } catch (const std::exception& e) {
    err = e.what();
  }
  throw_if_any(comm, err);  // every piece is complete before the index files mention it

  char stem[64];
  std::snprintf(stem, sizeof(stem), "fpflow_%05d", frame);
  times_.emplace_back(t, std::string("frames/") + stem + ".pvti");
  if (rank == 0) {
    try {
      const PetscInt *l[3] = {nullptr, nullptr, nullptr};
      PetscInt m[3] = {1, 1, 1};
      FP_CHECK(DMDAGetInfo(grid_.dm(), nullptr, nullptr, nullptr, nullptr, &m[0], &m[1], &m[2],
                           nullptr, nullptr, nullptr, nullptr, nullptr, nullptr));
      FP_CHECK(DMDAGetOwnershipRanges(grid_.dm(), &l[0], &l[1], &l[2]));
      std::ostringstream s;
      s << "<?xml version=\"1.0\"?>\n"
        << "<VTKFile type=\"PImageData\" version=\"1.0\" byte_order=\"LittleEndian\" "
           "header_type=\"UInt64\">\n  <PImageData WholeExtent=\"";
      for (int d = 0; d < 3; ++d) s << (d ? " " : "") << 0 << " " << (d < dim ? grid_.cells(d) : 0);
      s << "\" GhostLevel=\"0\" Origin=\"";
      for (int d = 0; d < 3; ++d) s << (d ? " " : "") << fmt_double(d < dim ? grid_.box().lo[d] : 0);
      s << "\" Spacing=\"";
      for (int d = 0; d < 3; ++d) s << (d ? " " : "") << fmt_double(d < dim ? grid_.h(d) : 1);
      s << "\">\n    <PCellData Scalars=\"density\" Vectors=\"current\">\n"
        << "      <PDataArray type=\"Float64\" Name=\"density\"/>\n";
      for (const CellArray& a : f.arrays)
        s << "      <PDataArray type=\"Float64\" Name=\"" << a.name << "\" NumberOfComponents=\""
          << a.components << "\"/>\n";
      s << "    </PCellData>\n";
      const int size = comm_size(comm);
      for (int r = 0; r < size; ++r) {
        int p[3] = {int(r % m[0]), int((r / m[0]) % m[1]), int(r / (m[0] * m[1]))};
        s << "    <Piece Extent=\"";
        for (int d = 0; d < 3; ++d) {
          PetscInt start = 0, count = 0;
          if (d < dim) {
            for (int q = 0; q < p[d]; ++q) start += l[d][q];
            count = l[d][p[d]];
          }
          s << (d ? " " : "") << start << " " << start + count;
        }
        s << "\" Source=\"" << piece_name(frame, r) << "\"/>\n";
      }
      s << "  </PImageData>\n</VTKFile>\n";
      write_file_atomic(dir_ + "/frames/" + stem + ".pvti", s.str());

      std::ostringstream c;
      c << "<?xml version=\"1.0\"?>\n<VTKFile type=\"Collection\" version=\"0.1\" "
           "byte_order=\"LittleEndian\">\n  <Collection>\n";
      for (const auto& [time, file] : times_)
        c << "    <DataSet timestep=\"" << fmt_double(time) << "\" group=\"\" part=\"0\" file=\""
          << file << "\"/>\n";
      c << "  </Collection>\n</VTKFile>\n";
      write_file_atomic(dir_ + "/fpflow.pvd", c.str());
    } catch (const std::exception& e) {
      err = e.what();
    }
  }
  throw_if_any(comm, err);
}

}  // namespace fpflow
