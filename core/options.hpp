// core/options.hpp — typed reads from the PETSc options database, each with a help string.
//
// An OptionsBlock is a titled group of option reads (PETSc's PetscOptionsBegin/End, built on the
// public API only): every option fpflow reads is listed by -help in PETSc's format and counted as
// used for -options_left. Values are parsed by fpflow and come back as C++ types.
#pragma once

#include "core/petsc.hpp"

#include <string>
#include <vector>

namespace fpflow {

class OptionsBlock {
 public:
  OptionsBlock(MPI_Comm comm, const char* prefix, const char* title);
  OptionsBlock(const OptionsBlock&) = delete;
  OptionsBlock& operator=(const OptionsBlock&) = delete;

  // Values are parsed by fpflow (core/input_checks.hpp), not PETSc: an integer must be whole
  // digits within 32 bits (PETSc wraps 4294967360 to 64), a real finite ("inf", "1e400" fail).
  PetscInt integer(const char* name, const char* help, PetscInt def, bool* set = nullptr);
  // An integer in [lo, hi]: "-output_every must be at least 0, got -3".
  PetscInt integer(const char* name, const char* help, PetscInt def, PetscInt lo, PetscInt hi,
                   bool* set = nullptr);
  double real(const char* name, const char* help, double def, bool* set = nullptr);
  bool flag(const char* name, const char* help, bool def, bool* set = nullptr);
  // The whole value, whatever its length (PETSc's own reads cut at a fixed buffer).
  std::string string(const char* name, const char* help, const std::string& def,
                     bool* set = nullptr);
  // One of `choices`; anything else is an error naming the valid choices.
  std::string choice(const char* name, const char* help, const std::vector<std::string>& choices,
                     const std::string& def);
  // Comma-separated finite reals, at most max_n (more is an error); returns def when not given.
  std::vector<double> reals(const char* name, const char* help, const std::vector<double>& def,
                            int max_n, bool* set = nullptr);
  // Comma-separated strings, at most max_n (more is an error); returns def when not given.
  std::vector<std::string> strings(const char* name, const char* help,
                                   const std::vector<std::string>& def, int max_n);

 private:
  Error too_many(const char* name, int max_n) const;
  // The text given for -<prefix>name, if any (the option then counts as used).
  bool raw(const char* name, std::string& text) const;
  void list(const char* name, const std::string& def, const char* help) const;
  std::string full_name(const char* name) const { return "-" + prefix_ + (name + 1); }
  MPI_Comm comm_;
  std::string prefix_;
  bool help_ = false;
};

// True when -name (no prefix) was given on the command line or in an options file.
bool option_given(const char* name);

// Replaces the process's options database with `args` for the lifetime of this object
// (for tests and for programmatic runs); the previous database is restored afterwards.
class ScopedOptions {
 public:
  explicit ScopedOptions(const std::string& args);
  ~ScopedOptions();
  ScopedOptions(const ScopedOptions&) = delete;
  ScopedOptions& operator=(const ScopedOptions&) = delete;

 private:
  PetscOptions opts_ = nullptr;
};

// Every option given (command line, options files), one "-name value..." line each, in the
// database's order, except those named in `skip`: what a run records of its input verbatim.
std::string given_options_except(const std::vector<std::string>& skip);

// Options that were given but never read: a misspelt option must not pass silently.
std::vector<std::string> unused_options();

// Collective. Options given but not read so far: an Error with -options_left, else a warning
// (rank 0, once per option). Before the run (final = false) options of the solver families
// PETSc reads only while solving (-ksp_*, -pc_*, -snes_*, -mg_*, -mat_*, -sub_*, *_view*) are
// left for the check after the run (final = true), which covers everything.
void check_unused_options(MPI_Comm comm, bool final);

}  // namespace fpflow
