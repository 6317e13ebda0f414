// core/options.cpp — OptionsBlock and friends over PETSc's public options-database API.
#include "core/options.hpp"

#include "core/input_checks.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <set>
#include <sstream>

namespace fpflow {

namespace {
// "a,b,c" -> {"a", "b", "c"} (PETSc's array options use the same separator).
std::string shown(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream items(text);
  for (std::string item; std::getline(items, item, ',');) out.push_back(item);
  return out;
}
}  // namespace

OptionsBlock::OptionsBlock(MPI_Comm comm, const char* prefix, const char* title)
    : comm_(comm), prefix_(prefix ? prefix : "") {
  PetscBool help = PETSC_FALSE;
  FP_CHECK(PetscOptionsHasHelp(nullptr, &help));
  help_ = help;
  // A block read again (a second Simulation in one process) lists its options once.
  static std::set<std::string> printed;
  if (help_ && !printed.insert(prefix_ + "\n" + title).second) help_ = false;
  if (help_)
    FP_CHECK((*PetscHelpPrintf)(comm_, "----------------------------------------\n%s:\n", title));
}

// Lists an option under -help the way PETSc lists its own: "  -name <default>: help (fpflow)".
void OptionsBlock::list(const char* name, const std::string& def, const char* help) const {
  if (help_)
    FP_CHECK((*PetscHelpPrintf)(comm_, "  %s <%s>: %s (fpflow)\n", full_name(name).c_str(),
                                def.c_str(), help));
}

// The text given for the option, if any. PetscOptionsFindPair marks it used (-options_left).
bool OptionsBlock::raw(const char* name, std::string& text) const {
  const char* value = nullptr;
  PetscBool found = PETSC_FALSE;
  FP_CHECK(PetscOptionsFindPair(nullptr, prefix_.empty() ? nullptr : prefix_.c_str(), name,
                                &value, &found));
  if (!found) return false;
  text = value ? value : "";
  return true;
}

PetscInt OptionsBlock::integer(const char* name, const char* help, PetscInt def, bool* set) {
  return integer(name, help, def, PETSC_MIN_INT, PETSC_MAX_INT, set);
}

PetscInt OptionsBlock::integer(const char* name, const char* help, PetscInt def, PetscInt lo,
                               PetscInt hi, bool* set) {
  list(name, std::to_string(def), help);
  std::string text;
  const bool given = raw(name, text);
  if (set) *set = given;
  return given ? PetscInt(parse_integer(full_name(name), text, lo, hi)) : def;
}

double OptionsBlock::real(const char* name, const char* help, double def, bool* set) {
  list(name, shown(def), help);
  std::string text;
  const bool given = raw(name, text);
  if (set) *set = given;
  return given ? parse_real(full_name(name), text) : def;
}

bool OptionsBlock::flag(const char* name, const char* help, bool def, bool* set) {
  list(name, def ? "true" : "false", help);
  std::string text;
  const bool given = raw(name, text);
  if (set) *set = given;
  return given ? parse_flag(full_name(name), text) : def;
}

std::string OptionsBlock::string(const char* name, const char* help, const std::string& def,
                                 bool* set) {
  list(name, def, help);
  std::string text;
  const bool given = raw(name, text);
  if (set) *set = given;
  // Read whole, whatever its length (PETSc's own reads cut at the caller's buffer).
  return given ? text : def;
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

// Every value is parsed here: PETSc would stop at max_n values without a word, and accept "inf"
// or "1e400".
std::vector<double> OptionsBlock::reals(const char* name, const char* help,
                                        const std::vector<double>& def, int max_n, bool* set) {
  std::string text;
  for (double d : def) text += (text.empty() ? "" : ",") + shown(d);
  list(name, text, help);
  text.clear();
  const bool given = raw(name, text);
  if (set) *set = given;
  if (!given) return def;
  std::vector<double> parsed;
  for (const auto& item : split_list(text)) parsed.push_back(parse_real(full_name(name), item));
  if (parsed.empty()) throw Error(full_name(name) + " needs a value");
  if (int(parsed.size()) > max_n)
    throw Error(full_name(name) + " takes at most " + std::to_string(max_n) + " values, got " +
                std::to_string(parsed.size()) + " (" + text + ")");
  return parsed;
}

std::vector<std::string> OptionsBlock::strings(const char* name, const char* help,
                                               const std::vector<std::string>& def, int max_n) {
  std::string text;
  for (const auto& d : def) text += (text.empty() ? "" : ",") + d;
  list(name, text, help);
  text.clear();
  if (!raw(name, text)) return def;
  std::vector<std::string> out = split_list(text);
  if (out.empty()) return def;
  if (int(out.size()) > max_n) throw too_many(name, max_n);
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

std::string given_options_except(const std::vector<std::string>& skip) {
  char* all = nullptr;
  FP_CHECK(PetscOptionsGetAll(nullptr, &all));
  std::istringstream given(all ? all : "");
  PetscFree(all);
  std::string out, line, tok;
  bool skipped = false;
  auto flush = [&] {
    if (!line.empty() && !skipped) out += line + "\n";
    line.clear();
  };
  // A token starting with '-' and not a number starts the next option.
  while (given >> tok) {
    if (tok.size() > 1 && tok[0] == '-' && !std::isdigit(static_cast<unsigned char>(tok[1])) &&
        tok[1] != '.') {
      flush();
      skipped = std::find(skip.begin(), skip.end(), tok) != skip.end();
      line = tok;
    } else {
      line += " " + tok;
    }
  }
  flush();
  return out;
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
