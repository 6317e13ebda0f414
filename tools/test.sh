#!/usr/bin/env bash
# tools/test.sh — second command of the README (and what CI runs): install what is missing,
# build, and run the whole test suite with CTest (MPI cases at 1 and 2 ranks).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/deps.sh"
cd "$ROOT/build"
ctest --output-on-failure -j "$(nproc)" --timeout 1200
