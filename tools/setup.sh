#!/usr/bin/env bash
# tools/setup.sh — first command of the README: install what is missing, build, and run the
# default problem (2-D Ornstein-Uhlenbeck with its exact solution) into fpflow-out/.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/deps.sh"
cd "$ROOT"
mpiexec -n 2 build/fpflow -output fpflow-out
echo
echo "fpflow: built build/fpflow; default run written to fpflow-out/"
echo "        open fpflow-out/fpflow.pvd in ParaView; read fpflow-out/summary.json"
