#!/usr/bin/env bash
# tools/deps.sh — installs fpflow's Debian build/run dependencies that are missing, then
# configures and builds into build/ (Release). Sourced by tools/setup.sh and tools/test.sh.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PACKAGES=(build-essential cmake pkg-config petsc-dev libopenmpi-dev openmpi-bin libvtk9-dev
          libboost-test-dev librandom123-dev libmuparser-dev nlohmann-json3-dev
          python3-numpy python3-matplotlib)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ] && dpkg-query -W -f='${Status}' python3-paraview 2>/dev/null | grep -q "install ok installed" \
   && [[ " ${missing[*]} " == *" libvtk9-dev "* ]]; then
  echo "fpflow: Debian's python3-paraview conflicts with libvtk9-dev (via python3-vtk9)." >&2
  echo "        Remove it first: apt-get remove paraview python3-paraview" >&2
  exit 1
fi
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO=sudo
  echo "fpflow: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# mpirun refuses to run as root unless told; harmless for other users.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

cmake -S "$ROOT" -B "$ROOT/build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$ROOT/build" -j "$(nproc)"
