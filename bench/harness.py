#!/usr/bin/env python3
"""CD-1 on MNIST, side by side: this library (pure-Go and OpenBLAS builds, float32 and float64)
against scikit-learn's BernoulliRBM and a hand-written numpy CD-1 loop, in one run.

Run from the repository root (stdlib Python 3; the peers need Debian's python3-numpy,
python3-sklearn and, for the BLAS report, python3-threadpoolctl; the OpenBLAS build needs cgo
and libopenblas-dev):

  /usr/bin/python3 bench/harness.py                     # defaults: 3 repeats, both dtypes
  /usr/bin/python3 bench/harness.py --coretypes env,auto --ais

Every contender trains a 784x500 RBM for one epoch over the 60,000 training images (batch
100, learning rate 0.05), three times by default; the table gives the median seconds per
epoch, the GEMM-equivalent GFLOP/s (the 235.2 GFLOP of the five dense products of a CD-1 epoch
over the time), that figure as a fraction of the GEMM peak numpy measures on the same five
products (a fraction above 1 means faster than a dense GEMM could be), peak resident memory,
and the CPU share other processes took during the run ("foreign": the timings are only
trustworthy when it is near 0; "CPU s" is the CPU time of the contender's process per epoch, a
steadier figure on a shared machine, though spinning OpenBLAS threads inflate it). Each run first
waits up to --quiet-wait seconds for an idle machine. The ratios at the end are the acceptance figures of the performance issue.

OPENBLAS_CORETYPE selects OpenBLAS's kernels (Debian machines here export Haswell, i.e. AVX2;
unset, OpenBLAS picks AVX-512 on Zen 4/5): --coretypes env,auto runs every OpenBLAS contender
(ours and numpy's) under both settings.
"""
import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GEMM_FLOP = 5 * 2 * 100 * 784 * 500 * 600.0  # the five products of a CD-1 epoch


def busy_jiffies():
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:9]]
    return sum(v) - v[3] - v[4], sum(v)


def wait_quiet(timeout, idle=0.9):
    """Waits until the machine was at least `idle` idle over one second, or `timeout` s."""
    t0 = time.time()
    while time.time() - t0 < timeout:
        b0, t_0 = busy_jiffies()
        time.sleep(1)
        b1, t_1 = busy_jiffies()
        if 1 - (b1 - b0) / max(1, t_1 - t_0) >= idle:
            return
    return


def run(cmd, env, quiet_wait):
    """Runs cmd, returns (JSON records it printed, foreign load during the run)."""
    wait_quiet(quiet_wait)
    hz, ncpu = os.sysconf("SC_CLK_TCK"), os.cpu_count() or 1
    b0, _ = busy_jiffies()
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.time()
    p = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True)
    wall = time.time() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    b1, _ = busy_jiffies()
    own = (r1.ru_utime + r1.ru_stime) - (r0.ru_utime + r0.ru_stime)
    foreign = max(0.0, (b1 - b0) / hz - own) / (wall * ncpu)
    if p.returncode != 0:
        print("# %s failed (%d): %s" % (" ".join(cmd), p.returncode, p.stderr.strip()[-2000:]), file=sys.stderr)
        return [], foreign
    recs = []
    for line in p.stdout.splitlines():
        if line.startswith("{"):
            recs.append(json.loads(line))
    return recs, foreign


def go_build(out, tags):
    cmd = ["go", "build", "-o", out]
    if tags:
        cmd += ["-tags", tags]
    p = subprocess.run(cmd + ["./bench/cd1epoch"], cwd=ROOT, capture_output=True, text=True)
    if p.returncode != 0:
        print("# go build %s failed: %s" % (tags or "(pure Go)", p.stderr.strip()[-1000:]), file=sys.stderr)
        return None
    return out


def have_module(python, name):
    return subprocess.run([python, "-c", "import " + name], capture_output=True).returncode == 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=3, help="epochs timed per contender (fresh models)")
    ap.add_argument("--dtypes", default="float32,float64")
    ap.add_argument("--estimators", default="cd", help="ours: cd, cd-vp, pcd (comma-separated)")
    ap.add_argument("--coretypes", default="env",
                    help="OPENBLAS_CORETYPE settings for OpenBLAS contenders: env (as exported), auto (unset), or a name")
    ap.add_argument("--python", default="/usr/bin/python3", help="Python with numpy/sklearn for the peers")
    ap.add_argument("--no-peers", action="store_true")
    ap.add_argument("--no-openblas", action="store_true")
    ap.add_argument("--quiet-wait", type=float, default=60, help="seconds to wait for an idle machine before each run")
    ap.add_argument("--threads", default="2", help="BLAS threads of the peers; GOMAXPROCS of our builds")
    ap.add_argument("--ais", action="store_true", help="also run estimate's BenchmarkAIS784x500 (minutes)")
    ap.add_argument("--json", help="append every record to this JSON-lines file")
    args = ap.parse_args()
    dtypes = args.dtypes.split(",")
    tmp = tempfile.mkdtemp(prefix="ebm-bench-")
    records = []

    def note(rec):
        records.append(rec)
        if args.json:
            with open(args.json, "a") as f:
                f.write(json.dumps(rec, sort_keys=True) + "\n")

    builds = {"pure-Go": go_build(os.path.join(tmp, "cd1epoch"), "")}
    if not args.no_openblas:
        builds["OpenBLAS"] = go_build(os.path.join(tmp, "cd1epoch-openblas"), "openblas")
    peers = not args.no_peers and have_module(args.python, "numpy")
    sklearn = peers and have_module(args.python, "sklearn")
    if not args.no_peers and not peers:
        print("# numpy not importable by %s: peers skipped" % args.python, file=sys.stderr)

    def env_for(coretype, ours=False):
        env = dict(os.environ)
        for v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "BENCH_THREADS"):
            env[v] = args.threads
        if ours:
            # Our builds share the CPUs with their own helper pool (GOMAXPROCS); the OpenBLAS build
            # runs OpenBLAS single-threaded on that pool unless OPENBLAS_NUM_THREADS is set.
            for v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):
                env.pop(v, None)
            env["GOMAXPROCS"] = args.threads
        if coretype == "auto":
            env.pop("OPENBLAS_CORETYPE", None)
        elif coretype != "env":
            env["OPENBLAS_CORETYPE"] = coretype
        return env

    def label(coretype):
        env = env_for(coretype)
        return env.get("OPENBLAS_CORETYPE", "(auto)")

    # Every contender's epochs are timed in rounds: one epoch (a fresh process) of each contender
    # per round, so that a slow spell of a shared machine falls on all of them alike instead of
    # on whichever ran then. The GEMM peak is measured once per core type, before the rounds.
    jobs = []  # (annotation, command without the repeat count, env)
    for name, binary in builds.items():
        if binary is None:
            continue
        for ct in (["env"] if name == "pure-Go" else args.coretypes.split(",")):
            for dt in dtypes:
                for est in args.estimators.split(","):
                    jobs.append(({"contender": "ebm " + name, "coretype": label(ct) if name != "pure-Go" else "-"},
                                 [binary, "-dtype", dt, "-estimator", est, "-repeats"], env_for(ct, ours=True)))
    if peers:
        for ct in args.coretypes.split(","):
            env = env_for(ct)
            recs, foreign = run([args.python, "bench/peers.py", "gemm"], env, args.quiet_wait)
            for r in recs:
                r.update(contender="numpy GEMM", coretype=label(ct), foreign=foreign)
                note(r)
            for dt in dtypes:
                for cname, which in [("numpy CD-1", "numpy")] + ([("sklearn PCD-1", "sklearn")] if sklearn else []):
                    jobs.append(({"contender": cname, "coretype": label(ct)},
                                 [args.python, "bench/peers.py", which, "--dtype", dt, "--repeats"], env))
    merged = [None] * len(jobs)
    for _ in range(args.repeats):
        for i, (tag, cmd, env) in enumerate(jobs):
            recs, foreign = run(cmd + ["1"], env, args.quiet_wait)
            for r in recs:
                r.update(tag)
                merged[i] = merge(merged[i], r, foreign)
    for r in merged:
        if r is not None:
            note(r)
    ais = None
    if args.ais:
        ais = run_ais(args)
    report(records, ais)
    shutil.rmtree(tmp, ignore_errors=True)


def run_ais(args):
    """estimate's own AIS benchmark (100 runs x 14,501 distributions, 784x500)."""
    if not os.path.isdir(os.path.join(ROOT, "estimate")):
        return {"note": "no estimate package in this tree"}
    res = {}
    for name, tags in (("pure-Go", ""), ("OpenBLAS", "openblas")):
        if tags and args.no_openblas:
            continue
        cmd = ["go", "test", "-run", "XXX", "-bench", "AIS784x500$", "-benchtime", "1x", "-timeout", "60m", "-v"]
        if tags:
            cmd += ["-tags", tags]
        wait_quiet(args.quiet_wait)
        t0 = time.time()
        p = subprocess.run(cmd + ["./estimate/"], cwd=ROOT, capture_output=True, text=True)
        line = [l for l in p.stdout.splitlines() if "runs ×" in l or "runs x" in l]
        res[name] = {"ok": p.returncode == 0, "wall_s": time.time() - t0, "log": line[-1].strip() if line else p.stdout[-500:]}
    return res


def merge(acc, rec, foreign):
    """Adds one round's record of a contender to its merged record (runs appended, medians
    recomputed, the mean foreign load and the largest peak memory kept)."""
    cpu = rec.get("cpu_sec_per_epoch_runs")
    if not cpu:
        cpu = [rec["cpu_sec_per_epoch_median"]] if rec.get("cpu_sec_per_epoch_median") else []
    if acc is None:
        acc = dict(rec)
        acc["sec_per_epoch_runs"], acc["cpu_sec_per_epoch_runs"], acc["foreigns"] = [], [], []
    acc["sec_per_epoch_runs"] += rec["sec_per_epoch_runs"]
    acc["cpu_sec_per_epoch_runs"] += cpu
    acc["foreigns"].append(foreign)
    acc["foreign"] = statistics.mean(acc["foreigns"])
    acc["peak_rss_mb"] = max(acc.get("peak_rss_mb", 0), rec.get("peak_rss_mb", 0))
    acc["sec_per_epoch_median"] = statistics.median(acc["sec_per_epoch_runs"])
    if acc["cpu_sec_per_epoch_runs"]:
        acc["cpu_sec_per_epoch_median"] = statistics.median(acc["cpu_sec_per_epoch_runs"])
    if "final_cd_cost" in rec:
        acc["final_cd_cost"] = rec["final_cd_cost"]
    return acc


def med(r):
    return r.get("sec_per_epoch_median") or statistics.median(r["sec_per_epoch_runs"])


def report(records, ais):
    gemm = {(r["dtype"], r["coretype"]): r for r in records if r["bench"] == "gemm"}
    rows = [r for r in records if r["bench"] != "gemm"]
    print()
    print("CD-1 epoch, MNIST 60,000 x 784 -> 500 hidden, batch 100 (median of repeats; one epoch of every contender per round)")
    print("%-16s %-8s %-22s %-9s %9s %9s %9s %10s %9s %8s" % ("contender", "dtype", "estimator/BLAS", "coretype", "s/epoch",
                                                             "CPU s", "GFLOP/s", "of GEMM pk", "peak MB", "foreign"))
    for r in rows:
        s = med(r)
        gf = GEMM_FLOP / s / 1e9
        g = gemm.get((r["dtype"], r["coretype"])) or next((v for (d, _), v in gemm.items() if d == r["dtype"]), None)
        frac = ("%.2f" % (g["cd1_epoch_gemm_floor_sec"] / s)) if g else "-"
        what = r.get("estimator") or ""
        if r["contender"].startswith("ebm"):
            what = "%s/%s" % (r.get("estimator"), "OpenBLAS" if "OpenBLAS" in r.get("build", "") else "Go")
        cpu = r.get("cpu_sec_per_epoch_median")
        print("%-16s %-8s %-22s %-9s %9.3f %9s %9.1f %10s %9.0f %7.0f%%" % (
            r["contender"], r["dtype"], what[:22], r["coretype"], s, "%.3f" % cpu if cpu else "-", gf, frac,
            r.get("peak_rss_mb", 0), 100 * r["foreign"]))
    for (dt, ct), g in sorted(gemm.items()):
        print("numpy GEMM peak %s %s: %s GFLOP/s per product; CD-1 epoch GEMM floor %.3f s (%.1f GFLOP/s)" % (
            dt, ct, ", ".join("%s %.0f" % kv for kv in g["gflops"].items()), g["cd1_epoch_gemm_floor_sec"], g["cd1_gemm_gflops"]))

    def find(contender, dt, ct=None, est="CD-1"):
        for r in rows:
            if r["contender"] == contender and r["dtype"] == dt and (ct is None or r["coretype"] == ct) \
                    and (not contender.startswith("ebm") or r.get("estimator") == est):
                return r
        return None

    print()
    print("Acceptance ratios (ours / peer, same run; <= target passes)")
    for dt in ("float32", "float64"):
        ours, sk = find("ebm pure-Go", dt), find("sklearn PCD-1", dt)
        if ours and sk:
            ratio = med(ours) / med(sk)
            print("  pure-Go CD-1 %s / scikit-learn %s: %.2f (target <= 1.0) %s" % (dt, dt, ratio, "PASS" if ratio <= 1 else "FAIL"))
    cts = sorted({r["coretype"] for r in rows if r["contender"] == "ebm OpenBLAS"})
    for ct in cts:
        ours, npy = find("ebm OpenBLAS", "float32", ct), find("numpy CD-1", "float32", ct)
        if ours and npy:
            ratio = med(ours) / med(npy)
            print("  OpenBLAS CD-1 float32 / numpy CD-1 float32, OPENBLAS_CORETYPE=%s: %.2f (target <= 0.8) %s" % (
                ct, ratio, "PASS" if ratio <= 0.8 else "FAIL"))
    if ais:
        print()
        print("AIS (estimate.BenchmarkAIS784x500: 100 runs x 14,501 distributions, 784x500; target <= 180 s with OpenBLAS)")
        for k, v in ais.items():
            print("  %s: %s" % (k, v))


if __name__ == "__main__":
    main()
