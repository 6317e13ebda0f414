// problems/expression.cpp — muParser set-up, the added functions, parameter evaluation and the
// translation of muParser's errors (see expression.hpp).
#include "problems/expression.hpp"

#include "core/petsc.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <functional>
#include <limits>
#include <set>

namespace fpflow::expr {
namespace {

using F1 = double (*)(double);
using F2 = double (*)(double, double);

// Special functions throw std::domain_error outside their domain; an expression returns NaN
// there instead, which the coefficient checks then report with the point.
template <class F>
double or_nan(F f) {
  try {
    return f();
  } catch (const std::exception&) {
    return std::numeric_limits<double>::quiet_NaN();
  }
}

struct Added {
  const char* name;
  const char* signature;
  const char* meaning;
  F1 f1;
  F2 f2;
};

// What exact laws and potentials are written with; muParser 2.3 has the elementary functions
// (sin ... atanh, exp, ln/log, log2, log10, sqrt, abs, sign, rint, atan2, min, max, sum, avg).
const Added kAdded[] = {
    {"erf", "erf(x)", "error function", [](double v) { return std::erf(v); }, nullptr},
    {"erfc", "erfc(x)", "1 - erf(x), accurate in the tail", [](double v) { return std::erfc(v); },
     nullptr},
    {"normcdf", "normcdf(x)", "standard normal CDF, erfc(-x/sqrt(2))/2",
     [](double v) { return 0.5 * std::erfc(-v * M_SQRT1_2); }, nullptr},
    {"gamma", "gamma(x)", "Gamma function", [](double v) { return std::tgamma(v); }, nullptr},
    {"lgamma", "lgamma(x)", "log |Gamma(x)|", [](double v) { return std::lgamma(v); }, nullptr},
    {"expm1", "expm1(x)", "exp(x) - 1, accurate near 0", [](double v) { return std::expm1(v); },
     nullptr},
    {"log1p", "log1p(x)", "ln(1 + x), accurate near 0", [](double v) { return std::log1p(v); },
     nullptr},
    {"cbrt", "cbrt(x)", "cube root (real, also for x < 0)", [](double v) { return std::cbrt(v); },
     nullptr},
    {"floor", "floor(x)", "largest integer <= x", [](double v) { return std::floor(v); }, nullptr},
    {"ceil", "ceil(x)", "smallest integer >= x", [](double v) { return std::ceil(v); }, nullptr},
    {"heaviside", "heaviside(x)", "0 for x < 0, 1 for x >= 0",
     [](double v) { return std::isnan(v) ? v : v < 0 ? 0.0 : 1.0; }, nullptr},
    {"pow", "pow(x,y)", "x^y", nullptr, [](double a, double b) { return std::pow(a, b); }},
    {"hypot", "hypot(x,y)", "sqrt(x^2 + y^2) without overflow", nullptr,
     [](double a, double b) { return std::hypot(a, b); }},
    {"fmod", "fmod(x,y)", "remainder of x/y with the sign of x", nullptr,
     [](double a, double b) { return std::fmod(a, b); }},
    {"besselj", "besselj(nu,x)", "Bessel function J_nu(x), x >= 0", nullptr,
     [](double n, double v) { return or_nan([&] { return std::cyl_bessel_j(n, v); }); }},
    {"besseli", "besseli(nu,x)", "modified Bessel function I_nu(x), x >= 0", nullptr,
     [](double n, double v) { return or_nan([&] { return std::cyl_bessel_i(n, v); }); }},
    {"besselk", "besselk(nu,x)", "modified Bessel function K_nu(x), x > 0", nullptr,
     [](double n, double v) { return or_nan([&] { return std::cyl_bessel_k(n, v); }); }},
};

const char* const kCoordinates[4] = {"x", "y", "z", "t"};

std::string trim(const std::string& s) {
  const auto a = s.find_first_not_of(" \t");
  if (a == std::string::npos) return "";
  return s.substr(a, s.find_last_not_of(" \t") - a + 1);
}

bool is_identifier(const std::string& s) {
  if (s.empty() || !(std::isalpha((unsigned char)s[0]) || s[0] == '_')) return false;
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return std::isalnum((unsigned char)c) || c == '_'; });
}

bool is_function(const std::string& name) {
  const auto all = function_names();
  return std::find(all.begin(), all.end(), name) != all.end();
}

// The expression as shown in a message: whole when short, else the part around `pos` (a long
// expression would otherwise fill the terminal with one error line).
std::string shown(const std::string& s, int pos) {
  const std::size_t max = 100, half = 40;
  if (s.size() <= max) return "'" + s + "'";
  const std::size_t at = pos >= 0 && std::size_t(pos) < s.size() ? std::size_t(pos) : 0;
  const std::size_t from = at > half ? at - half : 0, to = std::min(s.size(), from + 2 * half);
  return std::string("'") + (from > 0 ? "..." : "") + s.substr(from, to - from) +
         (to < s.size() ? "..." : "") + "' (" + std::to_string(s.size()) + " characters" +
         (pos >= 0 ? ", at character " + std::to_string(pos) : "") + ")";
}

[[noreturn]] void fail(const std::string& where, const std::string& text, int pos,
                       const std::string& why) {
  throw Error(where + " " + shown(text, pos) + ": " + why);
}

// Checks muParser would accept silently but that would do the wrong thing.
void check_text(const std::string& where, const std::string& text) {
  if (trim(text).empty())
    fail(where, text, -1,
         "empty expression (PETSc reads a value starting with '-' as the next option: write "
         "(-x) or 0-x)");
  if (text.size() > std::size_t(mu::MaxLenExpression))
    fail(where, text, -1,
         "longer than muParser's limit of " + std::to_string(mu::MaxLenExpression) +
             " characters; split it into -custom_params or shorten it");
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '=') continue;
    const char before = i > 0 ? text[i - 1] : 0, after = i + 1 < text.size() ? text[i + 1] : 0;
    if (after == '=' || before == '=' || before == '<' || before == '>' || before == '!') continue;
    fail(where, text, int(i),
         "'=' assigns in muParser (it would overwrite a variable for every later expression); "
         "compare with ==");
  }
}

// muParser's error, said in terms of the user's expression. `unknown` explains a name that is
// neither a variable, a constant nor a function.
std::string explain(const mu::Parser::exception_type& e, const std::string& text,
                    const std::function<std::string(const std::string&)>& unknown) {
  const std::string tok = e.GetToken();
  const int pos = e.GetPos();
  switch (e.GetCode()) {
    case mu::ecUNASSIGNABLE_TOKEN: {
      if (!is_identifier(tok) || pos < 0 || std::size_t(pos) > text.size() ||
          text.compare(std::size_t(pos), tok.size(), tok) != 0)
        break;
      std::size_t after = std::size_t(pos) + tok.size();
      const bool spaced = after < text.size() && (text[after] == ' ' || text[after] == '\t');
      while (after < text.size() && (text[after] == ' ' || text[after] == '\t')) ++after;
      const bool call = after < text.size() && text[after] == '(';
      if (is_function(tok))
        return call && spaced ? "write '" + tok + "(' with no space before '('"
                              : "function '" + tok + "' needs its argument(s): " + tok + "(...)";
      if (call) return "unknown function '" + tok + "' (functions: " + functions_help() + ")";
      return unknown(tok);
    }
    case mu::ecUNEXPECTED_VAR:
    case mu::ecUNEXPECTED_VAL:
      return e.GetMsg() + " (a missing operator? a product is written 2*x)";
    case mu::ecEXPRESSION_TOO_LONG:
      return "longer than muParser's limit of " + std::to_string(mu::MaxLenExpression) +
             " characters";
    default:
      break;
  }
  return e.GetMsg();
}

}  // namespace

const std::vector<FunctionInfo>& added_functions() {
  static const std::vector<FunctionInfo> list = [] {
    std::vector<FunctionInfo> v;
    for (const auto& a : kAdded) v.push_back({a.signature, a.meaning});
    return v;
  }();
  return list;
}

std::vector<std::string> function_names() {
  static const std::vector<std::string> names = [] {
    std::set<std::string> s;
    const mu::Parser builtin;  // a named parser: GetFunDef refers into it
    for (const auto& [n, cb] : builtin.GetFunDef()) s.insert(n);
    for (const auto& a : kAdded) s.insert(a.name);
    return std::vector<std::string>(s.begin(), s.end());
  }();
  return names;
}

std::string functions_help() {
  std::string s;
  for (const auto& a : kAdded) s.append(s.empty() ? "" : " ").append(a.signature);
  s.append("; muParser's:");
  const mu::Parser builtin;
  for (const auto& [n, cb] : builtin.GetFunDef())
    s.append(" ").append(n).append(cb.GetArgc() < 0 ? "(...)" : "");
  return s.append("; log = ln, the natural logarithm");
}

std::vector<std::string> split_top_level(const std::string& text) {
  std::vector<std::string> out(1);
  int depth = 0;
  for (char c : text) {
    if (c == '(') ++depth;
    if (c == ')') --depth;
    if (c == ',' && depth == 0) {
      out.emplace_back();
      continue;
    }
    out.back() += c;
  }
  return out;
}

std::string Scope::reserved(const std::string& name) const {
  if (name == "t") return "the time t";
  for (int d = 0; d < 3; ++d)
    if (name == kCoordinates[d]) return "the coordinate " + name;
  if (name == "pi" || name == "e") return "the constant " + name;
  const mu::Parser builtin;
  for (const auto& [n, v] : builtin.GetConst())
    if (n == name) return "muParser's constant " + name;
  if (is_function(name)) return "the function " + name + "()";
  return "";
}

void Scope::prepare(mu::Parser& p, bool coordinates) const {
  if (coordinates)
    for (int k = 0; k < 4; ++k) p.DefineVar(kCoordinates[k], &var_[k]);
  p.DefineConst("pi", M_PI);
  p.DefineConst("e", M_E);
  for (const auto& a : kAdded) {
    if (a.f1) p.DefineFun(a.name, a.f1);
    else p.DefineFun(a.name, a.f2);
  }
  for (const auto& q : params_) p.DefineConst(q.name, q.value);
}

void Scope::define_parameters(const std::string& text) {
  params_.clear();
  if (trim(text).empty()) return;
  const std::string& opt = params_option_;
  struct Entry {
    std::string name, value;
  };
  std::vector<Entry> entries;
  // Names first, all of them, so a value that uses a later name can be told so.
  for (const auto& raw : split_top_level(text)) {
    const std::string item = trim(raw);
    if (item.empty())
      throw Error(opt + " '" + text + "': an empty entry (two commas in a row, or one at the end)");
    const auto eq = item.find('=');
    const std::string name = trim(item.substr(0, eq));
    if (eq == std::string::npos || name.empty() || trim(item.substr(eq + 1)).empty())
      throw Error(opt + ": '" + item + "' is not of the form name=value");
    if (!is_identifier(name))
      throw Error(opt + ": '" + name +
                  "' is not a valid name (a letter or '_', then letters, digits or '_')");
    if (name.size() > std::size_t(mu::MaxLenIdentifier))
      throw Error(opt + ": the name '" + name.substr(0, 20) + "...' is longer than " +
                  std::to_string(mu::MaxLenIdentifier) + " characters");
    if (const std::string why = reserved(name); !why.empty())
      throw Error(opt + ": parameter '" + name + "' would shadow " + why +
                  "; choose another name");
    for (const auto& e : entries)
      if (e.name == name) throw Error(opt + ": parameter '" + name + "' is defined twice");
    entries.push_back({name, trim(item.substr(eq + 1))});
  }
  for (std::size_t k = 0; k < entries.size(); ++k) {
    const auto& [name, value] = entries[k];
    const std::string where = opt + ": " + name + " =";
    check_text(where, value);
    mu::Parser p;
    prepare(p, false);
    double v = 0;
    try {
      p.SetExpr(value);
      v = p.Eval();
    } catch (const mu::Parser::exception_type& e) {
      fail(where, value, e.GetPos(), explain(e, value, [&](const std::string& n) -> std::string {
             for (int d = 0; d < 4; ++d)
               if (n == kCoordinates[d])
                 return "a parameter is a constant: it cannot use " + reserved(n);
             for (std::size_t l = k + 1; l < entries.size(); ++l)
               if (entries[l].name == n)
                 return "'" + n + "' is defined after '" + name + "' (a value may use only the "
                        "parameters before it)";
             return "unknown name '" + n + "' (a value may use numbers, pi, e, functions and "
                    "the parameters before it)";
           }));
    }
    if (p.GetNumResults() > 1)
      fail(where, value, -1, "',' separates two values here; one is expected");
    if (!std::isfinite(v))
      fail(where, value, -1,
           "evaluates to " + std::to_string(v) + "; a parameter must be a finite number");
    params_.push_back({name, value, v});
  }
}

void Expression::compile(const Scope& scope, const std::string& option, const std::string& text) {
  text_ = text;
  parser_ = mu::Parser();
  check_text(option, text);
  scope.prepare(parser_, true);
  try {
    parser_.SetExpr(text);
    parser_.Eval();  // parses now, so errors surface at set-up rather than mid-run
  } catch (const mu::Parser::exception_type& e) {
    fail(option, text, e.GetPos(), explain(e, text, [&](const std::string& n) {
           return "unknown name '" + n + "' (an expression may use x, y, z, t, pi, e and " +
                  scope.params_option_ + " parameters: e.g. " + scope.params_option_ + " " + n +
                  "=1)";
         }));
  }
  if (parser_.GetNumResults() > 1)
    fail(option, text, -1,
         "a ',' outside parentheses separates two expressions; one is expected");
}

bool Expression::uses(const std::string& name) const {
  return parser_.GetUsedVar().count(name) > 0;
}

}  // namespace fpflow::expr
