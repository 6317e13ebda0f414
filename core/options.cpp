// core/options.cpp — OptionsBlock and friends over PETSc's options-database internals.
#include "core/options.hpp"

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
  char buf[4096];
  std::strncpy(buf, def.c_str(), sizeof(buf) - 1);
  buf[sizeof(buf) - 1] = 0;
  PetscBool s = PETSC_FALSE;
  FP_CHECK(PetscOptionsString_Private(&items_, name, help, nullptr, def.c_str(), buf, sizeof(buf),
                                      &s));
  if (set) *set = s;
  return s ? std::string(buf) : def;
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

std::vector<double> OptionsBlock::reals(const char* name, const char* help,
                                        const std::vector<double>& def, int max_n) {
  std::vector<PetscReal> buf(max_n > 0 ? max_n : 1);
  for (size_t i = 0; i < buf.size() && i < def.size(); ++i) buf[i] = def[i];
  PetscInt n = max_n;
  PetscBool s = PETSC_FALSE;
  FP_CHECK(PetscOptionsRealArray_Private(&items_, name, help, nullptr, buf.data(), &n, &s));
  if (!s) return def;
  return std::vector<double>(buf.begin(), buf.begin() + n);
}

std::vector<std::string> OptionsBlock::strings(const char* name, const char* help,
                                               const std::vector<std::string>& def, int max_n) {
  std::vector<char*> buf(max_n, nullptr);
  PetscInt n = max_n;
  PetscBool s = PETSC_FALSE;
  FP_CHECK(PetscOptionsStringArray_Private(&items_, name, help, nullptr, buf.data(), &n, &s));
  if (!s) return def;
  std::vector<std::string> out;
  for (PetscInt i = 0; i < n; ++i) {
    out.emplace_back(buf[i]);
    PetscFree(buf[i]);
  }
  return out;
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
