// core/options.cpp — OptionsBlock and friends over PETSc's options-database internals.
#include "core/options.hpp"

#include <algorithm>
#include <cstring>

namespace fpflow {

OptionsBlock::OptionsBlock(MPI_Comm comm, const char* prefix, const char* title)
    : prefix_(prefix ? prefix : "") {
  std::memset(&items_, 0, sizeof(items_));
  items_.count = 1;  // the ordinary (non-SAWs) pass of PetscOptionsBegin's loop
  FP_CHECK(PetscOptionsBegin_Private(&items_, comm, prefix, title, "fpflow"));
}

OptionsBlock::~OptionsBlock() { PetscOptionsEnd_Private(&items_); }

PetscInt OptionsBlock::integer(const char* name, const char* help, PetscInt def, bool* set) {
  PetscInt v = def;
  PetscBool s = PETSC_FALSE;
  FP_CHECK(PetscOptionsInt_Private(&items_, name, help, nullptr, def, &v, &s, PETSC_MIN_INT,
                                   PETSC_MAX_INT));
  if (set) *set = s;
  return v;
}

double OptionsBlock::real(const char* name, const char* help, double def, bool* set) {
  PetscReal v = def;
  PetscBool s = PETSC_FALSE;
  FP_CHECK(PetscOptionsReal_Private(&items_, name, help, nullptr, def, &v, &s));
  if (set) *set = s;
  return v;
}

bool OptionsBlock::flag(const char* name, const char* help, bool def, bool* set) {
  PetscBool v = def ? PETSC_TRUE : PETSC_FALSE;
  PetscBool s = PETSC_FALSE;
  FP_CHECK(PetscOptionsBool_Private(&items_, name, help, nullptr, v, &v, &s));
  if (set) *set = s;
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
  std::vector<PetscReal> buf((max_n > 0 ? max_n : 1) + 1);
  for (size_t i = 0; i < buf.size() && i < def.size(); ++i) buf[i] = def[i];
  PetscInt n = PetscInt(buf.size());
  PetscBool s = PETSC_FALSE;
  FP_CHECK(PetscOptionsRealArray_Private(&items_, name, help, nullptr, buf.data(), &n, &s));
  if (set) *set = s;
  if (!s) return def;
  if (n > max_n) throw too_many(name, max_n);
  return std::vector<double>(buf.begin(), buf.begin() + n);
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

}  // namespace fpflow
