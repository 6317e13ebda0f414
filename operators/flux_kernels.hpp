// operators/flux_kernels.hpp — pointwise face-flux kernels for drift-diffusion along one axis.
//
// Pure functions of face data: no PETSc, no loops, no grid. A face separates cell K (low side)
// from cell L (high side); the flux F > 0 carries mass from K to L. Face data:
//   u  effective drift normal to the face, u = b_i - 1/2 d_i a_ii (the Ito correction of
//      J_i = b_i rho - 1/2 d_i(a_ii rho) belongs to the drift part; MATH.md "Cross-diffusion")
//   D  diffusivity on the face, D = 1/2 a_ii >= 0
//   h  cell width along the axis.
// Linear schemes are written as F = alpha rho_K - beta rho_L with alpha, beta >= 0, which gives
// both the residual and the exact Jacobian, and makes positivity visible (M-matrix).
#pragma once

#include <algorithm>
#include <cmath>

namespace fpflow::kernels {

struct FaceCoef {
  double u = 0;  // effective drift
  double D = 0;  // diffusivity (1/2 a_ii)
};

struct LinearFlux {
  double alpha = 0;  // coefficient of rho_K
  double beta = 0;   // coefficient of rho_L
  double operator()(double rho_K, double rho_L) const { return alpha * rho_K - beta * rho_L; }
};

// Bernoulli function B(x) = x / (e^x - 1), evaluated without cancellation or overflow.
inline double bernoulli(double x) {
  const double ax = std::fabs(x);
  if (ax < 1e-3) {
    const double x2 = x * x;
    return 1.0 - 0.5 * x + x2 / 12.0 - x2 * x2 / 720.0;
  }
  if (x > 700.0) return x * std::exp(-x);  // e^x overflows; B -> x e^{-x} -> 0
  return x / std::expm1(x);
}

// First-order upwind drift + central diffusion.
inline LinearFlux upwind(FaceCoef c, double h) {
  const double d = c.D / h;
  return {std::max(c.u, 0.0) + d, -std::min(c.u, 0.0) + d};
}

// Central diffusion alone (the implicit part of an IMEX split).
inline LinearFlux central_diffusion(FaceCoef c, double h) { return {c.D / h, c.D / h}; }

// Scharfetter-Gummel / Chang-Cooper exponential fitting: F = (D/h)[B(-delta) rho_K - B(delta) rho_L]
// with Peclet number delta = u h / D. Zero flux exactly when rho_L / rho_K = e^delta (discrete
// Gibbs state); tends to central differencing as delta -> 0 and to upwind as |delta| -> inf,
// which is also the limit used when D = 0.
inline LinearFlux scharfetter_gummel(FaceCoef c, double h) {
  const double delta = c.D > 0.0 ? c.u * h / c.D : 0.0;
  // D = 0, or so small that delta overflows: the upwind limit (B(-delta) ~ -delta, B(delta) ~ 0).
  if (c.D <= 0.0 || !(std::fabs(delta) < 1e4)) return {std::max(c.u, 0.0), -std::min(c.u, 0.0)};
  const double d = c.D / h;
  // B(-delta) is evaluated directly: B(delta) + delta cancels catastrophically for delta << 0.
  return {d * bernoulli(-delta), d * bernoulli(delta)};
}

// Slope limiters phi(r) of TVD type, r = (downwind jump)/(upwind jump). All satisfy
// 0 <= phi(r) <= 2 min(1, r), which bounds the positivity CFL number by 1/2.
enum class Limiter { minmod, vanleer, mc };

inline double limit(Limiter l, double r) {
  switch (l) {
    case Limiter::minmod: return std::max(0.0, std::min(1.0, r));
    case Limiter::vanleer: return (r + std::fabs(r)) / (1.0 + std::fabs(r));
    case Limiter::mc: return std::max(0.0, std::min({2.0 * r, 0.5 * (1.0 + r), 2.0}));
  }
  return 0.0;
}

// Limited linear reconstruction at the face from the upwind side: value of the cell `c` at its
// face towards `down`, using its other neighbour `up`. phi(r) (c - up) / 2 with r the ratio of
// jumps; written as a product form that is safe when the upwind jump is zero.
inline double reconstruct(Limiter l, double up, double c, double down) {
  const double dm = c - up, dp = down - c;
  if (dm * dp <= 0.0) return c;  // extremum or flat: first order, keeps positivity
  return c + 0.5 * limit(l, dp / dm) * dm;
}

// Second-order drift flux: MUSCL reconstruction upwinded by the sign of u.
// Cells along the axis: Km = K-1, K, L, Lp = L+1.
inline double muscl_drift(Limiter l, double u, double rho_Km, double rho_K, double rho_L,
                          double rho_Lp) {
  if (u > 0.0) return u * reconstruct(l, rho_Km, rho_K, rho_L);
  if (u < 0.0) return u * reconstruct(l, rho_Lp, rho_L, rho_K);
  return 0.0;
}

// Probability-flow face velocity v = u - D d log(rho)/dn (MATH.md: v = b - 1/2 div a - 1/2 a grad
// log rho, the normal component at a face with diagonal a). Densities are floored at `floor` > 0
// before the log, so an empty cell gives a large but finite velocity out of its full neighbour.
inline double probability_flow_velocity(FaceCoef c, double h, double rho_K, double rho_L,
                                        double floor) {
  return c.u - c.D * (std::log(std::max(rho_L, floor)) - std::log(std::max(rho_K, floor))) / h;
}

// Logarithmic mean (L - K)/(log L - log K) (= K when L = K): the face density for which the
// Scharfetter-Gummel flux equals v * density with v the face probability-flow velocity when
// u = 0. Zero when either side is zero.
inline double log_mean(double K, double L) {
  if (!(K > 0) || !(L > 0)) return 0.0;
  const double r = L / K;
  if (std::fabs(r - 1) < 1e-4) {  // series: K (1 + e/2 - e^2/12 + e^3/24), e = r - 1
    const double e = r - 1;
    return K * (1 + e * (0.5 + e * (-1.0 / 12 + e / 24)));
  }
  return (L - K) / std::log(r);
}

}  // namespace fpflow::kernels

namespace fpflow::kernels {

// Cross-diffusion flux -C d_j rho at a face normal to axis i, C = a_ij / 2 (j != i), written as
// weights on the six cells around the face: K | L across it and their neighbours along j.
//   F = wK rho_K + wL rho_L + wKp rho_{K,+j} + wKm rho_{K,-j} + wLp rho_{L,+j} + wLm rho_{L,-j}
struct CrossWeights {
  double K = 0, L = 0, Kp = 0, Km = 0, Lp = 0, Lm = 0;
};

enum class CrossStencil { monotone, average };

// monotone: the transverse gradient from the two one-sided differences that lie along the
// diagonal matching sign(a_ij); summed over the faces of a cell this is the classic 7-point
// cross stencil, an M-matrix exactly when |a_ij| <= min(a_ii h_j/h_i, a_jj h_i/h_j).
// average: the symmetric 4-cell average (9-point stencil); never an M-matrix if a_ij != 0.
// Both are second order at the face.
// Where the face's line sits across the transverse axis j: next to a non-periodic wall the
// ghost beyond it is not data (a mirror would force d_j rho = 0 there, which zero normal flux
// does not imply once a_ij != 0), so the gradient uses the two one-sided interior differences.
enum class TransverseSide { interior, low_wall, high_wall, single_cell };

inline CrossWeights cross_weights(CrossStencil s, double C, double hj,
                                  TransverseSide side = TransverseSide::interior) {
  CrossWeights w;
  if (C == 0.0 || side == TransverseSide::single_cell) return w;
  if (side != TransverseSide::interior) {
    const double c = -C / (2 * hj);
    if (side == TransverseSide::low_wall) {  // G = [(L+ - L) + (K+ - K)] / 2h
      w.Lp = c, w.L = -c, w.Kp = c, w.K = -c;
    } else {                                 // G = [(L - L-) + (K - K-)] / 2h
      w.L = c, w.Lm = -c, w.K = c, w.Km = -c;
    }
    return w;
  }
  if (s == CrossStencil::average) {
    const double c = -C / (4 * hj);
    w.Kp = w.Lp = c;
    w.Km = w.Lm = -c;
    return w;
  }
  const double c = -C / (2 * hj);
  if (C > 0) {  // G = [(L+ - L) + (K - K-)] / 2h
    w.Lp = c, w.L = -c, w.K = c, w.Km = -c;
  } else {      // G = [(L - L-) + (K+ - K)] / 2h
    w.L = c, w.Lm = -c, w.Kp = c, w.K = -c;
  }
  return w;
}

}  // namespace fpflow::kernels
