// problems/expression.hpp — run-time expressions (muParser) for problems defined on the command
// line: the coordinates x, y, z and the time t, the constants pi and e, the functions muParser
// lacks (erf, gamma, Bessel, ...), named parameters evaluated once in order, and muParser's errors
// translated into one line that names the option and the offending name.
//
// What an expression may not do: assign (`x=3` would overwrite the coordinate for every later
// expression), hold several results (`1,2` evaluates to 2 in muParser), or be longer than
// muParser's own limit (mu::MaxLenExpression characters). Each is refused when it is compiled.
//
// Not thread-safe, by design: muParser reads variables through pointers, so all expressions of a
// Scope read the point from the Scope's storage, set by Scope::set before evaluating.
#pragma once

#include <muParser.h>

#include <array>
#include <string>
#include <vector>

namespace fpflow::expr {

// A named constant: its source text and the value it evaluated to.
struct Parameter {
  std::string name, source;
  double value = 0;
};

// One function fpflow adds to muParser's own (for -help, the README and error hints).
struct FunctionInfo {
  const char* name;
  const char* meaning;
};
const std::vector<FunctionInfo>& added_functions();
// Every function name an expression may call: muParser's built-ins and the added ones, sorted.
std::vector<std::string> function_names();
// One line for -help: "erf, erfc, ... (muParser: sin, cos, ...)".
std::string functions_help();

class Scope {
 public:
  // `params_option` names the option that defines parameters (in hints and errors).
  explicit Scope(std::string params_option) : params_option_(std::move(params_option)) {}
  Scope(const Scope&) = delete;  // expressions point into var_
  Scope& operator=(const Scope&) = delete;

  // Parses "name=expression,name=expression,..." (commas inside parentheses belong to the
  // expression) and evaluates each value once, in order: a value may use numbers, pi, e, the
  // functions and the parameters before it. Refuses malformed or duplicate names, names that
  // shadow x, y, z, t, a constant or a function, and values that are not finite.
  void define_parameters(const std::string& text);
  const std::vector<Parameter>& parameters() const { return params_; }

  // The point and time every expression of this scope is evaluated at.
  void set(const double* x, double t) const {
    var_[0] = x[0], var_[1] = x[1], var_[2] = x[2], var_[3] = t;
  }

  // Why `name` cannot name a parameter (it shadows ...), or "" if it can.
  std::string reserved(const std::string& name) const;

 private:
  friend class Expression;
  // Defines on p the constants, the functions and the parameters so far (and the coordinates
  // when `coordinates`).
  void prepare(mu::Parser& p, bool coordinates) const;

  std::string params_option_;
  mutable std::array<double, 4> var_{};  // x, y, z, t
  std::vector<Parameter> params_;
};

class Expression {
 public:
  // Parses `text` in `scope` (then evaluated at the scope's point); errors name `option`.
  void compile(const Scope& scope, const std::string& option, const std::string& text);
  double eval() const { return parser_.Eval(); }
  // True if the expression reads the variable `name` (x, y, z or t).
  bool uses(const std::string& name) const;
  const std::string& text() const { return text_; }

 private:
  mu::Parser parser_;
  std::string text_;
};

// Splits at commas outside parentheses ("a=min(1,2),b=3" -> "a=min(1,2)", "b=3").
std::vector<std::string> split_top_level(const std::string& text);

}  // namespace fpflow::expr
