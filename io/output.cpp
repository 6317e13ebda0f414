// io/output.cpp — output directory lock and clean-up, checked atomic file writes, status records.
#include "io/output.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <regex>
#include <set>

namespace fpflow {

namespace fs = std::filesystem;

namespace {

// Directories whose lock this process holds (canonical paths): a status record may be written
// there without taking the lock again (flock would refuse a second descriptor of ours).
std::set<std::string>& held_dirs() {
  static std::set<std::string> s;
  return s;
}

// Status records this process wrote (a later, less detailed one must not replace them).
std::set<std::string>& recorded() {
  static std::set<std::string> s;
  return s;
}

std::string canonical_dir(const std::string& dir) {
  std::error_code ec;
  const fs::path p = fs::canonical(dir, ec);
  return ec ? dir : p.string();
}

std::string system_reason(int err) { return std::strerror(err); }

// Writes all of [data, data + n) to fd; false with errno set on failure.
bool write_all(int fd, const char* data, std::size_t n) {
  while (n > 0) {
    const ssize_t w = ::write(fd, data, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    if (w == 0) {
      errno = EIO;
      return false;
    }
    data += w;
    n -= std::size_t(w);
  }
  return true;
}

// Removes `p` if it exists; appends a reason to `err` if it exists and cannot be removed.
void remove_owned(const fs::path& p, std::string& err) {
  std::error_code ec;
  if (!fs::exists(fs::symlink_status(p, ec))) return;
  if (!fs::remove(p, ec) && ec && err.empty())
    err = "cannot remove " + p.string() + " left by an earlier run: " + ec.message();
}

// The previous run's files of `kind` (fpflow's own names only; user files are never touched).
void remove_previous_run(const std::string& dir, OutputKind kind, std::string& err) {
  const fs::path d(dir);
  auto file_and_tmp = [&](const fs::path& p) {
    remove_owned(p, err);
    remove_owned(p.string() + ".tmp", err);
  };
  file_and_tmp(d / ".fpflow-write-test");
  std::error_code ec;
  switch (kind) {
    case OutputKind::run: {
      for (const char* f : {"summary.json", "options.txt", "fpflow.pvd"}) file_and_tmp(d / f);
      const fs::path frames = d / "frames";
      if (fs::is_directory(frames, ec)) {
        static const std::regex frame(R"(fpflow_\d+(_\d+)?\.(vti|pvti)(\.tmp)?)");
        for (const auto& e : fs::directory_iterator(frames, ec))
          if (std::regex_match(e.path().filename().string(), frame)) remove_owned(e.path(), err);
        fs::remove(frames, ec);  // only if now empty: other files there are the user's
      }
      break;
    }
    case OutputKind::verify: {
      for (const char* f : {"verify.json", "summary.png"}) file_and_tmp(d / f);
      // Case directories: those with verify's plot data (a user's own directory has none).
      for (const auto& e : fs::directory_iterator(d, ec))
        if (e.is_directory(ec) && (fs::exists(e.path() / "compare.json", ec) ||
                                   fs::exists(e.path() / "compare.json.tmp", ec)))
          for (const char* f : {"compare.json", "marginals.png", "map.png"})
            file_and_tmp(e.path() / f);
      break;
    }
    case OutputKind::bench:
      file_and_tmp(d / "bench.json");
      break;
  }
}

}  // namespace

OutputLock::OutputLock(OutputLock&& o) noexcept
    : fd_(o.fd_), path_(std::move(o.path_)), key_(std::move(o.key_)) {
  o.fd_ = -1;
}

OutputLock& OutputLock::operator=(OutputLock&& o) noexcept {
  if (this != &o) {
    release();
    fd_ = o.fd_;
    path_ = std::move(o.path_);
    key_ = std::move(o.key_);
    o.fd_ = -1;
  }
  return *this;
}

void OutputLock::release() noexcept {
  if (fd_ < 0) return;
  held_dirs().erase(key_);
  // Unlinked while still held: a process that opened the old file meanwhile sees, once it gets
  // the lock, that the path no longer names its file, and starts over (try_acquire).
  ::unlink(path_.c_str());
  ::close(fd_);
  fd_ = -1;
}

OutputLock OutputLock::try_acquire(const std::string& dir, long* holder) {
  const std::string path = dir + "/.fpflow.lock";
  *holder = 0;
  for (int attempt = 0; attempt < 20; ++attempt) {
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) throw Error("cannot create the lock file " + path + ": " + system_reason(errno));
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      const int e = errno;
      if (e == EWOULDBLOCK) {
        char buf[32] = {0};
        const ssize_t n = ::pread(fd, buf, sizeof(buf) - 1, 0);
        *holder = n > 0 ? std::strtol(buf, nullptr, 10) : 0;
        ::close(fd);
        return {};
      }
      ::close(fd);
      if (e == ENOLCK || e == EINVAL || e == EOPNOTSUPP) {
        *holder = -1;  // no locking on this filesystem: run unprotected rather than not at all
        return {};
      }
      throw Error("cannot lock " + path + ": " + system_reason(e));
    }
    struct stat mine {}, named {};
    if (::fstat(fd, &mine) == 0 && ::stat(path.c_str(), &named) == 0 &&
        mine.st_ino == named.st_ino && mine.st_dev == named.st_dev) {
      // The holder's pid, for the message a second run prints. Best effort: on a full disk the
      // run fails with a clear message at its first real write.
      const std::string pid = std::to_string(long(::getpid())) + "\n";
      if (::ftruncate(fd, 0) == 0) (void)!::pwrite(fd, pid.data(), pid.size(), 0);
      OutputLock lock;
      lock.fd_ = fd;
      lock.path_ = path;
      lock.key_ = canonical_dir(dir);
      held_dirs().insert(lock.key_);
      return lock;
    }
    ::close(fd);
  }
  throw Error("cannot lock " + path + ": the lock file keeps being replaced");
}

OutputLock prepare_output_dir(MPI_Comm comm, const std::string& dir, OutputKind kind) {
  std::string err;
  int busy = 0;
  OutputLock lock;
  if (comm_rank(comm) == 0) {
    std::error_code ec;
    try {
      if (dir.empty()) {
        err = "the output directory name is empty (-output DIR)";
      } else if (fs::exists(dir, ec) && !fs::is_directory(dir, ec)) {
        err = "output path " + dir + " exists and is not a directory";
      } else if (!fs::create_directories(dir, ec) && ec) {
        err = "cannot create output directory " + dir + ": " + ec.message();
      } else {
        long holder = 0;
        try {
          lock = OutputLock::try_acquire(dir, &holder);
        } catch (const Error& e) {
          throw Error("output directory " + dir + " is not writable (" + e.what() +
                      "); choose another with -output DIR");
        }
        if (!lock.held() && holder >= 0) {
          busy = 1;
          err = "output directory " + dir + " is in use by another fpflow run (pid " +
                (holder > 0 ? std::to_string(holder) : std::string("unknown")) +
                "); wait for it or choose another with -output DIR";
        } else {
          try {
            write_file_atomic(dir + "/.fpflow-write-test", "ok\n");
          } catch (const Error& e) {
            err = "output directory " + dir + " is not writable (" + e.what() +
                  "); choose another with -output DIR";
          }
          if (err.empty()) remove_previous_run(dir, kind, err);
        }
      }
    } catch (const std::exception& e) {
      err = e.what();
    }
  }
  MPI_Bcast(&busy, 1, MPI_INT, 0, comm);
  try {
    throw_if_any(comm, err);
  } catch (const Error& e) {
    if (busy) throw OutputBusy(e.what());
    throw;
  }
  return lock;
}

void write_file_atomic(const std::string& path, const std::string& content) {
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw Error("cannot write " + path + ": " + system_reason(errno));
  int err = 0;
  if (!write_all(fd, content.data(), content.size())) err = errno;
  if (!err && ::fsync(fd) != 0) err = errno;
  if (::close(fd) != 0 && !err) err = errno;
  if (!err && std::rename(tmp.c_str(), path.c_str()) != 0) err = errno;
  if (err) {
    ::unlink(tmp.c_str());
    throw Error("cannot write " + path + ": " + system_reason(err));
  }
}

void commit_file(const std::string& tmp, const std::string& path) {
  int err = 0;
  const int fd = ::open(tmp.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    err = errno;
  } else {
    if (::fsync(fd) != 0) err = errno;
    if (::close(fd) != 0 && !err) err = errno;
  }
  if (!err && std::rename(tmp.c_str(), path.c_str()) != 0) err = errno;
  if (err) {
    ::unlink(tmp.c_str());
    throw Error("cannot write " + path + ": " + system_reason(err));
  }
}

void write_status_record(MPI_Comm comm, const std::string& dir, const std::string& name,
                         const std::string& status, nlohmann::json record) {
  if (comm_rank(comm) != 0 || dir.empty()) return;
  try {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) return;
    const std::string path = dir + "/" + name;
    if (recorded().count(canonical_dir(dir) + "/" + name)) return;
    OutputLock lock;
    if (!held_dirs().count(canonical_dir(dir))) {
      long holder = 0;
      lock = OutputLock::try_acquire(dir, &holder);
      if (!lock.held() && holder >= 0) return;  // another run's directory: not ours to mark
    }
    record["status"] = status;
    write_file_atomic(path, record.dump(2) + "\n");
    recorded().insert(canonical_dir(dir) + "/" + name);
  } catch (...) {
    // Unwritable or full: the error line on stderr is all that can be given.
  }
}

}  // namespace fpflow
