// io/output.hpp — the output directory and files that are never half-written.
//
// Every file is written to "<name>.tmp" and renamed into place only once complete (every write,
// the fsync and the close checked), so a reader (ParaView, a script waiting for summary.json)
// never sees a truncated file under its real name; a failed write removes its .tmp.
//
// One run per output directory: rank 0 holds an exclusive lock (flock on DIR/.fpflow.lock) for
// the run's lifetime, so a second run into the same directory fails at once instead of
// interleaving its frames with the first. Once the lock is held, the files an earlier run of
// the same kind left there (and only those: fpflow's own names) are removed, so a .pvd never
// mixes runs and no stale summary.json, verify.json or bench.json claims success.
#pragma once

#include "core/petsc.hpp"

#include <nlohmann/json.hpp>

#include <string>

namespace fpflow {

// Which files a run owns in its directory (and removes from an earlier run at start).
//   run:    summary.json, options.txt, fpflow.pvd, frames/fpflow_*.{vti,pvti}
//   verify: verify.json, summary.png, <case>/{compare.json, marginals.png, map.png}
//   bench:  bench.json
enum class OutputKind { run, verify, bench };

// The lock on one output directory (rank 0 holds it; empty on other ranks). Move-only.
class OutputLock {
 public:
  OutputLock() = default;
  ~OutputLock() { release(); }
  OutputLock(OutputLock&& o) noexcept;
  OutputLock& operator=(OutputLock&& o) noexcept;
  OutputLock(const OutputLock&) = delete;
  OutputLock& operator=(const OutputLock&) = delete;
  void release() noexcept;
  bool held() const { return fd_ >= 0; }

  // Takes the lock on `dir` (which must exist) without waiting. Returns an empty lock and sets
  // `holder` to the holding process's pid (0 if unknown) when another process holds it; a
  // filesystem without locks gives an empty lock and holder = -1. Throws Error on I/O failure.
  static OutputLock try_acquire(const std::string& dir, long* holder);

 private:
  int fd_ = -1;
  std::string path_;  // DIR/.fpflow.lock
  std::string key_;   // canonical DIR (held_dirs in output.cpp)
};

// The output directory is in use by another fpflow run (no failure record may be written there).
class OutputBusy : public Error {
 public:
  using Error::Error;
};

// Collective: creates `dir` (and parents) if missing, takes its lock (OutputBusy if another
// fpflow run holds it), proves it writable and removes the previous run's files of `kind`.
// Throws Error with a one-line reason on every rank if rank 0 cannot use the directory.
[[nodiscard]] OutputLock prepare_output_dir(MPI_Comm comm, const std::string& dir,
                                            OutputKind kind = OutputKind::run);

// Writes `content` to path via path.tmp + fsync + rename. Throws Error (naming the file and
// the system's reason) on any failure, after removing path.tmp.
void write_file_atomic(const std::string& path, const std::string& content);

// Makes the completed file `tmp` durable (fsync) and renames it to `path`; on failure removes
// tmp and throws Error. For files written by other libraries (VTK).
void commit_file(const std::string& tmp, const std::string& path);

// Rank 0 (no communication; call on every rank): records the end of a run that did not succeed
// as DIR/NAME = {"status": status, ...record}, so no earlier success stays behind. Nothing is
// written when DIR is not an existing directory or another fpflow run holds its lock, and a
// record this process already wrote to the same file is kept (it carries more detail).
// Never throws: the one-line error on stderr is the report of last resort.
void write_status_record(MPI_Comm comm, const std::string& dir, const std::string& name,
                         const std::string& status, nlohmann::json record = nlohmann::json::object());

}  // namespace fpflow
