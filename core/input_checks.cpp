// core/input_checks.cpp — strict values, command-line and options-file checks, numeric options.
#include "core/input_checks.hpp"

#include "core/petsc.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>

namespace fpflow {

namespace {

std::string trim(const std::string& s) {
  const auto a = s.find_first_not_of(" \t\r\n");
  if (a == std::string::npos) return "";
  return s.substr(a, s.find_last_not_of(" \t\r\n") - a + 1);
}

std::string lower(std::string s) {
  for (char& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string number(double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%g", v);
  return buf;
}

// PETSc's own rule for "is this token an option name" (PetscOptionsValidKey): '-' or '--', a
// letter, and not a number ("-1", "-inf", "-1e3" are values).
bool is_key(const char* k) {
  if (!k || k[0] != '-') return false;
  if (k[1] == '-') ++k;
  if (!std::isalpha(static_cast<unsigned char>(k[1]))) return false;
  char* end = nullptr;
  (void)std::strtod(k, &end);
  if (end != k && !(*end == '_' || std::isalnum(static_cast<unsigned char>(*end)))) return false;
  return true;
}

}  // namespace

long long parse_integer(const std::string& option, const std::string& raw, long long lo,
                        long long hi) {
  const std::string text = trim(raw);
  if (text.empty()) throw Error(option + " needs a whole number");
  std::size_t i = (text[0] == '+' || text[0] == '-') ? 1 : 0;
  const bool digits = i < text.size() &&
                      std::all_of(text.begin() + long(i), text.end(),
                                  [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
  if (!digits) {
    char* end = nullptr;
    const double v = std::strtod(text.c_str(), &end);
    if (end && *end == 0 && std::isfinite(v))
      throw Error(option + " takes a whole number written as digits, got " + text);
    throw Error(option + " takes a whole number, got '" + text + "'");
  }
  errno = 0;
  const long long v = std::strtoll(text.c_str(), nullptr, 10);
  if (errno == ERANGE || v > hi)
    throw Error(option + " " + text + " is too large (at most " + std::to_string(hi) + ")");
  if (v < lo) {
    if (lo == std::numeric_limits<int>::min() || lo == std::numeric_limits<long long>::min())
      throw Error(option + " " + text + " is too small (at least " + std::to_string(lo) + ")");
    throw Error(option + " must be at least " + std::to_string(lo) + ", got " + text);
  }
  return v;
}

double parse_real(const std::string& option, const std::string& raw) {
  const std::string text = trim(raw);
  if (text.empty()) throw Error(option + " needs a number");
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(text.c_str(), &end);
  if (end == text.c_str() || *end != 0) throw Error(option + " takes a number, got '" + text + "'");
  if (std::isnan(v) || (std::isinf(v) && errno != ERANGE))
    throw Error(option + " " + text + " is not a finite number");
  if (std::isinf(v)) throw Error(option + " " + text + " is out of range (overflows a double)");
  return v;
}

bool parse_flag(const std::string& option, const std::string& raw) {
  const std::string t = lower(trim(raw));
  if (t.empty() || t == "1" || t == "true" || t == "yes" || t == "on") return true;
  if (t == "0" || t == "false" || t == "no" || t == "off") return false;
  throw Error(option + " takes true or false (1/0, yes/no, on/off), got '" + trim(raw) + "'");
}

namespace {

struct FileScan {
  std::vector<std::string> open;  // the chain of files being read (to refuse a loop)
  std::string output;             // the last -output seen so far
};

void scan_options_file(const std::string& path, FileScan& scan);

// One "-key value" pair in the order PETSc inserts it; -options_file is followed into the file.
void visit(const std::string& key, const std::string* value, FileScan& scan) {
  if (key == "-options_file" || key == "--options_file") {
    if (!value || value->empty() || (*value)[0] == '-')
      throw Error("-options_file needs a file name");
    scan_options_file(*value, scan);
  } else if ((key == "-output" || key == "--output") && value) {
    scan.output = *value;
  }
}

void scan_options_file(const std::string& path, FileScan& scan) {
  if (std::find(scan.open.begin(), scan.open.end(), path) != scan.open.end())
    throw Error("options file " + path + " includes itself (through -options_file)");
  if (scan.open.size() >= 16) throw Error("options files nested too deeply at " + path);
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) throw Error("options file " + path + " does not exist");
    throw Error("cannot read options file " + path + ": " + std::strerror(errno));
  }
  if (S_ISDIR(st.st_mode)) throw Error("options file " + path + " is a directory, not a file");
  // A pipe or device (e.g. <(...)) cannot be read twice: PETSc reads it, unchecked.
  if (!S_ISREG(st.st_mode)) return;
  std::ifstream f(path, std::ios::binary);
  if (!f) throw Error("cannot read options file " + path + ": " + std::strerror(errno));
  std::ostringstream buf;
  buf << f.rdbuf();
  if (f.bad()) throw Error("cannot read options file " + path + ": read error");
  const std::string text = buf.str();
  for (std::size_t i = 0; i < text.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c == 0 || (c < 32 && !std::isspace(c)))
      throw Error("options file " + path + " is not a text file (byte " + std::to_string(c) +
                  " at offset " + std::to_string(i) + ")");
  }
  scan.open.push_back(path);
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (const auto hash = line.find('#'); hash != std::string::npos) line.resize(hash);
    std::istringstream tok(line);
    std::string key, value;
    if (!(tok >> key)) continue;
    const bool has_value = bool(tok >> value);
    // PETSc reports other syntax errors (extra tokens, unknown first words) itself, naming the
    // file and line; fpflow turns that report into one line too (core/petsc.cpp).
    if (is_key(key.c_str())) visit(key, has_value ? &value : nullptr, scan);
  }
  scan.open.pop_back();
}

}  // namespace

void check_command_line(MPI_Comm comm, int argc, char** argv, CommandLine& line) {
  int first = 1;
  line.subcommand.clear();
  std::string err;
  if (argc > 1 && argv[1][0] != '-') {
    const std::string word = argv[1];
    if (word == "verify" || word == "bench") {
      line.subcommand = word;
      first = 2;
    } else if (word.empty()) {
      err = "empty first argument (expected an option or the subcommand verify or bench)";
    } else {
      err = "unknown subcommand '" + word +
            "' (fpflow [verify | bench] [-option value ...]; fpflow -help lists the options)";
    }
  }
  line.output = line.subcommand.empty() ? "fpflow-out" : line.subcommand + "-out";
  // The command line's own -output first: it is where a failure is recorded even when an
  // options file before it cannot be read.
  for (int i = first; i + 1 < argc; ++i)
    if ((std::strcmp(argv[i], "-output") == 0 || std::strcmp(argv[i], "--output") == 0) &&
        !is_key(argv[i + 1]) && argv[i + 1][0] != 0)
      line.output = argv[i + 1];
  FileScan scan;
  scan.output = line.subcommand.empty() ? "fpflow-out" : line.subcommand + "-out";
  // The words: the same on every rank, so every rank finds the same error. Files: rank 0 reads
  // them (as PETSc does) and the error is shared.
  const bool root = comm_rank(comm) == 0;
  for (int i = first; i < argc && err.empty(); ) {
    const std::string tok = argv[i];
    if (!is_key(argv[i])) {
      if (tok.empty())
        err = "empty argument at position " + std::to_string(i) +
              (i > 1 ? " (after " + std::string(argv[i - 1]) + ")" : "");
      else if (i > first + 1 && is_key(argv[i - 2]))
        err = "unexpected argument '" + tok + "' after " + argv[i - 2] + " " + argv[i - 1] +
              ": an option takes one value (lists are comma-separated, e.g. -box_lo -1,-2)";
      else
        err = "unexpected argument '" + tok + "' (options start with '-'; see fpflow -help)";
      break;
    }
    const bool has_next = i + 1 < argc;
    const bool next_is_value = has_next && !is_key(argv[i + 1]) && argv[i + 1][0] != 0;
    if (has_next && argv[i + 1][0] == 0) {
      err = tok + " has an empty value";
      break;
    }
    const std::string value = next_is_value ? argv[i + 1] : "";
    if (tok == "-options_file" || tok == "--options_file") {
      // PETSc takes the next word as the file name unless it starts with '-'.
      if (!has_next || argv[i + 1][0] == '-') {
        err = "-options_file needs a file name";
        break;
      }
      if (root) {
        try {
          visit(tok, &value, scan);
        } catch (const Error& e) {
          err = e.what();
        }
      }
      i += 2;
      continue;
    }
    if (root) visit(tok, next_is_value ? &value : nullptr, scan);
    i += next_is_value ? 2 : 1;
  }
  // With every file read, the last -output in PETSc's order (files expanded in place) wins.
  if (root && err.empty()) line.output = scan.output;
  throw_if_any(comm, err);
}

namespace {

// PETSc options by name (the end of the option's name: any prefix matches, so
// "ksp_max_it" covers -mg_levels_ksp_max_it and -steady_ksp_max_it).
struct IntRule {
  const char* suffix;
  long long lo;
};
struct RealRule {
  const char* suffix;
  enum Sign { any, nonneg, positive } sign;
};

const IntRule kIntRules[] = {
    {"da_grid_x", 1}, {"da_grid_y", 1}, {"da_grid_z", 1},
    {"da_refine", 0}, {"da_refine_x", 1}, {"da_refine_y", 1}, {"da_refine_z", 1},
    {"da_processors_x", 1}, {"da_processors_y", 1}, {"da_processors_z", 1},
    {"da_overlap", 0}, {"da_stencil_width", 0},
    {"ts_max_steps", 1}, {"ts_max_reject", -1}, {"ts_max_snes_failures", -1},
    {"ts_bdf_order", 1}, {"ts_monitor_skip", 0},
    {"ksp_max_it", 0}, {"ksp_gmres_restart", 1}, {"ksp_lgmres_augment", 0},
    {"ksp_chebyshev_esteig_steps", 0}, {"ksp_richardson_self_scale", 0},
    {"snes_max_it", 0}, {"snes_max_funcs", -1}, {"snes_max_fail", 0},
    {"snes_max_linear_solve_fail", 0}, {"snes_lag_jacobian", -2},
    {"snes_lag_preconditioner", -2},
    {"pc_mg_levels", 1}, {"pc_mg_smoothup", 0}, {"pc_mg_smoothdown", 0},
    {"pc_mg_multiplicative_cycles", 1}, {"pc_factor_levels", 0}, {"pc_asm_overlap", 0},
    {"pc_bjacobi_blocks", 1}, {"pc_gamg_agg_nsmooths", 0}, {"pc_gamg_coarse_eq_limit", 1},
    {"pc_hypre_boomeramg_max_iter", 0}, {"pc_hypre_boomeramg_max_levels", 1},
    {"steady_max_it", 1},
};

const RealRule kRealRules[] = {
    {"ts_dt", RealRule::positive}, {"ts_max_time", RealRule::positive},
    {"ts_init_time", RealRule::any}, {"ts_rtol", RealRule::nonneg}, {"ts_atol", RealRule::nonneg},
    {"ts_adapt_dt_min", RealRule::positive}, {"ts_adapt_dt_max", RealRule::positive},
    {"ts_adapt_safety", RealRule::positive}, {"ts_adapt_reject_safety", RealRule::positive},
    {"ts_adapt_scale_solve_failed", RealRule::positive}, {"ts_theta_theta", RealRule::nonneg},
    {"ksp_rtol", RealRule::nonneg}, {"ksp_atol", RealRule::nonneg}, {"ksp_divtol", RealRule::any},
    {"ksp_richardson_scale", RealRule::any},
    {"snes_rtol", RealRule::nonneg}, {"snes_atol", RealRule::nonneg},
    {"snes_stol", RealRule::nonneg}, {"snes_divergence_tolerance", RealRule::any},
    {"pc_sor_omega", RealRule::positive}, {"pc_gamg_threshold", RealRule::any},
    {"pc_hypre_boomeramg_strong_threshold", RealRule::any},
};

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0 &&
         (s.size() == tail.size() || s[s.size() - tail.size() - 1] == '_');
}

// PETSc's keywords for defaults, accepted wherever PETSc parses a number itself.
bool petsc_keyword(const std::string& v) {
  static const std::set<std::string> k = {"petsc_default", "default", "petsc_decide", "decide",
                                          "petsc_determine", "determine"};
  return k.count(lower(trim(v))) > 0;
}

// Paths and free text: a directory may be called "inf".
const std::set<std::string> kFreeText = {"output", "plot_script", "options_file", "prefix_push",
                                         "log_view", "log_trace", "history"};

}  // namespace

void check_numeric_options() {
  PetscInt n = 0;
  char** names = nullptr;
  char** values = nullptr;
  // The options no one has read yet: right after PetscInitialize, every option of the run;
  // reading them this way does not mark them used (-options_left still sees misspellings).
  FP_CHECK(PetscOptionsLeftGet(nullptr, &n, &names, &values));
  std::string err;
  for (PetscInt i = 0; i < n && err.empty(); ++i) {
    const std::string name = names[i];
    const std::string opt = "-" + name;
    const std::string value = values[i] ? values[i] : "";
    try {
      bool matched = false;
      for (const IntRule& r : kIntRules)
        if (ends_with(name, r.suffix)) {
          matched = true;
          if (!petsc_keyword(value))
            parse_integer(opt, value, r.lo, std::numeric_limits<PetscInt>::max());
          break;
        }
      for (const RealRule& r : kRealRules)
        if (!matched && ends_with(name, r.suffix)) {
          matched = true;
          if (petsc_keyword(value)) break;
          const double v = parse_real(opt, value);
          if (r.sign == RealRule::positive && !(v > 0))
            throw Error(opt + " must be positive, got " + trim(value));
          if (r.sign == RealRule::nonneg && !(v >= 0))
            throw Error(opt + " must not be negative, got " + trim(value));
          break;
        }
      if (!matched && !kFreeText.count(name)) {
        // Anything else: a number in it (or in a comma list) must be finite.
        std::stringstream items(value);
        std::string item;
        while (std::getline(items, item, ',')) {
          const std::string t = trim(item);
          char* end = nullptr;
          const double v = std::strtod(t.c_str(), &end);
          if (!t.empty() && end && *end == 0 && !std::isfinite(v))
            parse_real(t == trim(value) ? opt : opt + " " + value + ":", t);
        }
      }
    } catch (const Error& e) {
      err = e.what();
    }
  }
  PetscOptionsLeftRestore(nullptr, &n, &names, &values);
  if (!err.empty()) throw Error(err);
}

void check_time_span(TS ts) {
  PetscReal t_final = 0, dt = 0;
  PetscInt max_steps = 0;
  TSAdapt adapt;
  TSAdaptType type;
  FP_CHECK(TSGetMaxTime(ts, &t_final));
  FP_CHECK(TSGetTimeStep(ts, &dt));
  FP_CHECK(TSGetMaxSteps(ts, &max_steps));
  FP_CHECK(TSGetAdapt(ts, &adapt));
  FP_CHECK(TSAdaptGetType(adapt, &type));
  // fpflow's own controller keeps the step at the positivity bound or the user's -ts_dt (it only
  // ever shrinks it): the first step sets the count.
  const std::string t = type;
  check_time_span(t_final, dt, double(max_steps), t != TSADAPTNONE && t != "fpflow");
}

void check_time_span(double t_final, double dt, double max_steps, bool adaptive) {
  if (!(std::isfinite(t_final) && t_final > 0))
    throw Error("final time must be positive and finite (-ts_max_time), got " + number(t_final));
  if (!(std::isfinite(dt) && dt > 0))
    throw Error("time step must be positive and finite (-ts_dt), got " + number(dt));
  if (adaptive) return;
  const double steps = std::min(std::ceil(t_final / dt), max_steps > 0 ? max_steps : HUGE_VAL);
  if (!(steps <= kMaxSteps))
    throw Error("time step " + number(dt) + " (-ts_dt) would take " +
                number(std::ceil(t_final / dt)) + " steps to reach t = " + number(t_final) +
                " (more than " + number(kMaxSteps) + "): use a larger -ts_dt, or limit the run "
                "with -ts_max_steps");
}

}  // namespace fpflow
