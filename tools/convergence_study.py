#!/usr/bin/python3
"""tools/convergence_study.py — a grid-refinement study of one fpflow problem, with observed orders.

Runs fpflow (through mpiexec) on grids refined by 2, reads each run's summary.json error against
the exact solution (or the stationary law with -steady / -until_stationary), and reports the
observed order p = log2(E_coarse / E_fine) in L1, L2 and Linf for each pair, plus the
least-squares slope over the finest three grids (docs/VERIFICATION.md §1). Writes
OUT/convergence.csv and OUT/convergence.png (log-log, with reference slopes 1 and 2).

  /usr/bin/python3 tools/convergence_study.py --levels 4 --base 32 --np 2 --out conv-heat \\
      -- -problem heat -dim 2
  /usr/bin/python3 tools/convergence_study.py --levels 5 --base 16 --dt0 0.02 \\
      -- -problem ou -dim 1 -ts_type cn           (implicit: dt halves with h)
  --expect 2 makes the exit status non-zero unless |p - 2| <= 0.1 on the finest pair (L1, L2);
  --pin E also requires the finest L1 error within 15% of E (docs/VERIFICATION.md §1: pin the constant).

Everything after `--` goes to fpflow unchanged (the grid size options are set per level).
Explicit runs take fpflow's default step, the positivity bound, which shrinks like h^2, so the
time error falls faster than the space error; implicit runs need --dt0 (the coarsest step,
halved at each level) or a -ts_dt that is small enough on every grid.
"""
import argparse
import csv
import json
import math
import os
import shutil
import subprocess
import sys


def parse():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[1],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--levels", type=int, default=4, help="number of grids (>= 2)")
    p.add_argument("--base", type=int, default=32, help="cells per axis on the coarsest grid")
    p.add_argument("--np", type=int, default=1, help="MPI ranks per run")
    p.add_argument("--out", default="convergence-out", help="output directory")
    p.add_argument("--fpflow", default=None, help="fpflow executable (default: build/fpflow)")
    p.add_argument("--dt0", type=float, default=None,
                   help="time step on the coarsest grid, halved at each level (implicit runs)")
    p.add_argument("--expect", type=float, default=None,
                   help="expected order: fail unless |p - expect| <= 0.1 on the finest pair")
    p.add_argument("--pin", type=float, default=None,
                   help="expected L1 error on the finest grid: fail unless within 15%% of it "
                        "(an order test cannot see a bug of the same order)")
    p.add_argument("--no-plot", action="store_true", help="skip the PNG")
    p.add_argument("fpflow_args", nargs=argparse.REMAINDER, help="-- then fpflow options")
    a = p.parse_args()
    if a.fpflow_args and a.fpflow_args[0] == "--":
        a.fpflow_args = a.fpflow_args[1:]
    if a.levels < 2:
        p.error("--levels must be at least 2")
    if a.fpflow is None:
        here = os.path.dirname(os.path.abspath(__file__))
        a.fpflow = os.path.join(here, "..", "build", "fpflow")
    return a


def dim_of(args):
    for i, v in enumerate(args[:-1]):
        if v == "-dim":
            return int(args[i + 1])
    return 2


def run(a, level):
    n = a.base * 2 ** level
    d = dim_of(a.fpflow_args)
    out = os.path.join(a.out, f"level{level}-{n}")
    cmd = []
    if a.np > 1:
        cmd = [shutil.which("mpiexec") or "mpiexec", "-n", str(a.np)]
        if a.np > (os.cpu_count() or 1):
            cmd.append("--oversubscribe")
    cmd += [a.fpflow] + a.fpflow_args
    for axis in "xyz"[:d]:
        cmd += [f"-da_grid_{axis}", str(n)]
    if a.dt0 is not None:
        cmd += ["-ts_dt", repr(a.dt0 / 2 ** level)]
    cmd += ["-output", out, "-vtk", "0", "-progress_seconds", "-1"]
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if r.returncode != 0:
        sys.exit(f"convergence_study: run failed ({' '.join(cmd)}):\n{r.stderr.strip()}")
    with open(os.path.join(out, "summary.json")) as f:
        s = json.load(f)
    if "error" not in s:
        if "reference_error" in s:
            sys.exit("convergence_study: no error: the " + s["reference_error"]["reference"] +
                     " is not the solution on this box (" + s["reference_error"]["why"] + ")")
        sys.exit("convergence_study: the problem reports no error (it needs an exact solution "
                 "or a stationary law with -steady / -until_stationary)")
    box = s["box"]
    h = max((hi - lo) / c for lo, hi, c in zip(box["lo"], box["hi"], s["cells"]))
    return {"cells": n, "h": h, **{k: s["error"][k] for k in ("L1", "L2", "Linf")},
            "steps": s.get("steps", 0), "wall_seconds": s["wall_seconds"]}


def slope(xs, ys):
    lx = [math.log(x) for x in xs]
    ly = [math.log(y) for y in ys]
    mx, my = sum(lx) / len(lx), sum(ly) / len(ly)
    return sum((x - mx) * (y - my) for x, y in zip(lx, ly)) / sum((x - mx) ** 2 for x in lx)


def main():
    a = parse()
    os.makedirs(a.out, exist_ok=True)
    rows = []
    for level in range(a.levels):
        rows.append(run(a, level))
        r = rows[-1]
        line = f'{r["cells"]:6d} cells/axis  h = {r["h"]:.4e}'
        for k in ("L1", "L2", "Linf"):
            line += f"  {k} {r[k]:.3e}"
            if level:
                r[f"order_{k}"] = math.log2(rows[-2][k] / r[k])
                line += f" (p = {r[f'order_{k}']:.2f})"
        print(line, flush=True)
    fit = {}
    last = rows[-3:] if len(rows) >= 3 else rows
    for k in ("L1", "L2", "Linf"):
        fit[k] = slope([r["h"] for r in last], [r[k] for r in last])
    print("least-squares order over the finest %d grids: " % len(last) +
          "  ".join(f"{k} {fit[k]:.2f}" for k in fit))
    keys = ["cells", "h", "L1", "L2", "Linf", "order_L1", "order_L2", "order_Linf", "steps",
            "wall_seconds"]
    with open(os.path.join(a.out, "convergence.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=keys)
        w.writeheader()
        for r in rows:
            w.writerow({k: r.get(k, "") for k in keys})
    with open(os.path.join(a.out, "convergence.json"), "w") as f:
        json.dump({"runs": rows, "least_squares_order": fit, "fpflow_args": a.fpflow_args}, f,
                  indent=2)
    if not a.no_plot:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        hs = [r["h"] for r in rows]
        fig, ax = plt.subplots(figsize=(5.5, 4.2))
        for k, m in (("L1", "o"), ("L2", "s"), ("Linf", "^")):
            ax.loglog(hs, [r[k] for r in rows], m + "-", label=f"{k} (p = {fit[k]:.2f})")
        e0 = rows[0]["L1"]
        for p, style in ((1, ":"), (2, "--")):
            ax.loglog(hs, [e0 * (h / hs[0]) ** p for h in hs], "k" + style, lw=0.8,
                      label=f"slope {p}")
        ax.set_xlabel("h")
        ax.set_ylabel("error")
        ax.set_title(" ".join(a.fpflow_args) or "fpflow default problem", fontsize=8)
        ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(os.path.join(a.out, "convergence.png"), dpi=110)
    print(f"convergence_study: {a.out}/convergence.csv" +
          ("" if a.no_plot else f", {a.out}/convergence.png"))
    if a.pin is not None and abs(rows[-1]["L1"] / a.pin - 1) > 0.15:
        sys.exit(f"convergence_study: finest L1 error {rows[-1]['L1']:.4e} is not within 15% of "
                 f"the pinned {a.pin:.4e}")
    if a.expect is not None:
        bad = [k for k in ("L1", "L2") if abs(rows[-1][f"order_{k}"] - a.expect) > 0.1]
        if bad:
            sys.exit(f"convergence_study: observed order off {a.expect} by more than 0.1 in "
                     + ", ".join(bad))


if __name__ == "__main__":
    main()
