// core/options.cpp — OptionsBlock and friends over PETSc's options-database internals.
#include "core/options.hpp"

#include "core/input_checks.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <set>
#include <sstream>

namespace fpflow {

OptionsBlock::OptionsBlock(MPI_Comm comm, const char* prefix, const char* title)
    : prefix_(prefix ? prefix : "") {
  std::memset(&items_, 0, sizeof(items_));
  items_.count = 1;  // the ordinary (non-SAWs) pass of PetscOptionsBegin's loop
  FP_CHECK(PetscOptionsBegin_Private(&items_, comm, prefix, title, "fpflow"));
}

OptionsBlock::~OptionsBlock() { PetscOptionsEnd_Private(&items_); }

bool OptionsBlock::raw(const char* name, std::string& text) const {
  char buf[4096] = {0};
  PetscBool s = PETSC_FALSE;
  FP_CHECK(PetscOptionsGetString(nullptr, prefix_.empty() ? nullptr : prefix_.c_str(), name, buf,
                                 sizeof(buf), &s));
  text = buf;
  return s;
}

PetscInt OptionsBlock::integer(const char* name, const char* help, PetscInt def, bool* set) {
  return integer(name, help, def, PETSC_MIN_INT, PETSC_MAX_INT, set);
}

PetscInt OptionsBlock::integer(const char* name, const char* help, PetscInt def, PetscInt lo,
                               PetscInt hi, bool* set) {
  std::string text;
  const bool given = raw(name, text);
  const PetscInt v = given ? PetscInt(parse_integer(full_name(name), text, lo, hi)) : def;
  // PETSc's read of the same (now valid) text lists the option under -help.
  PetscInt petsc = def;
  PetscBool s = PETSC_FALSE;
  FP_CHECK(PetscOptionsInt_Private(&items_, name, help, nullptr, def, &petsc, &s, PETSC_MIN_INT,
                                   PETSC_MAX_INT));
  if (set) *set = given;
  return v;
}

double OptionsBlock::real(const char* name, const char* help, double def, bool* set) {
  std::string text;
  const bool given = raw(name, text);
  const double v = given ? parse_real(full_name(name), text) : def;
  PetscReal petsc = def;
  PetscBool s = PETSC_FALSE;
  FP_CHECK(PetscOptionsReal_Private(&items_, name, help, nullptr, def, &petsc, &s));
  if (set) *set = given;
  return v;
}

bool OptionsBlock::flag(const char* name, const char* help, bool def, bool* set) {
  std::string text;
  const bool given = raw(name, text);
  const bool v = given ? parse_flag(full_name(name), text) : def;
  PetscBool petsc = def ? PETSC_TRUE : PETSC_FALSE;
  PetscBool s = PETSC_FALSE;
  FP_CHECK(PetscOptionsBool_Private(&items_, name, help, nullptr, petsc, &petsc, &s));
  if (set) *set = given;
  return v;
}

std::string OptionsBlock::string(const char* name, const char* help, const std::string& def,
                                 bool* set) {
  // PETSc copies a value into the caller's buffer and cuts it, silently, at the buffer's size:
  // the buffer is sized from the stored value, so a value of any length is read whole.
  const char* raw = nullptr;
  PetscBool found = PETSC_FALSE;
  FP_CHECK(PetscOptionsFindPair(items_.options, items_.prefix, name, &raw, &found));
  const std::size_t stored = found && raw ? std::strlen(raw) : 0;
  std::vector<char> buf(std::max(stored, def.size()) + 1, 0);
  std::memcpy(buf.data(), def.c_str(), def.size());
  PetscBool s = PETSC_FALSE;
  FP_CHECK(PetscOptionsString_Private(&items_, name, help, nullptr, def.c_str(), buf.data(),
                                      buf.size(), &s));
  if (set) *set = s;
  return s ? std::string(buf.data()) : def;
}

std::string OptionsBlock::choice(const char* name, const char* help,
                                 const std::vector<std::string>& choices, const std::string& def) {
  std::string all;
  for (const auto& c : choices) all += (all.empty() ? "" : ", ") + c;
  std::string full_help = std::string(help) + " (" + all + ")";
  std::string v = string(name, full_help.c_str(), def);
  for (const auto& c : choices)
    if (c == v) return v;
  throw Error("unknown value '" + v + "' for -" + prefix_ + (name + 1) + "; valid: " + all);
}

// PETSc reads at most the number of entries asked for and drops the rest silently: ask for one
// more, and refuse a list that fills it.
std::vector<double> OptionsBlock::reals(const char* name, const char* help,
                                        const std::vector<double>& def, int max_n, bool* set) {
  std::string text;
  std::vector<double> parsed;
  if (raw(name, text)) {
    // PETSc would stop at max_n values without a word, and accept "inf" or "1e400".
    std::stringstream items(text);
    std::string item;
    while (std::getline(items, item, ',')) parsed.push_back(parse_real(full_name(name), item));
    if (parsed.empty()) throw Error(full_name(name) + " needs a value");
    if (int(parsed.size()) > max_n)
      throw Error(full_name(name) + " takes at most " + std::to_string(max_n) + " values, got " +
                  std::to_string(parsed.size()) + " (" + text + ")");
  }
  std::vector<PetscReal> buf((max_n > 0 ? max_n : 1) + 1);
  for (size_t i = 0; i < buf.size() && i < def.size(); ++i) buf[i] = def[i];
  PetscInt n = PetscInt(buf.size());
  PetscBool s = PETSC_FALSE;
  FP_CHECK(PetscOptionsRealArray_Private(&items_, name, help, nullptr, buf.data(), &n, &s));
  if (set) *set = s;
  if (!s) return def;
  return parsed;
}

std::vector<std::string> OptionsBlock::strings(const char* name, const char* help,
                                               const std::vector<std::string>& def, int max_n) {
  std::vector<char*> buf(max_n + 1, nullptr);
  PetscInt n = max_n + 1;
  PetscBool s = PETSC_FALSE;
  FP_CHECK(PetscOptionsStringArray_Private(&items_, name, help, nullptr, buf.data(), &n, &s));
  if (!s) return def;
  std::vector<std::string> out;
  for (PetscInt i = 0; i < n; ++i) {
    out.emplace_back(buf[i]);
    PetscFree(buf[i]);
  }
  if (n > max_n) throw too_many(name, max_n);
  return out;
}

Error OptionsBlock::too_many(const char* name, int max_n) const {
  return Error("-" + prefix_ + (name + 1) + " takes at most " + std::to_string(max_n) +
               " comma-separated values");
}

bool option_given(const char* name) {
  PetscBool has = PETSC_FALSE;
  FP_CHECK(PetscOptionsHasName(nullptr, nullptr, name, &has));
  return has;
}

ScopedOptions::ScopedOptions(const std::string& args) {
  FP_CHECK(PetscOptionsCreate(&opts_));
  FP_CHECK(PetscOptionsInsertString(opts_, args.c_str()));
  FP_CHECK(PetscOptionsPush(opts_));
}

ScopedOptions::~ScopedOptions() {
  PetscOptionsPop();
  PetscOptionsDestroy(&opts_);
}

std::vector<std::string> unused_options() {
  PetscInt n = 0;
  char** names = nullptr;
  char** values = nullptr;
  FP_CHECK(PetscOptionsLeftGet(nullptr, &n, &names, &values));
  std::vector<std::string> out;
  for (PetscInt i = 0; i < n; ++i) out.push_back(std::string("-") + names[i]);
  PetscOptionsLeftRestore(nullptr, &n, &names, &values);
  return out;
}

namespace {
// Option families PETSc reads only while solving (a preconditioner's levels at the first
// linear solve, viewers at the end of a solve): they are checked after the run.
bool read_while_solving(const std::string& name) {
  for (const char* family : {"ksp_", "pc_", "snes_", "mg_", "mat_", "sub_", "_view", "view_"})
    if (name.find(family) != std::string::npos) return true;
  return false;
}
}  // namespace

void check_unused_options(MPI_Comm comm, bool final) {
  static std::set<std::string> warned;
  if (option_given("-help")) return;
  std::string unused;
  for (const auto& o : unused_options())
    if (o != "-options_left" && (final || !read_while_solving(o)) && !warned.count(o))
      unused += (unused.empty() ? "" : " ") + o;
  if (unused.empty()) return;
  PetscBool strict = PETSC_FALSE, set = PETSC_FALSE;
  FP_CHECK(PetscOptionsGetBool(nullptr, nullptr, "-options_left", &strict, &set));
  if (set && strict)
    throw Error("unused option(s): " + unused + " (misspelt? see fpflow -help)");
  if (!set && comm_rank(comm) == 0)
    std::fprintf(stderr, "fpflow: warning: option(s) not used: %s (see fpflow -help)\n",
                 unused.c_str());
  std::stringstream names(unused);
  for (std::string o; names >> o;) warned.insert(o);
}

}  // namespace fpflow
