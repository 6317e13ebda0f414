#!/usr/bin/env python3
"""tests/doc_commands.py — every command the documentation shows must run as shown.

Usage: doc_commands.py --source REPO --fpflow BUILD/fpflow [--list] [--only REGEX] [--keep]

The commands are read from the files at test time, so a command added to the documentation is
covered without touching this test:
  * ```sh / ```bash / ```shell blocks of README.md and docs/*.md (a trailing backslash continues a
    line; a `# ...` comment is a note);
  * the "Sample runs" header of apps/fpflow.cpp: `//   COMMAND   NOTE`, the note set off by three
    or more spaces;
  * the usage lines at the top of apps/examples/*.opts: `#   fpflow ...` / `#   mpiexec ...`.

Each command runs verbatim with bash in a scratch directory that mirrors the repository root: a
symlink to every top-level entry of the source tree, and build/ holding the executable (and
build/tests -> the build's tests), with `fpflow` on PATH. Documented commands assume the
repository root as the working directory, so their relative paths resolve, and everything they
write lands in the scratch directory; the test fails if the source tree gains a file.

A command whose note says "must fail" must exit non-zero; every other one must exit 0.

Commands too long for CI run shortened by OVERRIDES (a pattern on the command, the edit, the
reason); commands that cannot run here are listed in SKIPS with the reason. Both tables are
below, and the report lists every command with what was done to it.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

# (pattern on the command, reason): not run.
SKIPS = [
    (r"^bash tools/setup\.sh", "installs packages with apt and rebuilds: CI's own first step"),
    (r"^bash tools/test\.sh", "runs the whole CTest suite, this test included"),
]

# (pattern, edit: function of the command -> command, reason). Every matching edit applies, in
# order. The full-size versions of these runs are CTest tests of their own (named in the reason).
OVERRIDES = [
    (r"\bfpflow verify\b(?!.*-list)",
     lambda c: c if "-case " in c else c + " -case heat-1d",
     "the full suite is the `verify` test; here one case"),
    (r"\bfpflow verify\b.*-particles \d{7,}",
     lambda c: re.sub(r"-particles \d+", "-particles 1000000", c),
     "at most the default 1e6 particles per case"),
    (r"\bfpflow verify\b.*-case \S*\bou-2d\b",
     lambda c: re.sub(r"\bou-2d\b", "ou-1d", c),
     "ou-2d's grid runs take ~40 s on 2 cores (the `verify` test runs it); ou-1d here"),
    (r"apps/examples/implicit_multigrid\.opts(?!.*-ts_max_steps)",
     lambda c: c + " -ts_max_steps 5",
     "the 64^3 run takes a minute and is the `example_implicit_multigrid` test; 5 steps here"),
    (r"\bfpflow bench\b(?!.*-quick)",
     lambda c: c + " -quick",
     "the full benchmark takes minutes; -quick is the `bench_smoke` size"),
    (r"tools/bench\.py",
     lambda c: re.sub(r"--np [0-9,]+", "--np 1,2", c) + ("" if " -- " in c else " -- -quick"),
     "minutes per rank count; CI has 2 cores: 1 and 2 ranks, -quick"),
    (r"tools/convergence_study\.py",
     lambda c: re.sub(r"--levels \d+", "--levels 3", c),
     "4 levels are the `convergence_study_*` tests; 3 levels here"),
    (r"build/tests/test_convergence\b(?!.*--run_test)",
     lambda c: c + " --run_test=heat_1d_sg",
     "the whole suite is the `convergence` test; one study here"),
    (r"-da_grid_x 2048 -da_grid_y 2048",
     lambda c: c.replace("-da_grid_x 2048 -da_grid_y 2048", "-da_grid_x 512 -da_grid_y 512"),
     "a 2048^2 profile needs 2 GB and minutes; 512^2 shows the same stages"),
]

TIMEOUT = 600  # seconds per command


def fenced_commands(path):
    """Commands of the ```sh / ```bash / ```shell blocks of a Markdown file."""
    out, block, lang, start = [], None, None, 0
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    for no, line in enumerate(lines, 1):
        fence = re.match(r"^\s*```\s*(\w*)", line)
        if fence:
            if block is None:
                block, lang, start = [], fence.group(1), no
            else:
                if lang in ("sh", "bash", "shell"):
                    out += split_shell(block, path, start)
                block = None
            continue
        if block is not None:
            block.append(line)
    return out


def split_shell(lines, path, start):
    """Shell lines -> (command, note, where), joining backslash continuations."""
    out, cur, first = [], "", 0
    for i, line in enumerate(lines):
        if not cur:
            first = start + 1 + i
        stripped = line.rstrip()
        if not cur and (not stripped.strip() or stripped.lstrip().startswith("#")):
            continue
        if stripped.endswith("\\"):
            cur += stripped[:-1] + " "
            continue
        cur += stripped
        note = ""
        m = re.search(r"\s#\s?(.*)$", cur)
        if m:
            cur, note = cur[:m.start()], m.group(1)
        out.append((" ".join(cur.split()), note, f"{os.path.basename(path)}:{first}"))
        cur = ""
    return out


def sample_runs(path):
    """The 'Sample runs' header of a C++ source: '//   COMMAND   NOTE'."""
    out, inside = [], False
    with open(path, encoding="utf-8") as f:
        for no, line in enumerate(f, 1):
            if not line.startswith("//"):
                if inside:
                    break
                continue
            if "Sample runs" in line:
                inside = True
                continue
            m = re.match(r"^//\s{3,}(\S.*)$", line.rstrip()) if inside else None
            if m:
                parts = re.split(r"\s{3,}", m.group(1), maxsplit=1)
                out.append((parts[0], parts[1] if len(parts) > 1 else "",
                            f"{os.path.basename(path)}:{no}"))
    return out


def opts_usage(path):
    """Usage lines at the top of an options file: '#   fpflow ...', '#   mpiexec ...'."""
    out = []
    with open(path, encoding="utf-8") as f:
        for no, line in enumerate(f, 1):
            if not line.startswith("#"):
                break
            m = re.match(r"^#\s{2,}((?:fpflow|mpiexec|mpirun|build/fpflow)\b.*)$", line.rstrip())
            if m:
                out.append((m.group(1), "", f"{os.path.basename(path)}:{no}"))
    return out


def collect(src):
    cmds = []
    docs = [os.path.join(src, "README.md")]
    docs += sorted(os.path.join(src, "docs", f) for f in os.listdir(os.path.join(src, "docs"))
                   if f.endswith(".md"))
    for d in docs:
        cmds += fenced_commands(d)
    cmds += sample_runs(os.path.join(src, "apps", "fpflow.cpp"))
    ex = os.path.join(src, "apps", "examples")
    for f in sorted(os.listdir(ex)):
        if f.endswith(".opts"):
            cmds += opts_usage(os.path.join(ex, f))
    return cmds


def untracked(src, build):
    """Files git does not track in the source tree, ignored ones included, outside the build
    directory (None when the source is not a git checkout)."""
    try:
        r = subprocess.run(["git", "-C", src, "status", "--porcelain", "--untracked-files=all",
                            "--ignored"], capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return None
    rel = os.path.relpath(build, src)
    skip = None if rel.startswith("..") else rel.split(os.sep)[0] + "/"
    return {l[3:] for l in r.stdout.splitlines()
            if l[:2] in ("??", "!!") and not (skip and l[3:].startswith(skip))}


def scratch_root(src, fpflow, tmp):
    """A directory that looks like the repository root to the commands."""
    root = os.path.join(tmp, "repo")
    os.makedirs(os.path.join(root, "build"))
    for e in os.listdir(src):
        if e.startswith(".") or e == "build":
            continue
        os.symlink(os.path.join(src, e), os.path.join(root, e))
    os.symlink(fpflow, os.path.join(root, "build", "fpflow"))
    tests = os.path.join(os.path.dirname(fpflow), "tests")
    if os.path.isdir(tests):
        os.symlink(tests, os.path.join(root, "build", "tests"))
    bindir = os.path.join(tmp, "bin")
    os.makedirs(bindir)
    os.symlink(fpflow, os.path.join(bindir, "fpflow"))
    return root, bindir


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--source", required=True, help="repository root")
    ap.add_argument("--fpflow", required=True, help="the built fpflow executable")
    ap.add_argument("--list", action="store_true", help="print the commands and exit")
    ap.add_argument("--only", default=None, help="run only commands whose \"file:line command\" matches this regex")
    ap.add_argument("--keep", action="store_true", help="keep the scratch directory")
    a = ap.parse_args()
    src, fpflow = os.path.realpath(a.source), os.path.realpath(a.fpflow)

    cmds = collect(src)
    if not cmds:
        sys.exit("doc_commands: no documented commands found (extraction broken?)")
    plan = []
    for cmd, note, where in cmds:
        skip = next((why for pat, why in SKIPS if re.search(pat, cmd)), None)
        run, reasons = cmd, []
        for pat, edit, why in OVERRIDES:
            if re.search(pat, run):
                new = edit(run)
                if new != run:
                    run, reasons = new, reasons + [why]
        plan.append((where, cmd, note, skip, run, reasons))
    if a.list:
        for where, cmd, note, skip, run, reasons in plan:
            print(f"{where}: {cmd}" + (f"\n    skipped: {skip}" if skip else "") +
                  (f"\n    runs as: {run}\n    because: {'; '.join(reasons)}" if reasons else ""))
        return

    tmp = tempfile.mkdtemp(prefix="fpflow-doc-commands-")
    build = os.path.dirname(fpflow)
    before = untracked(src, build)
    root, bindir = scratch_root(src, fpflow, tmp)
    env = dict(os.environ, PATH=bindir + os.pathsep + os.environ.get("PATH", ""))
    failed, ran, skipped = [], 0, 0
    for i, (where, cmd, note, skip, run, reasons) in enumerate(plan):
        if a.only and not re.search(a.only, f"{where} {cmd}"):
            continue
        if skip:
            skipped += 1
            print(f"skip {where}: {cmd}\n     ({skip})")
            continue
        expect_fail = "must fail" in note
        log = os.path.join(tmp, f"cmd{i:02d}.log")
        t0 = time.time()
        with open(log, "w") as out:
            try:
                code = subprocess.run(["bash", "-c", run], cwd=root, env=env, stdout=out,
                                      stderr=subprocess.STDOUT, timeout=TIMEOUT).returncode
            except subprocess.TimeoutExpired:
                code = "timeout"
        ran += 1
        ok = code != "timeout" and ((code != 0) if expect_fail else (code == 0))
        shown = run if run == cmd else f"{run}\n     (documented: {cmd}; {'; '.join(reasons)})"
        print(f"{'ok  ' if ok else 'FAIL'} {where} [{time.time() - t0:.1f} s, exit {code}"
              f"{', must fail' if expect_fail else ''}]: {shown}")
        if not ok:
            failed.append(where)
            with open(log) as f:
                tail = f.read().splitlines()[-15:]
            print("\n".join("     | " + l for l in tail))
    after = untracked(src, build)
    if before is not None and after is not None and after - before:
        failed.append("repository")
        print("FAIL the source tree gained files (written by a command, or edited meanwhile): " +
              ", ".join(sorted(after - before)))
    if a.keep:
        print(f"scratch directory kept: {tmp}")
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"{ran} commands run, {skipped} skipped, {len(failed)} failed"
          + (": " + ", ".join(failed) if failed else ""))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
