#!/usr/bin/env bash
# tools/bench_particles.sh — particle-engine throughput (particle steps per second per core) at 1
# and 2 ranks, for 1-D/2-D OU (Euler-Maruyama and exact transitions) and the Gaussian-mixture
# Langevin drift. Prints the tables recorded in docs/BENCHMARKS.md.
#   bash tools/bench_particles.sh [N] [STEPS]
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN="$ROOT/build/fpflow-bench-particles"
[ -x "$BIN" ] || { echo "bench_particles: build first (bash tools/setup.sh)" >&2; exit 1; }
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
N=${1:-2000000}
STEPS=${2:-20}
echo "# $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; N = $N, $STEPS steps"
for np in 1 2; do
  echo "## $np rank(s)"
  mpiexec --quiet -n "$np" "$BIN" -n "$N" -steps "$STEPS"
done
