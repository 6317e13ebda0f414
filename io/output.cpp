// io/output.cpp — output directory preparation and atomic file writes.
#include "io/output.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace fpflow {

void write_file_atomic(const std::string& path, const std::string& content) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) throw Error("cannot write " + tmp + ": " + std::strerror(errno));
    f << content;
    f.flush();
    if (!f) throw Error("cannot write " + tmp + ": " + std::strerror(errno));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0)
    throw Error("cannot rename " + tmp + " to " + path + ": " + std::strerror(errno));
}

void prepare_output_dir(MPI_Comm comm, const std::string& dir) {
  std::string err;
  if (comm_rank(comm) == 0) {
    namespace fs = std::filesystem;
    std::error_code ec;
    if (dir.empty()) {
      err = "output directory name is empty";
    } else if (fs::exists(dir, ec) && !fs::is_directory(dir, ec)) {
      err = "output path " + dir + " exists and is not a directory";
    } else if (!fs::create_directories(dir, ec) && ec) {
      err = "cannot create output directory " + dir + ": " + ec.message();
    } else {
      try {
        write_file_atomic(dir + "/.fpflow-write-test", "ok\n");
        fs::remove(dir + "/.fpflow-write-test", ec);
        fs::remove(dir + "/summary.json", ec);
      } catch (const Error&) {
        err = "output directory " + dir + " is not writable (" + std::strerror(errno) +
              "); choose another with -output DIR";
      }
    }
  }
  throw_if_any(comm, err);
}

}  // namespace fpflow
