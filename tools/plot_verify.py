#!/usr/bin/python3
"""tools/plot_verify.py — PNG plots of an `fpflow verify` run: grid density against particles.

Usage: /usr/bin/python3 tools/plot_verify.py VERIFY_DIR
Reads VERIFY_DIR/verify.json and VERIFY_DIR/<case>/compare.json (written by fpflow verify) and
writes, per case,
  <case>/marginals.png  each axis: the grid's cell-average marginal (line), its bin
                        probabilities as a density (steps) and the particle histogram on the same
                        bins (unions of cells) with +-2 standard-error bars;
  <case>/map.png        (2-D/3-D) bin probabilities of the first two axes, grid | particles |
                        standardised residual (particles - grid) / sqrt(p (1 - p) / N);
and VERIFY_DIR/summary.png: every gate's value / threshold (pass below 1).
fpflow verify calls it when -plot is on (the default); it needs numpy and matplotlib
(Debian: python3-numpy python3-matplotlib; use /usr/bin/python3).
"""
import json
import os
import sys
import textwrap

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def marginals(case_dir, data, title):
    axes = data["axes"]
    fig, ax = plt.subplots(1, len(axes), figsize=(5.2 * len(axes), 4), squeeze=False)
    for d, a in enumerate(axes):
        edges = np.array(a["edges"])
        width = np.diff(edges)
        grid = np.array(a["grid"])
        part = np.array(a["particles"])
        n = a["n"]
        # Standard error of a histogram density on a bin: sqrt(p (1 - p) / n) / width.
        p = grid * width
        se = np.sqrt(np.clip(p * (1 - p), 0, None) / max(n, 1)) / width
        mid = 0.5 * (edges[1:] + edges[:-1])
        x = ax[0][d]
        x.plot(a["centres"], a["grid_cells"], color="0.6", lw=1, label="grid, cell averages")
        x.stairs(grid, edges, color="C0", lw=1.5, label="grid, bin probability / width")
        x.errorbar(mid, part, yerr=2 * se, fmt=".", color="C3", ms=3, elinewidth=0.8,
                   label="particles (±2 SE)")
        x.set_xlabel("xyz"[d])
        x.set_ylabel("marginal density")
        x.legend(fontsize=7)
    fig.suptitle(textwrap.fill(title, 40 + 50 * (len(axes) - 1)), fontsize=9)
    fig.tight_layout()
    fig.savefig(os.path.join(case_dir, "marginals.png"), dpi=110)
    plt.close(fig)


def density_map(case_dir, data, title):
    m = data["map"]
    nx, ny = m["nx"], m["ny"]
    g = np.array(m["grid"]).reshape(ny, nx)
    p = np.array(m["particles"]).reshape(ny, nx)
    n = data["n"] - data["killed"]
    se = np.sqrt(np.clip(g * (1 - g), 1e-300, None) / n)
    z = np.where(g * n >= 5, (p - g) / se, np.nan)
    fig, ax = plt.subplots(1, 3, figsize=(14, 4.2))
    vmax = max(g.max(), p.max())
    for a, v, t in ((ax[0], g, "grid: bin probability"), (ax[1], p, "particles: bin frequency")):
        im = a.imshow(v, origin="lower", extent=m["extent"], vmin=0, vmax=vmax, cmap="viridis",
                      aspect="auto")
        a.set_title(t, fontsize=9)
        fig.colorbar(im, ax=a)
    im = ax[2].imshow(z, origin="lower", extent=m["extent"], vmin=-4, vmax=4, cmap="RdBu_r",
                      aspect="auto")
    ax[2].set_title("(particles - grid) / SE   (bins with N p >= 5)", fontsize=9)
    fig.colorbar(im, ax=ax[2])
    for a in ax:
        a.set_xlabel("x")
        a.set_ylabel("y")
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(os.path.join(case_dir, "map.png"), dpi=110)
    plt.close(fig)


def summary(out, verify):
    rows = verify["cases"]
    if not rows:
        return
    labels = [f'{r["name"]} {r["metric"]}' for r in rows]
    ratio = [r["value"] / r["threshold"] if r["threshold"] else np.inf for r in rows]
    colors = ["C2" if r["pass"] else "C3" for r in rows]
    fig, ax = plt.subplots(figsize=(7, 0.22 * len(rows) + 1.2))
    ax.barh(range(len(rows)), ratio, color=colors)
    ax.axvline(1.0, color="k", lw=1)
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels(labels, fontsize=6)
    ax.invert_yaxis()
    ax.set_xlabel("value / threshold (pass < 1)")
    fault = " — fault injected" if verify.get("fault_injected") else ""
    ax.set_title(f'fpflow verify: N = {verify["particles"]:g}, delta = {verify["delta"]:g}{fault}',
                 fontsize=9)
    fig.tight_layout()
    fig.savefig(os.path.join(out, "summary.png"), dpi=110)
    plt.close(fig)


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: plot_verify.py VERIFY_DIR")
    out = sys.argv[1]
    with open(os.path.join(out, "verify.json")) as f:
        verify = json.load(f)
    for name in sorted({r["name"] for r in verify["cases"]}):
        case_dir = os.path.join(out, name)
        with open(os.path.join(case_dir, "compare.json")) as f:
            data = json.load(f)
        ok = verify["case_info"][name]["pass"]
        title = f'{name}: {data["what"]}  [{"pass" if ok else "FAIL"}]'
        marginals(case_dir, data, title)
        if "map" in data:
            density_map(case_dir, data, title)
    summary(out, verify)
    print(f"plot_verify: PNGs in {out}/<case>/ and {out}/summary.png")


if __name__ == "__main__":
    main()
