// core/input_checks.hpp — user input that PETSc would accept silently, wrap, or report badly.
//
// PETSc's parsers are lenient where a wrong value costs a whole run: integers wrap beyond 32 bits
// (-da_grid_x 4294967360 runs 64 cells), "1e400" and "inf" pass as reals, a word without a
// leading '-' is skipped, and a missing or binary -options_file either prints a long trace or
// is read as nothing. These checks run before PETSc sees the input (the command line and the
// options files) or right after it has been stored (the options database), and each failure is
// one Error whose message names the option or file and the value.
#pragma once

#include <petscts.h>

#include <string>
#include <vector>

namespace fpflow {

// --- strict values -------------------------------------------------------------------------
// `option` names the option in messages ("-da_grid_x"). Whole-string parses: no trailing text.

// A whole decimal integer in [lo, hi] ("1.5", "1e3", "abc", "99999999999" are refused).
long long parse_integer(const std::string& option, const std::string& text, long long lo,
                        long long hi);
// A finite real ("inf", "nan", "1e400", "1,2", "abc" are refused).
double parse_real(const std::string& option, const std::string& text);
// PETSc's boolean words: 1/0, true/false, yes/no, on/off (any case); empty means true.
bool parse_flag(const std::string& option, const std::string& text);

// --- the command line, before PetscInitialize (MPI initialised) ----------------------------
struct CommandLine {
  std::string subcommand;  // "" (a run), "verify" or "bench"
  std::string output;      // the -output PETSc will see (last wins), or the subcommand's default
};

// Collective over `comm` (rank 0 reads the files, as PETSc does, and every rank throws alike).
// Refuses an unknown subcommand, a stray word (PETSc would skip it: "-box_lo 1 2"), an empty
// value, and an -options_file that is missing, not a regular file, unreadable or not text
// (also files named inside options files). Sets `line.output` even when it throws, so that the
// caller can mark the output directory as failed.
void check_command_line(MPI_Comm comm, int argc, char** argv, CommandLine& line);

// --- the options database, right after PetscInitialize -------------------------------------
// Values of PETSc's own numeric options (matched by name, with any prefix: -mg_levels_ksp_max_it)
// must be whole 32-bit integers or finite reals within their meaningful range (-ts_max_steps
// >= 1, -ts_dt > 0, ...); no other option may hold a non-finite number. Options fpflow reads
// itself are parsed strictly by OptionsBlock. Collective (the database is the same on every
// rank): throws Error.
void check_numeric_options();

// --- the time span -------------------------------------------------------------------------
// A run from 0 to t_final in steps of dt, at most max_steps of them: refuses a final time that
// is not positive and finite, a step that is not, a step below the resolution of t (the run
// would never advance), and a run of more than kMaxSteps steps (it would run for days).
// An adaptive step (-ts_adapt_type other than none) is only checked to be positive and finite.
constexpr double kMaxSteps = 1e9;
void check_time_span(double t_final, double dt, double max_steps, bool adaptive);
// The same for a TS after TSSetFromOptions (its final time, step, step limit and adaptor).
void check_time_span(TS ts);

}  // namespace fpflow
