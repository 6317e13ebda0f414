// verification/compare.cpp — reductions of both sides and the gates (see compare.hpp).
#include "verification/compare.hpp"

#include "verification/statistics.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace fpflow::compare {

namespace {

// Integral over [0, len] of |g| for g linear from g0 to g1 (split at the root if it changes sign).
double abs_linear(double g0, double g1, double len) {
  if (g0 * g1 >= 0) return 0.5 * (std::fabs(g0) + std::fabs(g1)) * len;
  return len * (g0 * g0 + g1 * g1) / (2 * (std::fabs(g0) + std::fabs(g1)));
}

// The marginal CDF (normalised) at the faces of a lattice `refine` times finer than the cells.
std::vector<double> cdf_at_faces(const std::vector<double>& mass, int refine) {
  const double total = std::accumulate(mass.begin(), mass.end(), 0.0);
  std::vector<double> F(mass.size() * refine + 1, 0.0);
  double acc = 0;
  for (std::size_t i = 0; i < mass.size(); ++i) {
    for (int r = 1; r <= refine; ++r) F[i * refine + r] = (acc + mass[i] * r / refine) / total;
    acc += mass[i];
  }
  return F;
}

struct Moments {
  double mean = 0, var = 0, mu4 = 0;
};

// Moments of the piecewise-constant density (cell masses, uniform inside each cell of width h).
Moments grid_moments(const std::vector<double>& mass, double lo, double h) {
  const double total = std::accumulate(mass.begin(), mass.end(), 0.0);
  Moments m;
  for (std::size_t i = 0; i < mass.size(); ++i) m.mean += mass[i] * (lo + (i + 0.5) * h);
  m.mean /= total;
  double v = 0, q = 0;
  for (std::size_t i = 0; i < mass.size(); ++i) {
    const double c = lo + (i + 0.5) * h - m.mean;
    v += mass[i] * c * c, q += mass[i] * c * c * c * c;
  }
  v /= total, q /= total;
  m.var = v + h * h / 12;                       // + the variance of the uniform inside a cell
  m.mu4 = q + v * h * h / 2 + h * h * h * h / 80;  // E (c + U)^4, U uniform on a cell
  return m;
}

Moments sample_moments(const std::vector<double>& x) {
  Moments m;
  const double n = double(x.size());
  for (double v : x) m.mean += v;
  m.mean /= n;
  for (double v : x) m.var += (v - m.mean) * (v - m.mean);
  m.var /= n - 1;
  return m;
}

// Bin probabilities of a grid (plus the absorbed bin), normalised to sum 1.
std::vector<double> bin_probabilities(const GridSide& g) {
  std::vector<double> p = g.block_mass;
  if (g.absorbing) p.push_back(g.absorbed);
  const double total = std::accumulate(p.begin(), p.end(), 0.0);
  for (double& v : p) v /= total;
  return p;
}

std::vector<double> bin_frequencies(const ParticleSide& s, bool absorbing) {
  std::vector<double> f = s.block_count;
  if (absorbing) f.push_back(s.killed);
  for (double& v : f) v /= s.n;
  return f;
}

double grouped_l1(const std::vector<double>& a, const std::vector<double>& b,
                  const std::vector<std::size_t>& group) {
  const std::size_t K = group.empty() ? 0 : group.back() + 1;
  std::vector<double> d(K, 0.0);
  for (std::size_t k = 0; k < a.size(); ++k) d[group[k]] += a[k] - b[k];
  double s = 0;
  for (double v : d) s += std::fabs(v);
  return s;
}

const char* axis_name(int d) { return d == 0 ? "x" : d == 1 ? "y" : "z"; }

}  // namespace

GridSide reduce_grid(const Grid& grid, Vec rho, std::array<int, 3> blocks, double absorbed) {
  GridSide s;
  s.dim = grid.dim();
  s.box = grid.box();
  for (int d = 0; d < 3; ++d) {
    s.cells[d] = grid.cells(d);
    s.h[d] = grid.h(d);
    s.blocks[d] = d < s.dim ? blocks[d] : 1;
    if (s.blocks[d] < 1 || s.cells[d] % s.blocks[d] != 0)
      throw Error("comparison bins: " + std::to_string(s.cells[d]) + " cells along axis " +
                  std::to_string(d) + " are not a multiple of " + std::to_string(s.blocks[d]) +
                  " bins");
    s.marginal[d].assign(s.cells[d], 0.0);
    if (d < s.dim && grid.boundary(d).any(Boundary::absorbing)) s.absorbing = true;
  }
  s.block_mass.assign(std::size_t(s.blocks[0]) * s.blocks[1] * s.blocks[2], 0.0);
  std::array<PetscInt, 3> per;
  for (int d = 0; d < 3; ++d) per[d] = s.cells[d] / s.blocks[d];
  const double vol = grid.cell_volume();
  {
    VecArrayRead r(rho);
    grid.for_each_owned([&](const std::array<PetscInt, 3>& c) {
      const double m = r[grid.owned_index(c[0], c[1], c[2])] * vol;
      const std::size_t b = std::size_t(c[0] / per[0]) +
                            std::size_t(s.blocks[0]) * (c[1] / per[1] + s.blocks[1] * (c[2] / per[2]));
      s.block_mass[b] += m;
      for (int d = 0; d < 3; ++d) s.marginal[d][c[d]] += m;
    });
  }
  const MPI_Comm comm = grid.comm();
  MPI_Allreduce(MPI_IN_PLACE, s.block_mass.data(), int(s.block_mass.size()), MPI_DOUBLE, MPI_SUM,
                comm);
  for (int d = 0; d < 3; ++d)
    MPI_Allreduce(MPI_IN_PLACE, s.marginal[d].data(), int(s.marginal[d].size()), MPI_DOUBLE,
                  MPI_SUM, comm);
  s.mass = std::accumulate(s.block_mass.begin(), s.block_mass.end(), 0.0);
  s.absorbed = absorbed;
  return s;
}

ParticleSide reduce_particles(const Ensemble& e, const GridSide& g) {
  ParticleSide s;
  s.block_count.assign(g.block_mass.size(), 0.0);
  std::array<std::vector<double>, 3> live;
  for (std::size_t p = 0; p < e.local_size(); ++p) {
    if (!e.alive(p)) continue;
    const double* x = e.position(p);
    std::size_t b = 0, stride = 1;
    for (int d = 0; d < g.dim; ++d) {
      const double w = g.h[d] * double(g.cells[d] / g.blocks[d]);
      const long k = std::clamp(long(std::floor((x[d] - g.box.lo[d]) / w)), 0L, long(g.blocks[d] - 1));
      b += stride * std::size_t(k);
      stride *= std::size_t(g.blocks[d]);
      live[d].push_back(x[d]);
    }
    s.block_count[b] += 1;
  }
  const MPI_Comm comm = e.comm();
  MPI_Allreduce(MPI_IN_PLACE, s.block_count.data(), int(s.block_count.size()), MPI_DOUBLE,
                MPI_SUM, comm);
  s.n = double(e.global_size());
  s.killed = s.n - std::accumulate(s.block_count.begin(), s.block_count.end(), 0.0);
  const int size = comm_size(comm), rank = comm_rank(comm);
  for (int d = 0; d < g.dim; ++d) {
    int count = int(live[d].size());
    std::vector<int> counts(size), displs(size, 0);
    MPI_Gather(&count, 1, MPI_INT, counts.data(), 1, MPI_INT, 0, comm);
    if (rank == 0) {
      for (int r = 1; r < size; ++r) displs[r] = displs[r - 1] + counts[r - 1];
      s.sorted[d].resize(std::size_t(displs[size - 1]) + counts[size - 1]);
    }
    MPI_Gatherv(live[d].data(), count, MPI_DOUBLE, s.sorted[d].data(), counts.data(),
                displs.data(), MPI_DOUBLE, 0, comm);
    if (rank == 0) std::sort(s.sorted[d].begin(), s.sorted[d].end());
  }
  return s;
}

double ks_grid(const std::vector<double>& x, double lo, double h, const std::vector<double>& mass) {
  const std::vector<double> F = cdf_at_faces(mass, 1);
  const double n = double(x.size());
  const long cells = long(mass.size());
  double D = 0;
  for (std::size_t k = 0; k < x.size(); ++k) {
    const double s = (x[k] - lo) / h;
    const long i = std::clamp(long(std::floor(s)), 0L, cells - 1);
    const double f = std::clamp(F[i] + (F[i + 1] - F[i]) * (s - double(i)), 0.0, 1.0);
    D = std::max({D, std::fabs(double(k + 1) / n - f), std::fabs(double(k) / n - f)});
  }
  return D;
}

double w1_grid(const std::vector<double>& x, double lo, double h, const std::vector<double>& mass) {
  // Walk the merged breakpoints (faces and samples); on each piece F_N is constant and F linear.
  const std::vector<double> F = cdf_at_faces(mass, 1);
  const double n = double(x.size());
  const std::size_t cells = mass.size();
  const double hi = lo + double(cells) * h;
  auto Fgrid = [&](double y) {
    const double s = (y - lo) / h;
    if (s <= 0) return 0.0;
    if (s >= double(cells)) return 1.0;
    const std::size_t i = std::min(std::size_t(s), cells - 1);
    return F[i] + (F[i + 1] - F[i]) * (s - double(i));
  };
  double w = 0, prev = std::min(lo, x.empty() ? lo : x.front());
  std::size_t k = 0, face = 0;
  const double end = std::max(hi, x.empty() ? hi : x.back());
  while (prev < end) {
    // The next breakpoint: a face above prev or the next sample.
    while (face <= cells && lo + double(face) * h <= prev) ++face;
    const double next_face = face <= cells ? lo + double(face) * h : end;
    while (k < x.size() && x[k] <= prev) ++k;
    const double next = std::min(next_face, k < x.size() ? x[k] : end);
    const double c = double(k) / n;
    w += abs_linear(Fgrid(prev) - c, Fgrid(next) - c, next - prev);
    prev = next;
  }
  return w;
}

double ks_two_sample(const std::vector<double>& a, const std::vector<double>& b) {
  std::size_t i = 0, j = 0;
  double D = 0;
  while (i < a.size() && j < b.size()) {
    const double v = std::min(a[i], b[j]);
    while (i < a.size() && a[i] <= v) ++i;
    while (j < b.size() && b[j] <= v) ++j;
    D = std::max(D, std::fabs(double(i) / double(a.size()) - double(j) / double(b.size())));
  }
  return D;
}

double w1_two_sample(const std::vector<double>& a, const std::vector<double>& b) {
  std::size_t i = 0, j = 0;
  double w = 0, prev = std::min(a.front(), b.front());
  while (i < a.size() || j < b.size()) {
    const double v = std::min(i < a.size() ? a[i] : HUGE_VAL, j < b.size() ? b[j] : HUGE_VAL);
    w += std::fabs(double(i) / double(a.size()) - double(j) / double(b.size())) * (v - prev);
    while (i < a.size() && a[i] <= v) ++i;
    while (j < b.size() && b[j] <= v) ++j;
    prev = v;
  }
  return w;
}

std::vector<Gate> gates(MPI_Comm comm, const GridSide& coarse, const GridSide& fine,
                        const ParticleSide& p, const ParticleSide* pdt, const Budget& budget) {
  std::vector<Gate> out;
  std::string error;
  if (comm_rank(comm) == 0) try {
    const double N = p.n, delta = budget.delta;
    auto make = [&](std::string metric, double value, double stat, double grid, double bias,
                    nlohmann::json extra) {
      Gate g;
      g.metric = std::move(metric);
      g.value = value;
      g.threshold = stat + grid + bias;
      extra["statistical"] = stat;
      extra["grid"] = grid;
      extra["time_step"] = bias;
      extra["time_step_from"] = pdt ? budget.pair_note : budget.bias_note;
      extra["N"] = N;
      extra["delta"] = delta;
      g.parts = extra;
      out.push_back(g);
    };

    // L1 over bins that are unions of cells (+ the absorbed bin), sparse bins merged.
    {
      const auto pf = bin_probabilities(fine), pc = bin_probabilities(coarse);
      const auto f = bin_frequencies(p, fine.absorbing);
      const auto group = stats::merge_sparse_bins(pf, N);
      const std::size_t K = group.back() + 1;
      const double bias = pdt ? grouped_l1(f, bin_frequencies(*pdt, fine.absorbing), group) : 0.0;
      const double pair = grouped_l1(pc, pf, group);
      make("L1", grouped_l1(f, pf, group), stats::l1_floor(K, N, delta),
           stats::richardson_bound(pair), bias,
           {{"K", K}, {"bins_before_merging", pf.size()}, {"grid_pair_distance", pair}});
    }
    if (fine.absorbing) {
      const double a = fine.absorbed / (fine.mass + fine.absorbed);
      const double ac = coarse.absorbed / (coarse.mass + coarse.absorbed);
      const double bias = pdt ? std::fabs(p.killed - pdt->killed) / N : 0.0;
      make("absorbed", std::fabs(p.killed / N - a), std::sqrt(std::log(2 / delta) / (2 * N)),
           stats::richardson_bound(std::fabs(a - ac)), bias,
           {{"grid_absorbed", a}, {"particles_killed_fraction", p.killed / N}});
    }
    if (budget.marginals) {
      const double z = std::sqrt(2 * std::log(2 / delta));
      for (int d = 0; d < fine.dim; ++d) {
        const auto& x = p.sorted[d];
        const double n = double(x.size()), lo = fine.box.lo[d], h = fine.h[d];
        const auto Ff = cdf_at_faces(fine.marginal[d], 1), Fc = cdf_at_faces(coarse.marginal[d], 2);
        double ks_pair = 0, w1_pair = 0, spread = 0;
        for (std::size_t i = 0; i + 1 < Ff.size(); ++i) {
          ks_pair = std::max(ks_pair, std::fabs(Ff[i + 1] - Fc[i + 1]));
          w1_pair += abs_linear(Ff[i] - Fc[i], Ff[i + 1] - Fc[i + 1], h);
          // int sqrt(F (1 - F)) dx by Simpson on each cell (F linear there).
          // (Clamped: a density with round-off negatives can step F just outside [0, 1].)
          auto sd = [](double F) { return std::sqrt(std::max(0.0, F * (1 - F))); };
          spread += h / 6 * (sd(Ff[i]) + 4 * sd(0.5 * (Ff[i] + Ff[i + 1])) + sd(Ff[i + 1]));
        }
        const std::string ax = axis_name(d);
        make("KS_" + ax, ks_grid(x, lo, h, fine.marginal[d]), stats::dkw_floor(n, delta),
             stats::richardson_bound(ks_pair), pdt ? ks_two_sample(x, pdt->sorted[d]) : 0.0,
             {{"grid_pair_distance", ks_pair}, {"n", n}});
        const Moments mf = grid_moments(fine.marginal[d], lo, h);
        const Moments mc = grid_moments(coarse.marginal[d], coarse.box.lo[d], coarse.h[d]);
        const Moments ms = sample_moments(x);
        if (budget.gaussian) {
          const double sd = std::sqrt(mf.var);
          make("W1_" + ax, w1_grid(x, lo, h, fine.marginal[d]),
               spread / std::sqrt(n) + sd * std::sqrt(2 * std::log(1 / delta) / n),
               stats::richardson_bound(w1_pair), pdt ? w1_two_sample(x, pdt->sorted[d]) : 0.0,
               {{"grid_pair_distance", w1_pair}, {"expected_floor", spread / std::sqrt(n)},
                {"spread_integral", spread}, {"sd", sd}, {"n", n}});
        }
        const Moments mdt = pdt ? sample_moments(pdt->sorted[d]) : ms;
        make("mean_" + ax, std::fabs(ms.mean - mf.mean), z * std::sqrt(mf.var / n),
             stats::richardson_bound(std::fabs(mf.mean - mc.mean)), std::fabs(ms.mean - mdt.mean),
             {{"grid_mean", mf.mean}, {"particles_mean", ms.mean}, {"z", z},
              {"standard_error", std::sqrt(mf.var / n)}, {"grid_variance", mf.var}, {"n", n}});
        const double se = std::sqrt(std::max(mf.mu4 - mf.var * mf.var, 0.0) / n);
        make("var_" + ax, std::fabs(ms.var - mf.var), z * se,
             stats::richardson_bound(std::fabs(mf.var - mc.var)), std::fabs(ms.var - mdt.var),
             {{"grid_variance", mf.var}, {"particles_variance", ms.var}, {"z", z},
              {"standard_error", se}, {"grid_mu4", mf.mu4}, {"n", n}});
      }
    }
  } catch (const std::exception& e) {
    error = e.what();  // computed on rank 0 only: every rank must learn of it
  }
  throw_if_any(comm, error);
  // Broadcast the gates to every rank (as JSON text).
  std::string text;
  if (comm_rank(comm) == 0) {
    nlohmann::json j = nlohmann::json::array();
    for (const auto& g : out)
      j.push_back({{"metric", g.metric}, {"value", g.value}, {"threshold", g.threshold},
                   {"parts", g.parts}});
    text = j.dump();
  }
  int len = int(text.size());
  MPI_Bcast(&len, 1, MPI_INT, 0, comm);
  text.resize(len);
  MPI_Bcast(text.data(), len, MPI_CHAR, 0, comm);
  if (comm_rank(comm) != 0)
    for (const auto& g : nlohmann::json::parse(text)) {
      Gate x;
      x.metric = g["metric"];
      // JSON has no NaN (it is written as null): a NaN stays a NaN, and fails its gate.
      auto num = [](const nlohmann::json& v) { return v.is_number() ? v.get<double>() : NAN; };
      x.value = num(g["value"]);
      x.threshold = num(g["threshold"]);
      x.parts = g["parts"];
      out.push_back(x);
    }
  return out;
}

nlohmann::json plot_data(const GridSide& g, const ParticleSide& p) {
  nlohmann::json j;
  j["dim"] = g.dim;
  j["n"] = p.n;
  j["killed"] = p.killed;
  j["absorbed"] = g.absorbed / (g.mass + g.absorbed);
  nlohmann::json axes = nlohmann::json::array();
  for (int d = 0; d < g.dim; ++d) {
    const auto& x = p.sorted[d];
    const PetscInt per = g.cells[d] / g.blocks[d];
    const double w = g.h[d] * double(per), n = double(x.size());
    std::vector<double> edges, grid, part, centres, cell_density;
    for (int b = 0; b <= g.blocks[d]; ++b) edges.push_back(g.box.lo[d] + b * w);
    for (int b = 0; b < g.blocks[d]; ++b) {
      double m = 0;
      for (PetscInt i = b * per; i < (b + 1) * per; ++i) m += g.marginal[d][i];
      grid.push_back(m / g.mass / w);
      const auto lo = std::lower_bound(x.begin(), x.end(), edges[b]);
      const auto hi = b + 1 == g.blocks[d] ? x.end() : std::lower_bound(x.begin(), x.end(), edges[b + 1]);
      part.push_back(double(hi - lo) / n / w);
    }
    for (PetscInt i = 0; i < g.cells[d]; ++i) {
      centres.push_back(g.box.lo[d] + (double(i) + 0.5) * g.h[d]);
      cell_density.push_back(g.marginal[d][i] / g.mass / g.h[d]);
    }
    axes.push_back({{"edges", edges}, {"grid", grid}, {"particles", part}, {"n", n},
                    {"centres", centres}, {"grid_cells", cell_density}});
  }
  j["axes"] = axes;
  if (g.dim >= 2) {
    const int bx = g.blocks[0], by = g.blocks[1];
    std::vector<double> gm(std::size_t(bx) * by, 0.0), pm(gm.size(), 0.0);
    for (std::size_t b = 0; b < g.block_mass.size(); ++b) {
      const std::size_t k = b % (std::size_t(bx) * by);
      gm[k] += g.block_mass[b] / g.mass;
      pm[k] += p.block_count[b] / (p.n - p.killed);
    }
    j["map"] = {{"nx", bx}, {"ny", by}, {"grid", gm}, {"particles", pm},
                {"extent", {g.box.lo[0], g.box.hi[0], g.box.lo[1], g.box.hi[1]}}};
  }
  return j;
}

}  // namespace fpflow::compare
