#!/usr/bin/env bash
# tests/cli_errors.sh — bad input through the real executable: each case must exit non-zero with
# exactly one line on stderr, "fpflow: error: ...", and leave no summary.json claiming success.
# Also: -help lists every option family and exits 0; a misspelt option fails under -options_left.
# Usage: cli_errors.sh path/to/fpflow
set -u
FP=$(realpath "${1:?usage: cli_errors.sh path/to/fpflow}")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
touch not-a-dir
pass=0
fail=0

expect_error() {  # name, expected stderr substring, args...
  local name=$1 pattern=$2
  shift 2
  rm -rf out
  mkdir -p out
  echo '{"status": "ok"}' > out/summary.json   # a stale success from an earlier run
  timeout 120 "$@" > stdout.txt 2> stderr.txt
  local code=$?
  local lines
  lines=$(grep -c . stderr.txt)
  local problems=""
  [ "$code" -ne 0 ] || problems+=" exit-code-0"
  [ "$code" -ne 124 ] || problems+=" timed-out"
  # MPI_Abort (a failure seen by one rank only) adds mpiexec's own banner: allowed when asked.
  [ "$lines" -eq 1 ] || [ -n "${ALLOW_MPI_BANNER:-}" ] || problems+=" stderr-has-$lines-lines"
  grep -q "^fpflow: error: .*$pattern" stderr.txt || problems+=" message-mismatch"
  # Only meaningful when the run was pointed at out/ (the output-path cases point elsewhere).
  if [[ " $* " == *" -output out "* ]] && grep -q '"status": "ok"' out/summary.json 2>/dev/null; then
    problems+=" stale-success-summary"
  fi
  if [ -z "$problems" ]; then
    pass=$((pass + 1))
    echo "ok   $name: $(cat stderr.txt)"
  else
    fail=$((fail + 1))
    echo "FAIL $name:$problems"
    sed 's/^/     | /' stderr.txt | head -20
  fi
}

Q="-progress_seconds -1 -vtk 0 -output out"
MPI="mpiexec --quiet -n 2"

expect_error unknown-problem "unknown value 'nope' for -problem" $FP -problem nope $Q
expect_error malformed-expression "custom_drift_x 'x+\*2'" $FP -problem custom -custom_drift_x 'x+*2' $Q
expect_error undefined-variable "custom_drift_y 'q\*y'" $FP -problem custom -custom_drift_y 'q*y' $Q
expect_error negative-diffusion "diffusion a_xx = .* is negative at x = " $FP -problem custom -custom_diffusion_x 'x' $Q
expect_error negative-beta "heat_beta must be >= 0" $FP -problem heat -heat_beta -1 $Q
expect_error zero-cells "da_grid_x must be at least 1" $FP -da_grid_x 0 $Q
expect_error empty-box "empty box along y" $FP -box_lo -1,2 -box_hi 1,2 $Q
expect_error inverted-box "empty box along x" $FP -dim 1 -box_lo 3 -box_hi 1 $Q
expect_error unwritable-output "[Nn]ot a directory" $FP -output not-a-dir/sub -progress_seconds -1
expect_error output-is-file "is not a directory" $FP -output not-a-dir -progress_seconds -1
expect_error nan-drift "drift component x is not finite" $FP -problem custom -custom_drift_x 'sqrt(x-10)' $Q
expect_error nan-drift-mid-run "drift component x is not finite .* t = 0.5" \
  $FP -problem custom -dim 1 -custom_drift_x 'sqrt(0.5-t)' -custom_t_final 1 $Q
expect_error nan-drift-2-ranks "drift component y is not finite" \
  $MPI $FP -problem custom -custom_drift_y '1/(y>1)*0+sqrt(y-1)' $Q
expect_error not-psd "diffusion matrix is not positive semi-definite at x = " \
  $FP -problem custom -custom_diffusion_xy 2 $Q
expect_error explicit-step-too-large "explicit step rejected at t = .* positivity bound" \
  $FP -dim 1 -ts_type euler -ts_dt 0.01 $Q
ALLOW_MPI_BANNER=1 expect_error too-few-cells-per-rank "cannot partition the grid over 3 ranks" \
  mpiexec --quiet --oversubscribe -n 3 $FP -dim 1 -da_grid_x 5 -fp_scheme muscl $Q
expect_error unknown-scheme "unknown value 'weno' for -fp_scheme" $FP -fp_scheme weno $Q
expect_error unknown-boundary "unknown boundary kind 'sticky'" $FP -bc sticky $Q
expect_error misspelt-option "unused option.*-ts_tpye" $FP -ts_tpye beuler -options_left $Q
expect_error dash-expression "starting with '-'" $FP -problem custom -custom_drift_x -x $Q
# -steady refuses what has no unique stationary law, and bad solver settings.
expect_error steady-absorbing "with absorbing walls all mass leaves" $FP -steady -bc absorbing $Q
expect_error steady-zero-operator "the operator is zero" \
  $FP -problem custom -custom_diffusion_x 0 -custom_diffusion_y 0 -steady $Q
expect_error steady-decoupled-axis "nothing moves mass along y" \
  $FP -problem custom -custom_diffusion_y 0 -steady $Q
expect_error steady-decoupled-axis-2-ranks "nothing moves mass along x" \
  $MPI $FP -problem custom -custom_diffusion_x 0 -custom_drift_y 1 -steady $Q
expect_error steady-bad-shift "steady_shift and -steady_max_it must be positive" $FP -steady -steady_shift 0 $Q
expect_error steady-muscl "steady needs a linear flux scheme" $FP -steady -fp_scheme muscl $Q
expect_error verify-unknown-case "unknown verification case 'nope'" $FP verify -case nope -output vout
expect_error verify-unwritable-output "[Nn]ot a directory" $FP verify -case heat-1d -output not-a-dir/sub
expect_error bench-fractional-size "whole cell counts" $FP bench -implicit_sizes 64,100.5 -output bout
expect_error bench-unwritable-output "[Nn]ot a directory" $FP bench -quick -output not-a-dir/sub
expect_error verify-misspelt-option "unused option.*-particels" \
  $FP verify -list -particels 10 -options_left

# -help lists every option family (problems included) and exits 0.
if timeout 60 $FP -help > help.txt 2>&1; then
  missing=""
  for o in -problem -dim -da_grid_x -box_lo -bc -fp_scheme -fp_limiter -output -output_every \
           -progress_seconds -heat_beta -ou_theta -ou_B -custom_drift_x -custom_params \
           -custom_diffusion_xy -custom_noise_xy -custom_potential -dw_eps -gmm_modes -fp_cross \
           -steady -steady_tol -until_stationary -ts_type; do
    grep -q -- "$o" help.txt || missing+=" $o"
  done
  if [ -z "$missing" ]; then pass=$((pass + 1)); echo "ok   help lists all options"
  else fail=$((fail + 1)); echo "FAIL help: missing$missing"; fi
else
  fail=$((fail + 1)); echo "FAIL help: non-zero exit"
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
