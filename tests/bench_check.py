#!/usr/bin/env python3
"""tests/bench_check.py — structure and correctness of a `tools/bench.py` report (CTest
bench_smoke). No timing thresholds (speed is measured by benchmarks, not asserted by tests):
every explicit case carries the four required numbers, fpflow and the PETSc-user baseline
compute the same OU operator (final states equal to round-off), every implicit size carries
its numbers, and the multigrid iteration counts stay within +-2 across the sizes at 1 and at 2
ranks."""
import json
import sys

j = json.load(open(sys.argv[1]))
fail = []
for e in j["explicit"]:
    for k in ("cell_updates_per_second", "bytes_per_cell_update", "roofline_fraction",
              "speedup_vs_baseline", "roofline_fraction_matched_stream",
              "matched_stream_bytes_per_second"):
        if not (isinstance(e.get(k), (int, float)) and e[k] > 0):
            fail.append(f"explicit {e['problem']} {e['dim']}D: {k} = {e.get(k)}")
    if e["problem"] == "ou" and not e["baseline"]["max_relative_difference"] < 1e-12:
        fail.append(f"baseline and fpflow differ on OU {e['dim']}D: {e['baseline']}")
    if e["bytes_per_cell_update"] != (16 if e["problem"] == "ou" else 16 + 16 * e["dim"]):
        fail.append(f"unexpected weight mode for {e['problem']} {e['dim']}D: {e['weights']}")
    if "ranks_2" not in e:
        fail.append("no 2-rank numbers")
for e in j["implicit"]:
    for k in ("unknowns", "mg_iterations", "seconds_per_unknown"):
        if not (isinstance(e.get(k), (int, float)) and e[k] > 0):
            fail.append(f"implicit {e.get('cells_per_axis')}: {k} = {e.get(k)}")
for key, v in j["implicit_summary"].items():
    if key.startswith("ranks_") and v["mg_iteration_spread"] > 2:
        fail.append(f"multigrid iterations vary by more than 2 at {key}: {v}")
if "ranks_2" not in j["implicit_summary"]:
    fail.append("no 2-rank implicit numbers")
for f in fail:
    print("bench_check: FAIL:", f)
print("bench_check:", "FAIL" if fail else "ok", f"({len(j['explicit'])} explicit, {len(j['implicit'])} implicit)")
sys.exit(1 if fail else 0)
