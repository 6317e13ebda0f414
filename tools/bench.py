#!/usr/bin/env python3
"""tools/bench.py — run `fpflow bench` at 1 and 2 MPI ranks (or --np N1,N2,...), merge, print the tables.

    tools/bench.py [--fpflow build/fpflow] [--out bench-out] [--np 1,2] [-- fpflow bench options]

The main tables compare the first and the last rank count; with more than two rank counts a scaling
table follows (rate per rank count and parallel efficiency against the first).

Writes OUT/bench.json: {"machine", "runs": [one fpflow bench report per rank count],
"explicit"/"implicit": per case, the first rank count's numbers plus "ranks_N" for each further
rank count with its rate, the parallel speed-up and, when N ranks do not speed the case up, what
limits it}. Standard library only.
"""
import argparse
import json
import os
import platform
import subprocess
import sys


def run_bench(fpflow, np_, out, extra):
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    cmd = ["mpiexec", "--oversubscribe", "-n", str(np_), fpflow, "bench", "-output", out] + extra
    print("$ " + " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True, env=env)
    with open(os.path.join(out, "bench.json")) as f:
        return json.load(f)


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--fpflow", default="build/fpflow")
    ap.add_argument("--out", default="bench-out")
    ap.add_argument("--np", default="1,2")
    ap.add_argument("extra", nargs="*", help="options passed to fpflow bench (after --)")
    a = ap.parse_args()
    ranks = [int(x) for x in a.np.split(",")]
    runs = [run_bench(a.fpflow, n, os.path.join(a.out, f"np{n}"), a.extra) for n in ranks]
    base = runs[0]
    merged = {"machine": {"cpu": cpu_model(), "cores": os.cpu_count()}, "runs": runs,
              "explicit": [], "implicit": []}
    bw = {r["ranks"]: r["stream_triad_median_bytes_per_second"] for r in runs}
    best = {r["ranks"]: r["stream_triad_bytes_per_second"] for r in runs}
    r0 = ranks[0]

    print(f"\nMachine: {merged['machine']['cpu']}, {merged['machine']['cores']} cores")
    print("STREAM triad (median / best): " + ", ".join(
        f"{n} rank(s) {bw[n] / 1e9:.1f} / {best[n] / 1e9:.1f} GB/s" for n in ranks))
    print("roofline: median step rate x B/upd / median STREAM measured just before the case; "
          "(strict): mean step rate / best STREAM of the run;\n"
          "matched: against a plain stream with the kernel's own mix (K reads + 1 write of the case's size)")
    rN = ranks[-1]
    a0, aN = f"{r0}r", f"{rN}r"
    print(f"\n{'explicit':<13}{'dim':>4}{'cells':>10}{'mem B/cell':>11}{'upd/s ' + a0:>11}{'B/upd':>6}"
          f"{'roofline':>9}{'(strict)':>9}{'matched':>8}{'baseline':>10}{'speedup':>8}"
          + (f"{'upd/s ' + aN:>11}{'roof ' + aN:>8}{'(strict)':>9}{aN + '/' + a0:>7}  limit"
             if len(runs) > 1 else ""))
    for i, e in enumerate(base.get("explicit", [])):
        row = dict(e)
        for r in runs[1:]:
            e2 = r["explicit"][i]
            lim = ""
            s = e2["cell_updates_per_second"] / e["cell_updates_per_second"]
            bws = e2["stream_triad_bytes_per_second"] / e["stream_triad_bytes_per_second"]
            if s < 1.3 and r["ranks"] > (os.cpu_count() or 1):
                lim = f"oversubscribed: {r['ranks']} ranks on {os.cpu_count()} cores"
            elif s < 1.3:
                lim = (f"memory bandwidth: STREAM x{bws:.2f} from {r0} to {r['ranks']} ranks, "
                       f"roofline {e2['roofline_fraction']:.0%} at {r['ranks']}")
            row[f"ranks_{r['ranks']}"] = {"cell_updates_per_second": e2["cell_updates_per_second"],
                                           "roofline_fraction": e2["roofline_fraction"],
                                           "roofline_fraction_best_stream":
                                               e2["roofline_fraction_best_stream"],
                                           "roofline_fraction_matched_stream":
                                               e2.get("roofline_fraction_matched_stream"),
                                           "speedup_vs_baseline": e2.get("speedup_vs_baseline"),
                                           "parallel_speedup": s, "limited_by": lim or None}
        merged["explicit"].append(row)
        two = row.get(f"ranks_{ranks[-1]}", {})
        print(f"{e['problem']:<13}{e['dim']:>4}{e['cells']:>10.0f}{e.get('memory_bytes_per_cell', 0):>11.0f}"
              f"{e['cell_updates_per_second']:>11.3e}"
              f"{e['bytes_per_cell_update']:>6.0f}{e['roofline_fraction']:>9.0%}"
              f"{e['roofline_fraction_best_stream']:>9.0%}"
              f"{e.get('roofline_fraction_matched_stream', 0):>8.0%}"
              f"{e.get('baseline', {}).get('cell_updates_per_second', 0):>10.2e}"
              f"{e.get('speedup_vs_baseline', 0):>7.2f}x"
              + (f"{two.get('cell_updates_per_second', 0):>11.3e}{two.get('roofline_fraction', 0):>8.0%}"
                 f"{two.get('roofline_fraction_best_stream', 0):>9.0%}"
                 f"{two.get('parallel_speedup', 0):>7.2f}  {two.get('limited_by') or ''}"
                 if len(runs) > 1 else ""))

    if base.get("implicit"):
        print(f"\n{'implicit':<10}{'unknowns':>10}{'mem B/cell':>11}{'MG it ' + a0:>9}{'s/unknown ' + a0:>14}"
              + (f"{'MG it ' + aN:>9}{'s/unknown ' + aN:>14}{aN + '/' + a0:>7}" if len(runs) > 1 else ""))
    for i, e in enumerate(base.get("implicit", [])):
        row = dict(e)
        cols = ""
        for r in runs[1:]:
            e2 = r["implicit"][i]
            s = e["seconds_per_unknown"] / e2["seconds_per_unknown"]
            row[f"ranks_{r['ranks']}"] = {"mg_iterations": e2["mg_iterations"],
                                           "seconds_per_unknown": e2["seconds_per_unknown"],
                                           "parallel_speedup": s}
            cols = f"{e2['mg_iterations']:>9.1f}{e2['seconds_per_unknown']:>14.3e}{s:>7.2f}"
        merged["implicit"].append(row)
        print(f"{str(e['cells_per_axis']) + '^2':<10}{e['unknowns']:>10.0f}"
              f"{e.get('memory_bytes_per_cell', 0):>11.0f}{e['mg_iterations']:>9.1f}"
              f"{e['seconds_per_unknown']:>14.3e}{cols}")
    if merged["implicit"]:
        # Spread of the iterations and growth of the time per unknown across the sizes, for
        # every rank count (the targets: within +-2, and at most 1.5x from smallest to largest).
        summary = {}
        for r in runs:
            imp = r.get("implicit", [])
            if not imp:
                continue
            its = [e["mg_iterations"] for e in imp]
            spu = [e["seconds_per_unknown"] for e in imp]
            summary[f"ranks_{r['ranks']}"] = {
                "mg_iteration_spread": max(its) - min(its),
                "seconds_per_unknown_ratio_largest_to_smallest": spu[-1] / spu[0]}
            print(f"{r['ranks']} rank(s): MG iterations spread {max(its) - min(its):.1f}; "
                  f"time per unknown largest/smallest {spu[-1] / spu[0]:.2f}")
        merged["implicit_summary"] = dict(summary[f"ranks_{base['ranks']}"], **summary)
    if len(runs) > 2:
        # Every rank count: rate and parallel efficiency against the first (rate_n / (n/r0 rate_r0)).
        cores = os.cpu_count() or 1
        print(f"\nscaling (efficiency against {r0} rank(s); ranks beyond the {cores} cores here share them)")
        print(f"{'case':<22}" + "".join(f"{str(n) + 'r':>18}" for n in ranks))
        for i, e in enumerate(base.get("explicit", [])):
            cells = []
            for r in runs:
                v = r["explicit"][i]["cell_updates_per_second"]
                eff = v / (e["cell_updates_per_second"] * r["ranks"] / r0)
                cells.append(f"{v:.2e} ({eff:.0%})")
            print(f"{e['problem'] + ' ' + str(e['dim']) + '-D':<22}" + "".join(f"{c:>18}" for c in cells))
        for i, e in enumerate(base.get("implicit", [])):
            cells = []
            for r in runs:
                v = r["implicit"][i]["seconds_per_unknown"]
                eff = e["seconds_per_unknown"] / (v * r["ranks"] / r0)
                cells.append(f"{v:.2e}s ({eff:.0%})")
            print(f"{'implicit ' + str(e['cells_per_axis']) + '^2':<22}" + "".join(f"{c:>18}" for c in cells))
    for r in runs:
        if "output_frame" in r:
            f = r["output_frame"]
            print(f"VTK frame ({r['ranks']} rank(s)): {f['seconds']:.2f} s for {f['bytes'] / 1e6:.0f} MB")
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "bench.json"), "w") as f:
        json.dump(merged, f, indent=2)
    print(f"\nbench.json: {os.path.join(a.out, 'bench.json')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
