#!/usr/bin/env bash
# tests/log_view_check.sh — -log_view tells a user where time goes: fpflow's stages and events are
# listed with their work, and no registered-but-unused stage shows up as "Unknown".
# Usage: log_view_check.sh FPFLOW [MPIEXEC]   (runs at 2 ranks; MPIEXEC defaults to mpiexec)
set -euo pipefail
fpflow=$1
mpiexec=${2:-mpiexec}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
fail() { echo "log_view_check: $*" >&2; exit 1; }

# Stage: "<n>: <name>: <time> ..." in the summary; event: "<name> <count> ..." rows.
has_stage() { grep -Eq "^ *[0-9]+: +$1: " "$2" || fail "stage '$1' missing in $2"; }
has_event() { grep -Eq "^$1 +[1-9][0-9]* " "$2" || fail "event '$1' missing or never logged in $2"; }
no_unknown() { ! grep -q "Unknown$" "$1" || fail "an unused stage is listed as Unknown in $1"; }

# Implicit with multigrid and VTK frames: set-up, stepping (with output inside), diagnostics.
"$mpiexec" -n 2 "$fpflow" -problem ou -da_grid_x 64 -da_grid_y 64 -ts_type beuler -pc_type mg \
  -ts_dt 0.05 -ts_max_time 0.2 -progress_seconds -1 -output "$out/implicit" -log_view \
  > "$out/implicit.log"
for s in "fpflow: set-up" "fpflow: stepping" "fpflow: output" "fpflow: diagnostics"; do
  has_stage "$s" "$out/implicit.log"
done
for e in FPCoefficients FPInitialData FPJacobian FPApply FPFlowFields FPVTKWrite FPErrorNorms \
         FPSummaryWrite; do
  has_event "$e" "$out/implicit.log"
done
no_unknown "$out/implicit.log"
grep -q "steady solve" "$out/implicit.log" && fail "a time run lists the steady-solve stage"

# The fused explicit step with its ghost exchange, no output stage.
"$mpiexec" -n 2 "$fpflow" -problem ou -da_grid_x 64 -da_grid_y 64 -ts_type euler -fp_scheme sg -ts_max_steps 20 \
  -vtk 0 -progress_seconds -1 -output "$out/explicit" -log_view > "$out/explicit.log"
has_event FPFusedStep "$out/explicit.log"
has_event FPGhosts "$out/explicit.log"
grep -q "fpflow: output" "$out/explicit.log" && fail "-vtk 0 run lists the output stage"
no_unknown "$out/explicit.log"

# -steady: its own stage.
"$fpflow" -problem ou -da_grid_x 32 -da_grid_y 32 -steady -vtk 0 -progress_seconds -1 \
  -output "$out/steady" -log_view > "$out/steady.log"
has_stage "fpflow: steady solve" "$out/steady.log"
no_unknown "$out/steady.log"
echo "log_view_check: stages and events as documented"
