// io/output.hpp — the output directory and files that are never half-written.
//
// Every file is written to "<name>.tmp" and renamed into place only once complete, so a reader
// (ParaView, a script waiting for summary.json) never sees a truncated file under its real name.
#pragma once

#include "core/petsc.hpp"

#include <string>

namespace fpflow {

// Collective: creates `dir` (and parents) if missing and proves it writable by writing a probe
// file; removes a stale summary.json so a failed run cannot leave an old success behind.
// Throws Error with a one-line reason on every rank if rank 0 cannot use the directory.
void prepare_output_dir(MPI_Comm comm, const std::string& dir);

// Writes `content` to path via path.tmp + rename. Throws Error on failure.
void write_file_atomic(const std::string& path, const std::string& content);

}  // namespace fpflow
