#!/usr/bin/env bash
# tests/cli_errors.sh — bad input and faults through the real executable. Each bad-input case
# must exit non-zero with exactly one line on stderr, "fpflow: error: ...", leave no
# summary.json / verify.json / bench.json claiming success and no *.tmp file behind.
# Then the output-directory rules and faults: a second run into a directory in use is refused
# while the first completes; a rerun leaves no orphan frames; a full disk (tmpfs, when it can be
# mounted) and a file-size limit leave no truncated file under a real name; SIGTERM/SIGINT stop
# a run (1 and 2 ranks) and verify with status "interrupted" and exit 143/130.
# Also: -help lists every option family and exits 0.
# Usage: cli_errors.sh path/to/fpflow
set -u
FP=$(realpath "${1:?usage: cli_errors.sh path/to/fpflow}")
work=$(mktemp -d)
mounted=""
cleanup() {
  [ -n "$mounted" ] && umount "$mounted" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
cd "$work"
touch not-a-dir
mkdir -p a-dir
printf -- '-dim 1\n-da_grid_x\0 16\n' > binary.opts
printf -- '-options_file missing-inner.opts\n' > nested.opts
printf -- '-options_file self.opts\n' > self.opts
printf -- '-dim 2\n-box_lo -1, -2\n' > extra-token.opts
printf -- '-output out\n-problem nope\n' > sets-output.opts
pass=0
fail=0
MPI="mpiexec --quiet -n 2"

ok() { pass=$((pass + 1)); echo "ok   $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1"; }

# A stale success of an earlier invocation of the same kind in out/ (summary.json of a run,
# verify.json, bench.json): no failing case may leave it standing.
seed_out() {  # record
  rm -rf out
  mkdir -p out
  echo '{"status": "ok", "all_pass": true}' > "out/$1"
}

expect_error() {  # name, expected stderr pattern (grep -E), command...
  local name=$1 pattern=$2
  shift 2
  local record=summary.json
  case " $* " in
    *" verify "*) record=verify.json ;;
    *" bench "*) record=bench.json ;;
  esac
  seed_out $record
  timeout 120 "$@" > stdout.txt 2> stderr.txt
  local code=$?
  local lines problems=""
  lines=$(grep -c . stderr.txt)
  [ "$code" -ne 0 ] || problems+=" exit-code-0"
  [ "$code" -ne 124 ] || problems+=" timed-out"
  [ "$lines" -eq 1 ] || problems+=" stderr-has-$lines-lines"
  grep -qE "^fpflow: error: .*$pattern" stderr.txt || problems+=" message-mismatch"
  # Only meaningful when the invocation was pointed at out/ (the output-path cases point
  # elsewhere; sets-output.opts names out/ itself).
  if [[ " $* " == *" -output out "* || " $* " == *" sets-output.opts "* ]] &&
     grep -q '"status": "ok"' "out/$record" 2>/dev/null; then
    problems+=" stale-success-$record"
  fi
  [ -z "$(find out -name '*.tmp' 2>/dev/null)" ] || problems+=" tmp-file-left"
  if [ -z "$problems" ]; then
    ok "$name: $(cat stderr.txt)"
  else
    bad "$name:$problems"
    sed 's/^/     | /' stderr.txt | head -20
  fi
}

Q="-progress_seconds -1 -vtk 0 -output out"
T="$Q -ts_max_steps 5"

# --- problems, expressions, schemes -------------------------------------------------------
expect_error unknown-problem "unknown value 'nope' for -problem" $FP -problem nope $Q
expect_error malformed-expression "custom_drift_x 'x\+\*2'" $FP -problem custom -custom_drift_x 'x+*2' $Q
expect_error undefined-variable "custom_drift_y 'q\*y'" $FP -problem custom -custom_drift_y 'q*y' $Q
expect_error negative-diffusion "diffusion a_xx = .* is negative at x = " $FP -problem custom -custom_diffusion_x 'x' $Q
expect_error negative-beta "heat_beta must be >= 0" $FP -problem heat -heat_beta -1 $Q
expect_error nan-drift "drift component x is not finite" $FP -problem custom -custom_drift_x 'sqrt(x-10)' $Q
expect_error nan-drift-mid-run "drift component x is not finite .* t = 0.5" \
  $FP -problem custom -dim 1 -custom_drift_x 'sqrt(0.5-t)' -custom_t_final 1 $Q
expect_error nan-drift-2-ranks "drift component y is not finite" \
  $MPI $FP -problem custom -custom_drift_y '1/(y>1)*0+sqrt(y-1)' $Q
expect_error not-psd "diffusion matrix is not positive semi-definite at x = " \
  $FP -problem custom -custom_diffusion_xy 2 $Q
# (SSP steps cannot be retried smaller in PETSc: a step that breaks positivity ends the run.)
expect_error explicit-step-too-large "explicit steps kept being rejected at t = .* positivity bound" \
  $FP -dim 1 -ts_type ssp -ts_dt 0.01 $Q
expect_error unknown-scheme "unknown value 'weno' for -fp_scheme" $FP -fp_scheme weno $Q
expect_error unknown-limiter "unknown value 'superbee' for -fp_limiter" $FP -fp_limiter superbee $Q
expect_error unknown-compressor "unknown value 'gzip' for -vtk_compressor" $FP -vtk_compressor gzip $Q
expect_error unknown-boundary "unknown boundary kind 'sticky'" $FP -bc sticky $Q
expect_error unknown-ts-type "Unknown TS type: bogus" $FP -ts_type bogus $Q
expect_error unknown-pc-type "PC type bogus" $FP -ts_type beuler -pc_type bogus $T
# Walls per side (issue 13, defect 6): -bc takes KIND or LO:HI per axis; periodic pairs both sides.
expect_error bc-fourth-value-3d "bc takes at most 3 comma-separated values" \
  $FP -dim 3 -bc reflecting,reflecting,reflecting,absorbing $Q
expect_error bc-two-values-3d "bc takes one value for every axis or one per axis \(3 in 3-D\), got 2" \
  $FP -dim 3 -bc absorbing,reflecting $Q
expect_error bc-periodic-one-side "'periodic:reflecting': periodic joins the two sides of an axis" \
  $FP -dim 1 -bc periodic:reflecting $Q
expect_error bc-periodic-high-side "'absorbing:periodic': periodic joins the two sides of an axis" \
  $FP -dim 2 -bc reflecting,absorbing:periodic $Q
expect_error bc-empty-high-side "'absorbing:' leaves the high side empty" $FP -dim 1 -bc absorbing: $Q
expect_error bc-empty-low-side "':reflecting' leaves the low side empty" $FP -dim 1 -bc :reflecting $Q
expect_error bc-unknown-kinds "unknown boundary kind 'foo'.*'foo:bar'" $FP -bc foo:bar $Q
expect_error bc-unknown-high-kind "unknown boundary kind 'sticky'.*'absorbing:sticky'" \
  $FP -dim 1 -bc absorbing:sticky $Q
expect_error bc-three-sides "'absorbing:reflecting:absorbing' has more than two sides" \
  $FP -dim 1 -bc absorbing:reflecting:absorbing $Q
expect_error bc-2-ranks "'periodic:absorbing': periodic joins" \
  $MPI $FP -dim 2 -bc periodic:absorbing $Q
expect_error heat-mean-on-absorbing-side "initial mean must lie inside the box" \
  $FP -problem heat -dim 1 -bc absorbing:reflecting -box_lo 0 -box_hi 1 -heat_mean 0 $Q
expect_error dash-expression "starting with '-'" $FP -problem custom -custom_drift_x -x $Q
expect_error empty-problem "-problem has an empty value" $FP -problem "" $Q
# -steady refuses what has no unique stationary law, and bad solver settings.
expect_error steady-absorbing "with absorbing walls all mass leaves" $FP -steady -bc absorbing $Q
expect_error steady-zero-operator "the operator is zero" \
  $FP -problem custom -custom_diffusion_x 0 -custom_diffusion_y 0 -steady $Q
expect_error steady-decoupled-axis "nothing moves mass along y" \
  $FP -problem custom -custom_diffusion_y 0 -steady $Q
expect_error steady-decoupled-axis-2-ranks "nothing moves mass along x" \
  $MPI $FP -problem custom -custom_diffusion_x 0 -custom_drift_y 1 -steady $Q
expect_error steady-bad-shift "steady_shift and -steady_max_it must be positive" $FP -steady -steady_shift 0 $Q
expect_error steady-muscl "steady needs a linear flux scheme or sghr" $FP -steady -fp_scheme muscl $Q

# --- integers: overflow, fractions, garbage, range (fpflow's and PETSc's own options) -------
expect_error grid-wraps-to-64 "-da_grid_x 4294967360 is too large" $FP -dim 1 -da_grid_x 4294967360 $Q
expect_error grid-wraps-to-1e9 "-da_grid_x 99999999999 is too large" $FP -da_grid_x 99999999999 $Q
expect_error grid-fraction "-da_grid_y takes a whole number .* 1.5" $FP -da_grid_y 1.5 $Q
expect_error grid-exponent "-da_grid_x takes a whole number written as digits" $FP -da_grid_x 1e3 $Q
expect_error grid-garbage "-da_grid_x takes a whole number, got 'many'" $FP -da_grid_x many $Q
expect_error zero-cells "da_grid_x must be at least 1" $FP -da_grid_x 0 $Q
expect_error dim-4 "-dim must be 1, 2 or 3" $FP -dim 4 $Q
expect_error dim-garbage "-dim takes a whole number" $FP -dim two $Q
expect_error dim-inf "-dim inf is not a finite number" $FP -dim inf $Q
expect_error output-every-negative "-output_every must be at least 0, got -3" $FP -output_every -3 $Q
expect_error output-every-overflow "-output_every 99999999999 is too large" $FP -output_every 99999999999 $Q
expect_error max-steps-negative "-ts_max_steps must be at least 1, got -1" $FP -ts_max_steps -1 $Q
expect_error max-steps-zero "-ts_max_steps must be at least 1, got 0" $FP -ts_max_steps 0 $Q
expect_error max-steps-fraction "-ts_max_steps takes a whole number" $FP -ts_max_steps 2.5 $Q
expect_error max-steps-overflow "-ts_max_steps 4294967297 is too large" $FP -ts_max_steps 4294967297 $Q
expect_error refine-negative "-da_refine must be at least 0" $FP -da_refine -1 $Q
expect_error refine-overflow "-da_refine 40 makes x more than the 2147483647 cells" $FP -da_refine 40 $Q
expect_error processors-too-many "-da_processors_x 3 must be between 1 and the number of ranks" \
  $FP -da_processors_x 3 $Q
expect_error mg-levels-zero "-pc_mg_levels must be at least 1" $FP -ts_type beuler -pc_type mg -pc_mg_levels 0 $T
expect_error prefixed-ksp-max-it "-mg_levels_ksp_max_it takes a whole number" \
  $FP -ts_type beuler -pc_type mg -mg_levels_ksp_max_it 1.5 $T

# --- reals: non-finite, overflow, sign, garbage, lists --------------------------------------
expect_error dt-tiny-runs-forever "time step 1e-300 .* would take 1e\+300 steps" $FP -ts_dt 1e-300 $Q
expect_error dt-zero "-ts_dt must be positive, got 0" $FP -ts_dt 0 $Q
expect_error dt-negative "-ts_dt must be positive, got -0.1" $FP -ts_dt -0.1 $Q
expect_error dt-nan "-ts_dt nan is not a finite number" $FP -ts_dt nan $Q
expect_error dt-garbage "-ts_dt takes a number, got 'fast'" $FP -ts_dt fast $Q
expect_error final-time-negative "-ts_max_time must be positive, got -1" $FP -ts_max_time -1 $Q
expect_error final-time-overflow "-ts_max_time 1e400 is out of range" $FP -ts_max_time 1e400 $Q
expect_error final-time-inf "-ts_max_time inf is not a finite number" $FP -ts_max_time inf $Q
expect_error final-time-minus-inf "-ts_max_time -inf is not a finite number" $FP -ts_max_time -inf $Q
expect_error final-time-nan "-ts_max_time nan is not a finite number" $FP -ts_max_time nan $Q
expect_error custom-final-time-negative "final time must be positive and finite" \
  $FP -problem custom -custom_t_final -1 $Q
expect_error cfl-nan "-fp_cfl nan is not a finite number" $FP -fp_cfl nan $Q
expect_error cfl-negative "-fp_cfl must be positive" $FP -fp_cfl -0.5 $Q
expect_error pf-floor-inf "-pf_floor inf is not a finite number" $FP -pf_floor inf $Q
expect_error pf-floor-zero "-pf_floor must be positive" $FP -pf_floor 0 $Q
expect_error until-stationary-negative "-until_stationary must be >= 0" $FP -until_stationary -1 $Q
expect_error progress-nan "-progress_seconds nan is not a finite number" $FP -vtk 0 -output out -progress_seconds nan
expect_error box-inf "-box_lo 1,inf: inf is not a finite number" $FP -box_lo 1,inf $Q
expect_error box-nan "-box_hi nan is not a finite number" $FP -dim 1 -box_hi nan $Q
expect_error box-too-many "-box_lo takes at most 3 values, got 4" $FP -box_lo 1,2,3,4 $Q
expect_error box-empty-item "-box_lo needs a number" $FP -box_lo 1,,2 $Q
expect_error empty-box "empty box along y" $FP -box_lo -1,2 -box_hi 1,2 $Q
expect_error inverted-box "empty box along x" $FP -dim 1 -box_lo 3 -box_hi 1 $Q
expect_error problem-parameter-inf "-ou_theta inf is not a finite number" $FP -ou_theta inf $Q
expect_error problem-parameter-overflow "-heat_beta 1e999 is out of range" $FP -problem heat -heat_beta 1e999 $Q
expect_error ksp-rtol-negative "-ksp_rtol must not be negative" $FP -ts_type beuler -ksp_rtol -1 $T
expect_error prefixed-rtol-nan "-steady_ksp_rtol nan is not a finite number" $FP -steady -steady_ksp_rtol nan $Q
expect_error flag-garbage "-vtk takes true or false .* got 'maybe'" $FP -vtk maybe -progress_seconds -1 -output out
expect_error flag-garbage-steady "-steady takes true or false" $FP -steady 2 $Q

# --- the command line and options files (before PETSc) --------------------------------------
expect_error unknown-subcommand "unknown subcommand 'verfy'" $FP verfy -output out
expect_error stray-word "unexpected argument 'foo'" $FP -dim 2 foo $Q
expect_error list-with-spaces "unexpected argument '-2' after -box_lo -1" $FP -box_lo -1 -2 $Q
expect_error two-values "unexpected argument '3' after -dim 2" $FP -dim 2 3 $Q
expect_error empty-argument "-output has an empty value" $FP -dim 2 -output ""
expect_error options-file-missing "options file nope.opts does not exist" $FP -options_file nope.opts $Q
expect_error options-file-missing-after-output "options file nope.opts does not exist" \
  $FP -output out -options_file nope.opts
expect_error options-file-directory "options file a-dir is a directory" $FP -options_file a-dir $Q
expect_error options-file-binary "options file binary.opts is not a text file" $FP -options_file binary.opts $Q
expect_error options-file-no-name "-options_file needs a file name" $FP $Q -options_file
expect_error options-file-nested-missing "missing-inner.opts does not exist" $FP -options_file nested.opts $Q
expect_error options-file-includes-itself "self.opts includes itself" $FP -options_file self.opts $Q
expect_error options-file-extra-token "options file extra-token.opts line 2: extra token" \
  $FP -options_file extra-token.opts $Q
# -output given in the file: the stale success there is still replaced.
expect_error options-file-sets-output "unknown value 'nope' for -problem" \
  $FP -options_file sets-output.opts -progress_seconds -1 -vtk 0
expect_error misspelt-option "unused option.*-ts_tpye" $FP -ts_tpye beuler -options_left $Q
expect_error misspelt-problem-option "unused option.*-ou_thta" $FP -ou_thta 2 -options_left $Q
expect_error misspelt-solver-option "unused option.*-ksp_rtl" $FP -ts_type beuler -ksp_rtl 1e-6 -options_left $T

# --- output paths ---------------------------------------------------------------------------
expect_error unwritable-output "[Nn]ot a directory" $FP -output not-a-dir/sub -progress_seconds -1
expect_error output-is-file "is not a directory" $FP -output not-a-dir -progress_seconds -1
expect_error output-is-device "output path /dev/null exists and is not a directory" $FP -output /dev/null -vtk 0
expect_error output-read-only "output directory /sys is not writable" $FP -output /sys -vtk 0
expect_error output-cannot-create "cannot create output directory /proc/fpflow-x" $FP -output /proc/fpflow-x -vtk 0

# --- grid size and partition ----------------------------------------------------------------
expect_error too-few-cells-per-rank "cannot partition the grid over 3 ranks: 5 cells along x over 3 ranks" \
  mpiexec --quiet --oversubscribe -n 3 $FP -dim 1 -da_grid_x 5 -fp_scheme muscl $Q
expect_error fewer-cells-than-ranks "cannot partition the grid over 3 ranks: 2 cells along y" \
  mpiexec --quiet --oversubscribe -n 3 $FP -da_grid_x 2 -da_grid_y 2 $Q
expect_error processors-product "cannot partition the grid over 2 ranks" $MPI $FP -da_processors_x 3 $Q
expect_error periodic-too-short "periodic axis x needs at least 2 cells" \
  $FP -dim 1 -da_grid_x 1 -bc periodic -fp_scheme muscl $Q
expect_error grid-beyond-32-bit "more cells than PETSc's 32-bit indices" $FP -da_grid_x 50000 -da_grid_y 50000 $Q
expect_error grid-beyond-memory "needs ~[0-9.]+ GB of memory .* this machine has [0-9.]+ GB available" \
  $FP -dim 3 -da_grid_x 1200 -da_grid_y 1200 -da_grid_z 1200 $Q
expect_error grid-beyond-memory-2-ranks "needs ~[0-9.]+ GB of memory" \
  $MPI $FP -dim 3 -da_grid_x 1200 -da_grid_y 1200 -da_grid_z 1200 $Q

# --- verify and bench -----------------------------------------------------------------------
expect_error verify-unknown-case "unknown verification case 'nope'" $FP verify -case nope -output out
expect_error verify-unwritable-output "[Nn]ot a directory" $FP verify -case heat-1d -output not-a-dir/sub
expect_error verify-misspelt-option "unused option.*-particels" $FP verify -list -particels 10 -options_left
expect_error verify-misspelt-before-work "unused option.*-particels" \
  $FP verify -case heat-1d -particels 10 -options_left -output out
expect_error verify-particles "-particles must be at least 10000" $FP verify -particles 5 -output out
expect_error verify-seed "-seed must be at least 0, got -1" $FP verify -seed -1 -output out
expect_error verify-delta "-delta must be in" $FP verify -delta 2 -output out
expect_error verify-fault-nan "-fault_scale nan is not a finite number" $FP verify -fault_scale nan -output out
expect_error verify-list-garbage "-list takes true or false" $FP verify -list extra -output out
expect_error bench-fractional-size "whole cell counts" $FP bench -implicit_sizes 64,100.5 -output out
expect_error bench-size-inf "-implicit_sizes inf is not a finite number" $FP bench -implicit_sizes inf -output out
expect_error bench-steps "-steps must be at least 3, got 1" $FP bench -steps 1 -output out
expect_error bench-unwritable-output "[Nn]ot a directory" $FP bench -quick -output not-a-dir/sub
expect_error bench-misspelt-before-work "unused option.*-stepz" $FP bench -quick -stepz 5 -options_left -output out

# The misspelt-option runs above failed before any work: no frame was written.
seed_out summary.json
$FP -dim 2 -da_grid_x 64 -da_grid_y 64 -ts_tpye beuler -options_left -progress_seconds -1 -output out \
  > /dev/null 2>&1
if [ -z "$(find out -name 'fpflow_*' 2>/dev/null)" ]; then ok "misspelt option: no frame written"
else bad "misspelt option: frames were written before the error"; fi

# --- one run per output directory ------------------------------------------------------------
# Waits (at most 60 s) until a run has written its first frame: it holds its directory then.
wait_for_frame() { for _ in $(seq 600); do [ -e "$1/fpflow.pvd" ] && return; sleep 0.1; done; }
rm -rf busy
$FP -dim 2 -da_grid_x 128 -da_grid_y 128 -ts_max_time 1000 -progress_seconds -1 -output busy \
  > first.txt 2>&1 &
first=$!
wait_for_frame busy
$FP -dim 1 -progress_seconds -1 -output busy > second.txt 2> second-err.txt
second=$?
$MPI $FP verify -case heat-1d -output busy > third.txt 2> third-err.txt
third=$?
kill -TERM $first 2>/dev/null
wait $first
if [ "$second" -ne 0 ] && grep -q "^fpflow: error: output directory busy is in use by another fpflow run (pid [0-9]*)" second-err.txt &&
   [ "$(grep -c . second-err.txt)" -eq 1 ] && [ "$third" -ne 0 ] && grep -q "in use by another fpflow run" third-err.txt &&
   [ ! -e busy/verify.json ] && grep -q '"status": "interrupted"' busy/summary.json &&
   grep -q '"problem": "ou"' busy/summary.json && [ ! -e busy/.fpflow.lock ]; then
  ok "lock: a second run and a verify into a directory in use fail; the first run's files are its own"
else
  bad "lock: second=$second third=$third"; cat second-err.txt third-err.txt; cat busy/summary.json 2>/dev/null | head -5
fi

# --- a rerun leaves no orphan frames ---------------------------------------------------------
rm -rf rerun
$FP -dim 1 -ts_max_time 0.2 -output_every 1 -progress_seconds -1 -output rerun > /dev/null 2>&1
long=$(ls rerun/frames | wc -l)
touch rerun/frames/my-notes.txt rerun/mine.txt
$FP -dim 1 -ts_max_time 0.2 -progress_seconds -1 -output rerun > /dev/null 2>&1
/usr/bin/python3 - rerun "$long" <<'PY' && ok "rerun: only the new run's frames ($long before), user files kept" || bad "rerun: orphan frames"
import os, re, sys
out, before = sys.argv[1], int(sys.argv[2])
frames = sorted(f for f in os.listdir(os.path.join(out, "frames")) if f.startswith("fpflow_"))
pvd = open(os.path.join(out, "fpflow.pvd")).read()
listed = re.findall(r'file="frames/(fpflow_\d+)\.pvti"', pvd)
# Every frame file belongs to a listed frame, every listed frame exists, and the first run had more.
stems = {f[:len("fpflow_00000")] for f in frames}
ok = stems == set(listed) and all(os.path.exists(os.path.join(out, "frames", s + ".pvti")) for s in listed)
ok = ok and len(frames) < before and os.path.exists(os.path.join(out, "frames", "my-notes.txt"))
ok = ok and os.path.exists(os.path.join(out, "mine.txt"))
sys.exit(0 if ok else 1)
PY

# --- a full disk and a file-size limit: one line, no truncated file under a real name --------
check_no_truncation() {  # dir: every .vti ends with the closing tag, xml/json files parse, no .tmp
  /usr/bin/python3 - "$1" <<'PY'
import glob, json, os, sys, xml.dom.minidom as m
d = sys.argv[1]
bad = [f for f in glob.glob(d + "/**/*.tmp", recursive=True)]
for f in glob.glob(d + "/frames/*.vti"):
    with open(f, "rb") as fh:
        fh.seek(max(0, os.path.getsize(f) - 32))
        if b"</VTKFile>" not in fh.read():
            bad.append(f)
for f in glob.glob(d + "/*.pvd") + glob.glob(d + "/frames/*.pvti"):
    try: m.parse(f)
    except Exception: bad.append(f)
s = json.load(open(d + "/summary.json")) if os.path.exists(d + "/summary.json") else {"status": "failed"}
if s.get("status") == "ok": bad.append("summary.json says ok")
if bad: print(" ".join(bad))
sys.exit(1 if bad else 0)
PY
}
mkdir -p small
if mount -t tmpfs -o size=2600k tmpfs small 2>/dev/null; then
  mounted="$work/small"
  $FP -dim 2 -da_grid_x 128 -da_grid_y 128 -ts_max_time 1 -vtk_flow 0 -vtk_compressor none \
    -progress_seconds -1 -output small/out > /dev/null 2> full-err.txt
  code=$?
  if [ "$code" -ne 0 ] && [ "$(grep -c . full-err.txt)" -eq 1 ] &&
     grep -q "^fpflow: error: cannot write small/out/.*No space left on device" full-err.txt &&
     check_no_truncation small/out; then
    ok "full disk (tmpfs): $(cat full-err.txt)"
  else
    bad "full disk (tmpfs): exit $code"; cat full-err.txt
  fi
  umount small && mounted=""
else
  echo "skip full disk (tmpfs): cannot mount a tmpfs here (needs root and CAP_SYS_ADMIN)"
fi
# RLIMIT_FSIZE inside mpiexec (a singleton's MPI start-up writes files larger than the limit).
rm -rf limited
mpiexec --quiet -n 1 bash -c "ulimit -f 200; exec $FP -dim 2 -da_grid_x 128 -da_grid_y 128 -ts_max_time 1 \
  -vtk_compressor none -progress_seconds -1 -output limited" > /dev/null 2> limit-err.txt
code=$?
if [ "$code" -ne 0 ] && [ "$(grep -c . limit-err.txt)" -eq 1 ] &&
   grep -q "^fpflow: error: cannot write limited/frames/.*File too large" limit-err.txt &&
   check_no_truncation limited && grep -q '"status": "failed"' limited/summary.json; then
  ok "file-size limit: $(cat limit-err.txt)"
else
  bad "file-size limit: exit $code"; cat limit-err.txt
fi

# --- SIGTERM / SIGINT: stop at a step boundary, save, report "interrupted" -------------------
interrupt() {  # name, signal, expected exit code, launcher...
  local name=$1 sig=$2 want=$3
  shift 3
  rm -rf sig
  # Long enough (t = 1000) that only the signal can end it in time.
  "$@" -dim 2 -da_grid_x 128 -da_grid_y 128 -ts_max_time 1000 -progress_seconds -1 -output sig \
    > sig-out.txt 2> sig-err.txt &
  local pid=$!
  wait_for_frame sig
  # Signal the fpflow processes themselves (mpiexec would follow up with SIGKILL after 1 s).
  local targets
  targets=$(pgrep -P "$pid" -f fpflow || true)
  kill -"$sig" ${targets:-$pid}
  # A missed signal must not hang the test: at most 60 s, then SIGKILL (and a failure).
  for _ in $(seq 600); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
  kill -KILL $pid ${targets:-} 2>/dev/null
  wait $pid
  local code=$?
  /usr/bin/python3 - sig "$code" "$want" <<'PY'
import glob, json, os, re, sys
d, code, want = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
s = json.load(open(os.path.join(d, "summary.json")))
pvd = open(os.path.join(d, "fpflow.pvd")).read()
times = [float(t) for t in re.findall(r'timestep="([^"]+)"', pvd)]
problems = []
if code != want: problems.append(f"exit {code}, expected {want}")
if s["status"] != "interrupted": problems.append("status %s (%s)" % (s["status"], s.get("error")))
elif not (s["t_final"] < s["t_requested"]): problems.append("t_final not below t_requested")
if not times or times[-1] != s["t_final"]: problems.append("the last frame is not the last state")
for f in re.findall(r'file="([^"]+)"', pvd):
    if not os.path.exists(os.path.join(d, f)): problems.append("missing " + f)
if glob.glob(d + "/**/*.tmp", recursive=True): problems.append(".tmp left")
if problems: print("; ".join(problems))
sys.exit(1 if problems else 0)
PY
  if [ $? -eq 0 ] && [ "$(grep -c . sig-err.txt)" -eq 1 ] && grep -q "^fpflow: interrupted by" sig-err.txt; then
    ok "$name: $(cat sig-err.txt)"
  else
    bad "$name"; cat sig-err.txt
  fi
}
interrupt sigterm TERM 143 $FP
interrupt sigint INT 130 $FP
interrupt sigterm-2-ranks TERM 143 $MPI $FP

# verify stops between cases: exit 143 and verify.json marked "interrupted".
rm -rf vsig
$FP verify -case heat-1d,ou-1d,ou-1d-em,ou-2d -particles 20000 -plot 0 -output vsig > vsig-out.txt 2> vsig-err.txt &
pid=$!
for _ in $(seq 200); do grep -q "^fpflow verify:" vsig-out.txt 2>/dev/null && break; sleep 0.1; done
kill -TERM $pid
wait $pid
code=$?
if [ "$code" -eq 143 ] && grep -q '"status": "interrupted"' vsig/verify.json &&
   [ "$(grep -c . vsig-err.txt)" -eq 1 ]; then
  ok "verify sigterm: $(cat vsig-err.txt)"
else
  bad "verify sigterm: exit $code"; cat vsig-err.txt; cat vsig/verify.json 2>/dev/null | head -3
fi

# --- run-time expressions, steady refusals, heat walls (expressions: problems/expression.hpp) ---
# Run-time expressions (issue 13, defect 7): named functions and names, shadowing parameters,
# derived parameters in order, over-long expressions refused (never cut), the Gaussian exact law
# only for linear coefficients, lists longer than an option takes.
expect_error unknown-function "custom_drift_x '2\*erff\(x\)': unknown function 'erff'" \
  $FP -problem custom -custom_drift_x '2*erff(x)' $Q
expect_error unknown-name "custom_drift_y 'foo\*y': unknown name 'foo'.*-custom_params foo=" \
  $FP -problem custom -custom_drift_y 'foo*y' $Q
expect_error param-shadows-coordinate "parameter 'x' would shadow the coordinate x" \
  $FP -problem custom -custom_params x=1 $Q
expect_error param-shadows-function "parameter 'erf' would shadow the function erf" \
  $FP -problem custom -custom_params a=1,erf=2 $Q
expect_error param-shadows-constant "parameter '_pi' would shadow" $FP -problem custom -custom_params _pi=3 $Q
expect_error param-malformed-name "'2a' is not a valid name" $FP -problem custom -custom_params 2a=1 $Q
expect_error param-duplicate "parameter 'a' is defined twice" $FP -problem custom -custom_params a=1,a=2 $Q
expect_error param-defined-later "'c' is defined after 'a'" $FP -problem custom -custom_params 'a=exp(-c),c=1' $Q
expect_error param-not-finite "custom_params: s = 'log\(a-1\)': evaluates to -inf" \
  $FP -problem custom -custom_params 'a=1,s=log(a-1)' $Q
expect_error expression-assigns "'=' assigns" $FP -problem custom -custom_drift_x 'x=3' $Q
expect_error expression-too-long "custom_drift_x .*\(22001 characters\): longer than muParser's limit of 20000" \
  $FP -problem custom -custom_drift_x "0$(printf '+1%.0s' $(seq 11000))" $Q
expect_error exact-law-not-affine "custom_exact_law gaussian needs an affine drift" \
  $FP -problem custom -custom_exact_law gaussian -custom_drift_x 'sin(x)' $Q
expect_error exact-law-with-initial "drop -custom_initial" \
  $FP -problem custom -custom_exact_law gaussian -custom_initial 'exp(-x^2)' $Q
expect_error too-many-values "box_lo takes at most 3" $FP -box_lo -1,-1,-1,-1 $Q
expect_error steady-nonlinear-scheme "not pflow" $FP -fp_scheme pflow -steady $Q
expect_error steady-muscl-named "not muscl" $FP -fp_scheme muscl -steady $Q
expect_error heat-absorbing-mean-outside "initial mean must lie inside the box" \
  $FP -problem heat -dim 1 -bc absorbing -box_lo -1 -box_hi 1 -heat_mean 1.5 $Q

# --- -help lists every option family (problems included) and exits 0 -------------------------
if timeout 60 $FP -help > help.txt 2>&1; then
  missing=""
  for o in -problem -dim -da_grid_x -box_lo -bc -fp_scheme -fp_limiter -output -output_every \
           -progress_seconds -heat_beta -ou_theta -ou_B -custom_drift_x -custom_params \
           -custom_diffusion_xy -custom_noise_xy -custom_potential -custom_exact_law -custom_mean0 \
           -custom_cov0 erfc -dw_eps -gmm_modes -fp_cross \
           -steady -steady_tol -until_stationary -ts_type; do
    grep -q -- "$o" help.txt || missing+=" $o"
  done
  if [ -z "$missing" ]; then ok "help lists all options"
  else bad "help: missing$missing"; fi
else
  bad "help: non-zero exit"
fi

# -help's intro names every registered problem (the list -problem offers) and both subcommands.
if timeout 60 $FP -help > help.txt 2>&1; then
  intro=$(sed '/^----/q' help.txt)
  registered=$(sed -n 's/^ *-problem <.*Problem to solve (\([^)]*\)).*/\1/p' help.txt | tr -d ',')
  missing=""
  [ -n "$registered" ] || missing+=" (no -problem choices found)"
  for p in $registered; do
    grep -q "^  $p " <<< "$intro" || missing+=" $p"
  done
  for sub in "fpflow verify" "fpflow bench"; do grep -q "$sub" <<< "$intro" || missing+=" '$sub'"; done
  if [ -z "$missing" ]; then ok "help intro names every problem: $registered"
  else bad "help intro: missing$missing"; fi
fi

# A free-space law truncated by the walls is not the solution: no "error", a labelled
# "reference_error" and one warning line; the run itself succeeds.
rm -rf out
if timeout 60 $FP -problem ou -dim 1 -box_lo -1 -box_hi 1 $Q > stdout.txt 2> stderr.txt &&
   grep -q '"reference_error"' out/summary.json && ! grep -q '"error"' out/summary.json &&
   [ "$(grep -c . stderr.txt)" -eq 1 ] &&
   grep -q "^fpflow: warning: the free-space law is not the solution on this box" stderr.txt; then
  ok "truncated free-space law: $(cat stderr.txt)"
else
  bad "truncated free-space law is not reported as reference_error"
  sed 's/^/     | /' stderr.txt | head -5
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
