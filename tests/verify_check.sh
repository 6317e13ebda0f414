#!/usr/bin/env bash
# tests/verify_check.sh — `fpflow verify` end to end, both directions (issue 4's power check):
#  1. the suite passes at 2 ranks: exit 0, all_pass, the PNG plots exist, and every threshold is
#     recomputed by hand from its printed parts (statistical floors from N, K and delta);
#  2. with -inject_fault (particles see 5% more diffusion) it exits non-zero and every case
#     marked fault_sensitive fails;
#  3. with a drift fault (-fault_kind drift: b x 1.05) the mean gates fail too, so every kind of
#     gate is shown able to fail.
# Usage: verify_check.sh path/to/fpflow
set -u
FP=$(realpath "${1:?usage: verify_check.sh path/to/fpflow}")
PY=/usr/bin/python3
MPI="mpiexec --quiet -n 2"
status=0

$MPI $FP verify -output verify-out/pass > verify-pass.log 2>&1
code=$?
cat verify-pass.log
if [ "$code" -ne 0 ]; then echo "FAIL: fpflow verify exited $code"; status=1; fi
$PY - verify-out/pass <<'PY' || status=1
import json, math, os, sys
out = sys.argv[1]
v = json.load(open(os.path.join(out, "verify.json")))
bad = []
if not v["all_pass"]:
    bad.append("all_pass is false")
delta = v["delta"]
z = math.sqrt(2 * math.log(2 / delta))
for r in v["cases"]:
    q, tag = r["parts"], f'{r["name"]}/{r["metric"]}'
    if not r["pass"] or not r["value"] <= r["threshold"]:
        bad.append(f"{tag} fails")
    if not math.isclose(r["threshold"], q["statistical"] + q["grid"] + q["time_step"], rel_tol=1e-12):
        bad.append(f"{tag}: threshold is not the sum of its parts")
    metric = r["metric"].split(":")[-1]
    if r["metric"].startswith("ode-vs-sde:"):
        n, m = q["n"], q["m"]
        stat = math.sqrt(math.log(2 / delta) * (n + m) / (2 * n * m))
        if not math.isclose(stat, q["statistical"], rel_tol=1e-9):
            bad.append(f"{tag}: two-sample floor {q['statistical']} != {stat} recomputed")
        continue
    if "N" not in q:
        continue  # grid-against-grid gates (pflow-vs-sg, sg-vs-exact, log-density): no sampling
    N, n = q["N"], q.get("n", q["N"])
    # Every floor from first principles: N, K, delta and the grid's own moments.
    if metric == "L1":
        stat = math.sqrt((q["K"] - 1) / N) + math.sqrt(2 * math.log(1 / delta) / N)
    elif metric.startswith("KS"):
        stat = math.sqrt(math.log(2 / delta) / (2 * n))
    elif metric == "absorbed":
        stat = math.sqrt(math.log(2 / delta) / (2 * N))
    elif metric.startswith("mean"):
        stat = z * math.sqrt(q["grid_variance"] / n)
    elif metric.startswith("var"):
        stat = z * math.sqrt((q["grid_mu4"] - q["grid_variance"] ** 2) / n)
    elif metric.startswith("W1"):
        stat = q["spread_integral"] / math.sqrt(n) + q["sd"] * math.sqrt(2 * math.log(1 / delta) / n)
    else:
        bad.append(f"{tag}: unknown metric")
        continue
    if not math.isclose(stat, q["statistical"], rel_tol=1e-9):
        bad.append(f"{tag}: statistical floor {q['statistical']} != {stat} recomputed")
names = sorted({r["name"] for r in v["cases"]})
for n in ["heat-1d", "ou-1d", "ou-2d", "ou-stationary-2d", "absorbing-heat-1d",
          "first-passage-heat-1d", "pf-ou-1d",
          "pf-gmm-1d", "continuity-rotation-2d", "continuity-compressible-1d"]:
    if n not in names:
        bad.append(f"case {n} missing")
for n in names:
    if not os.path.getsize(os.path.join(out, n, "marginals.png")):
        bad.append(f"{n}: no marginals.png")
    if n.endswith("2d") and not os.path.exists(os.path.join(out, n, "map.png")):
        bad.append(f"{n}: no map.png")
print("\n".join(bad) if bad else f"ok: {len(v['cases'])} gates pass, thresholds recomputed")
sys.exit(1 if bad else 0)
PY

$MPI $FP verify -output verify-out/fault -inject_fault -plot 0 > verify-fault.log 2>&1
code=$?
if [ "$code" -eq 0 ]; then echo "FAIL: fpflow verify -inject_fault exited 0"; status=1; fi
$PY - verify-out/fault <<'PY' || status=1
import json, sys
v = json.load(open(sys.argv[1] + "/verify.json"))
info = v["case_info"]
missed = [n for n, i in info.items() if i["fault_sensitive"] and i["pass"]]
if v["all_pass"] or missed or not v["fault_injected"]:
    print("FAIL: with the fault these cases still pass:", missed)
    sys.exit(1)
print("ok: the fault fails", sorted(n for n, i in info.items() if not i["pass"]))
PY
$MPI $FP verify -output verify-out/drift -inject_fault -fault_kind drift -case ou-1d,ou-2d \
  -plot 0 > verify-drift.log 2>&1
code=$?
if [ "$code" -eq 0 ]; then echo "FAIL: fpflow verify -fault_kind drift exited 0"; status=1; fi
$PY - verify-out/drift <<'PY' || status=1
import json, sys
v = json.load(open(sys.argv[1] + "/verify.json"))
kinds = {r["metric"].split("_")[0] for r in v["cases"] if not r["pass"]}
if not {"mean", "KS", "W1", "L1"} <= kinds:
    print("FAIL: a drift fault should fail mean, KS, W1 and L1 gates; failed:", sorted(kinds))
    sys.exit(1)
print("ok: the drift fault fails", sorted(kinds), "gates")
PY
exit $status
