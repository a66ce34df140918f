#!/usr/bin/env python3
"""Peer contenders for the CD-1 benchmark of bench/harness.py, on the same MNIST data.

  numpy     the textbook numpy CD-1 loop (h0 sampled, v1 and h1 probabilities, plain SGD,
            no shuffling), float32 or float64
  sklearn   scikit-learn's BernoulliRBM.fit with n_iter=1 (PCD-1, batch 100), float32 or
            float64 input (scikit-learn >= 1.2 keeps the dtype)
  gemm      numpy matmul rates for the five products of a CD-1 step (the GEMM peak the
            harness compares against) and the GEMM floor of an epoch

784x500, batch 100, learning rate 0.05, 60,000 images scaled to [0,1]. Prints one JSON object
per line. Needs Debian's python3-numpy (and python3-sklearn for sklearn); run it with the
system Python (/usr/bin/python3). BLAS threads: $BENCH_THREADS (default 2).

  /usr/bin/python3 bench/peers.py numpy --dtype float32 --repeats 3
  /usr/bin/python3 bench/peers.py sklearn --dtype float64 --repeats 3
  /usr/bin/python3 bench/peers.py gemm
"""
import argparse
import gzip
import json
import os
import resource
import struct
import subprocess
import sys
import time

THREADS = os.environ.get("BENCH_THREADS", "2")
for _v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS"):
    os.environ.setdefault(_v, THREADS)

import numpy as np  # noqa: E402  (after the thread variables: OpenBLAS reads them at load time)

N_VIS, N_HID, BATCH, LR = 784, 500, 100, 0.05


def mnist_dir():
    d = os.environ.get("MNIST_DIR")
    if d:
        return d
    try:
        cache = subprocess.run(["go", "env", "GOMODCACHE"], capture_output=True, text=True).stdout.strip()
    except OSError:
        cache = os.path.expanduser("~/go/pkg/mod")
    base = os.path.join(cache, "github.com/petar")
    for name in sorted(os.listdir(base)) if os.path.isdir(base) else []:
        if name.startswith("!go!m!n!i!s!t@"):
            return os.path.join(base, name, "data")
    raise SystemExit("MNIST not found: set MNIST_DIR to a folder with train-images-idx3-ubyte.gz")


def load_mnist(dtype):
    with gzip.open(os.path.join(mnist_dir(), "train-images-idx3-ubyte.gz"), "rb") as f:
        data = f.read()
    n, rows, cols = struct.unpack(">III", data[4:16])
    x = np.frombuffer(data, dtype=np.uint8, offset=16).reshape(n, rows * cols)
    return x.astype(dtype) / dtype(255.0)


def blas_info():
    try:
        from threadpoolctl import threadpool_info
        return "; ".join("%s %s (%s, arch=%s, threads=%s)" % (
            d.get("internal_api"), d.get("version"), os.path.basename(d.get("filepath", "")),
            d.get("architecture"), d.get("num_threads")) for d in threadpool_info()) or "unknown"
    except Exception as e:  # threadpoolctl missing
        return "unknown (%s)" % e


def cpu_s():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def epoch_numpy(W, b, c, X, rng, dt):
    """One epoch of the textbook CD-1 loop (the 15-line version)."""
    a = dt(LR / BATCH)
    for i in range(0, X.shape[0], BATCH):
        v0 = X[i:i + BATCH]
        h0p = 1.0 / (1.0 + np.exp(-(v0 @ W + c)))
        h0 = (rng.random(h0p.shape, dtype=dt) < h0p).astype(dt)
        v1 = 1.0 / (1.0 + np.exp(-(h0 @ W.T + b)))
        h1p = 1.0 / (1.0 + np.exp(-(v1 @ W + c)))
        W += a * (v0.T @ h0p - v1.T @ h1p)
        b += a * (v0.sum(0) - v1.sum(0))
        c += a * (h0p.sum(0) - h1p.sum(0))


def run_numpy(args):
    dt = np.dtype(args.dtype).type
    X = load_mnist(dt)
    runs, cpu = [], []
    for r in range(args.repeats):
        rng = np.random.default_rng(r)
        W = (0.01 * rng.standard_normal((N_VIS, N_HID))).astype(dt)
        b, c = np.zeros(N_VIS, dt), np.zeros(N_HID, dt)
        t0, c0 = time.perf_counter(), cpu_s()
        epoch_numpy(W, b, c, X, rng, dt)
        runs.append(time.perf_counter() - t0)
        cpu.append(cpu_s() - c0)
    return {"bench": "numpy_cd1_epoch", "dtype": args.dtype, "sec_per_epoch_runs": runs, "cpu_sec_per_epoch_runs": cpu}


def run_sklearn(args):
    import sklearn
    from sklearn.neural_network import BernoulliRBM
    dt = np.dtype(args.dtype).type
    X = load_mnist(dt)
    runs, cpu = [], []
    for r in range(args.repeats):
        rbm = BernoulliRBM(n_components=N_HID, batch_size=BATCH, learning_rate=LR, n_iter=1,
                           random_state=r, verbose=0)
        t0, c0 = time.perf_counter(), cpu_s()
        rbm.fit(X)
        runs.append(time.perf_counter() - t0)
        cpu.append(cpu_s() - c0)
        if rbm.components_.dtype != dt:
            raise SystemExit("sklearn %s trained in %s, not %s" % (sklearn.__version__, rbm.components_.dtype, dt))
    return {"bench": "sklearn_pcd1_epoch", "dtype": args.dtype, "sklearn": sklearn.__version__,
            "sec_per_epoch_runs": runs, "cpu_sec_per_epoch_runs": cpu}


# The five products of a CD-1 step: (label, m, k, n, transpose A, transpose B).
SHAPES = [
    ("v@W", BATCH, N_VIS, N_HID, False, False),
    ("h@W^T", BATCH, N_HID, N_VIS, False, True),
    ("v1@W", BATCH, N_VIS, N_HID, False, False),
    ("v0^T@h0", N_VIS, BATCH, N_HID, True, False),
    ("v1^T@h1", N_VIS, BATCH, N_HID, True, False),
]


def run_gemm(args):
    out = []
    rng = np.random.default_rng(0)
    for dt_name in ("float32", "float64"):
        dt = np.dtype(dt_name).type
        floor = 0.0
        rates = {}
        for label, m, k, n, ta, tb in SHAPES:
            A = rng.random((k, m) if ta else (m, k), dtype=dt)
            B = rng.random((n, k) if tb else (k, n), dtype=dt)
            A, B = (A.T if ta else A), (B.T if tb else B)
            C = np.empty((m, n), dtype=dt)
            np.matmul(A, B, out=C)
            best = float("inf")
            for _ in range(args.repeats):
                reps, t0 = 0, time.perf_counter()
                while True:
                    np.matmul(A, B, out=C)
                    reps += 1
                    dt_s = time.perf_counter() - t0
                    if dt_s > 0.2:
                        break
                best = min(best, dt_s / reps)
            rates[label] = 2.0 * m * n * k / best / 1e9
            floor += best * 600
        out.append({"bench": "gemm", "dtype": dt_name, "gflops": rates,
                    "cd1_epoch_gemm_floor_sec": floor,
                    "cd1_gemm_gflops": 5 * 2.0 * BATCH * N_VIS * N_HID * 600 / floor / 1e9})
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("contender", choices=["numpy", "sklearn", "gemm"])
    ap.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    recs = {"numpy": run_numpy, "sklearn": run_sklearn, "gemm": run_gemm}[args.contender](args)
    for rec in recs if isinstance(recs, list) else [recs]:
        for key in ("sec_per_epoch", "cpu_sec_per_epoch"):
            if key + "_runs" in rec:
                runs = sorted(rec[key + "_runs"])
                rec[key + "_median"] = runs[len(runs) // 2] if len(runs) % 2 else (runs[len(runs) // 2 - 1] + runs[len(runs) // 2]) / 2
        rec.update({"blas": blas_info(), "threads": THREADS,
                    "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE", "(auto)"),
                    "numpy": np.__version__, "peak_rss_mb": peak_rss_mb()})
        print(json.dumps(rec, sort_keys=True), flush=True)


if __name__ == "__main__":
    sys.exit(main())
