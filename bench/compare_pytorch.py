#!/usr/bin/env python3
"""Runs the AR1 workloads in PyTorch and in ar1 on this machine and prints one table.

PyTorch comes from a virtual environment outside the build (bench/make_torch_venv.sh); builds
and tests never need it. Every measurement runs in a fresh process with the same thread
count, PyTorch and ar1 interleaved, several processes each; the median is reported.

PyTorch configurations (MobileNetV1 of SPEC.md section 1, 50 classes):
  eager_brn        BatchReNorm written in plain torch ops to SPEC.md (the way Avalanche runs it)
  eager_bn         nn.BatchNorm2d (not the algorithm: the fastest thing PyTorch does here)
  compiled_brn     torch.compile of the BatchReNorm net (compile time reported apart)
each also with channels_last ("_cl"). --precision bf16 compares ar1's "/bf16" workloads (bf16
convolutions, f32 master weights) with
  autocast_brn     torch.compile of the BatchReNorm net under torch.autocast("cpu",
                   dtype=torch.bfloat16) (forward and loss; backward outside, as PyTorch advises)
and autocast_brn_cl; --precision both prints the f32 table, then the bf16 one. PyTorch runs with glibc malloc tuned
(GLIBC_TUNABLES=glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=17179869184); the untuned
eager_brn figure is printed beside it.

Workloads (batch 128): train_step_exp0 (whole net, forward + backward + SGD), ar1_inc_step
(21 new images through frozen lat_features, 107 replayed latents, end_features + output
forward/backward, SGD), eval_fwd (128 images, no grad).

  bench/make_torch_venv.sh                # once: ~/.cache/ar1-torch-venv
  bench/compare_pytorch.py --threads 2 --size 128 --repeats 3

--device cuda: the same workloads on GPU 0, every step followed by a synchronisation on both
sides. PyTorch configurations there: eager_brn, eager_bn, compiled_brn (torch.compile mode
max-autotune-no-cudagraphs), graphs_brn (mode reduce-overhead, which replays CUDA graphs), each
also with channels_last; ar1 runs its /cuda_graph benchmarks (its default) and /cuda (eager
launches) beside them. --tf32 off (default) runs fp32 with TF32 off on both sides
(torch.backends.*.allow_tf32 False; ar1 without AR1_CUDA_TF32), on with it on both sides, both
prints one table for each. The system python3 of a GPU server usually has torch:
  bench/compare_pytorch.py --device cuda --python python3 --repeats 1 --iterations 20
--timeout S ends a PyTorch process (a slow max-autotune) after S seconds, its cell reading
"t/o"; --deadline T (seconds since the epoch) starts no process after T ("skip").
--portable also times ar1 with its portable CPU kernels (the "/portable" benchmarks, as
`ar1 train --cpu-kernels portable`) in the same rounds: the "portable ms" and "x BRN portable"
columns, and its share of peak in the note.
"""
import argparse
import json
import os
import statistics
import math
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
WORKLOADS = ["train_step_exp0", "ar1_inc_step", "eval_fwd"]
CONFIGS = ["eager_brn", "eager_bn", "compiled_brn",
           "eager_brn_cl", "eager_bn_cl", "compiled_brn_cl"]
CUDA_CONFIGS = ["eager_brn", "eager_bn", "compiled_brn", "graphs_brn",
                "eager_brn_cl", "eager_bn_cl", "compiled_brn_cl", "graphs_brn_cl"]
BF16_CONFIGS = ["autocast_brn", "autocast_brn_cl"]
COMPILE_MODES = {"compiled": "max-autotune-no-cudagraphs", "graphs": "reduce-overhead",
                 "autocast": "max-autotune-no-cudagraphs"}
TUNED = "glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=17179869184"


# ---------------------------------------------------------------- PyTorch side (worker)

def build_model(torch, nn, use_brn, num_classes=50, alpha=1.0, latent_layer_num=19):
    class BatchReNorm2d(nn.Module):
        """SPEC.md section 2 in plain torch ops (r and d are constants for autograd)."""

        def __init__(self, c, momentum=0.01, r_max=1.25, d_max=0.5, eps=1e-5):
            super().__init__()
            self.gamma = nn.Parameter(torch.ones(c))
            self.beta = nn.Parameter(torch.zeros(c))
            self.register_buffer("running_mean", torch.zeros(c))
            self.register_buffer("running_std", torch.ones(c))
            self.momentum, self.r_max, self.d_max, self.eps = momentum, r_max, d_max, eps

        def forward(self, x):
            shape = (1, -1, 1, 1)
            if self.training:
                mean = x.mean(dim=(0, 2, 3))
                std = torch.sqrt(x.var(dim=(0, 2, 3), unbiased=False) + self.eps)
                r = (std.detach() / self.running_std).clamp(1 / self.r_max, self.r_max)
                d = ((mean.detach() - self.running_mean) / self.running_std).clamp(
                    -self.d_max, self.d_max)
                xh = (x - mean.view(shape)) / std.view(shape) * r.view(shape) + d.view(shape)
                with torch.no_grad():
                    self.running_mean += self.momentum * (mean.detach() - self.running_mean)
                    self.running_std += self.momentum * (std.detach() - self.running_std)
            else:
                xh = (x - self.running_mean.view(shape)) / self.running_std.view(shape)
            return self.gamma.view(shape) * xh + self.beta.view(shape)

    def block(cin, cout, stride, groups, k):
        norm = BatchReNorm2d(cout) if use_brn else nn.BatchNorm2d(cout)
        return nn.Sequential(nn.Conv2d(cin, cout, k, stride, k // 2, groups=groups, bias=False),
                             norm, nn.ReLU(inplace=not use_brn))

    layers, c = [block(3, int(32 * alpha), 2, 1, 3)], int(32 * alpha)
    for stride, out in [(1, 64), (2, 128), (1, 128), (2, 256), (1, 256), (2, 512), (1, 512),
                        (1, 512), (1, 512), (1, 512), (1, 512), (2, 1024), (1, 1024)]:
        layers.append(block(c, c, stride, c, 3))
        layers.append(block(c, int(out * alpha), 1, 1, 1))
        c = int(out * alpha)
    layers.append(nn.AdaptiveAvgPool2d(1))

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.lat_features = nn.Sequential(*layers[:latent_layer_num + 1])
            self.end_features = nn.Sequential(*layers[latent_layer_num + 1:])
            self.output = nn.Linear(c, num_classes, bias=False)

        def head(self, z):
            return self.output(self.end_features(z).flatten(1))

        def forward(self, x):
            return self.head(self.lat_features(x))

    return Net()


def worker(config, workload, size, iterations, device="cpu", tf32=False):
    import contextlib
    import resource
    import torch
    import torch.nn as nn
    torch.manual_seed(0)
    dev = torch.device(device)
    cuda = dev.type == "cuda"
    if cuda:
        torch.backends.cuda.matmul.allow_tf32 = tf32
        torch.backends.cudnn.allow_tf32 = tf32
        torch.backends.cudnn.benchmark = True  # PyTorch's fastest convolution choice

    def sync():
        if cuda:
            torch.cuda.synchronize()

    def amp():
        """bf16 autocast around forward passes for the autocast_* configurations."""
        if config.startswith("autocast"):
            return torch.autocast(dev.type, dtype=torch.bfloat16)
        return contextlib.nullcontext()

    use_brn = "brn" in config
    net = build_model(torch, nn, use_brn)
    fmt = torch.channels_last if config.endswith("_cl") else torch.contiguous_format
    net = net.to(device=dev, memory_format=fmt)
    opt = torch.optim.SGD(net.parameters(), lr=1e-3, momentum=0.9, weight_decay=5e-4)
    x = torch.randn(128, 3, size, size, device=dev).to(memory_format=fmt)
    y = torch.randint(0, 50, (128,), device=dev)
    loss_fn = nn.CrossEntropyLoss()

    def freeze_lat_features(sample):
        """AR1 after the first experience: lat_features frozen in eval mode. Returns the
        latent shape."""
        net.train()
        net.lat_features.eval()
        for p in net.lat_features.parameters():
            p.requires_grad_(False)
        with torch.no_grad():
            return net.lat_features(sample[:1]).shape[1:]

    def inc_step(inp, replayed, target):
        """New images through the frozen lat_features, joined by replayed latents."""
        opt.zero_grad(set_to_none=True)
        with torch.no_grad(), amp():
            lat = net.lat_features(inp)
        with amp():
            loss = loss_fn(net.head(torch.cat([lat.float(), replayed])), target)
        loss.backward()
        opt.step()
        return loss

    if workload == "train_step_exp0":
        net.train()
        net.lat_features.eval()
        def step_fn(inp, target):
            opt.zero_grad(set_to_none=True)
            with amp():
                loss = loss_fn(net(inp), target)
            loss.backward()
            opt.step()
            return loss
        args = (x, y)
    elif workload == "ar1_inc_step":
        latent_shape = freeze_lat_features(x)
        replay = torch.randn(107, *latent_shape).to(memory_format=fmt)
        step_fn = inc_step
        args = (x[:21], replay, y)
    elif workload == "nic_experience":
        # One NICv2-391-style experience as Avalanche's AR1 runs it with lat_features frozen:
        # 300 new images, rm_sz 1500, 4 epochs of 15 iterations (21 new + 107 replayed; the
        # last batch has 6 new), lat_features recomputed every epoch (no latent cache), then
        # the kept images' latents recomputed for the memory.
        images = torch.randn(300, 3, size, size, device=dev).to(memory_format=fmt)
        labels = torch.randint(0, 50, (300,), device=dev)
        latent_shape = freeze_lat_features(images)
        memory = torch.randn(1500, *latent_shape, device=dev).to(memory_format=fmt)
        memory_y = torch.randint(0, 50, (1500,), device=dev)

        def run_experience(step):
            for _ in range(4):
                perm = torch.randperm(300, device=dev)
                for it in range(15):
                    idx = perm[it * 21:(it + 1) * 21]
                    rows = slice((it * 107) % 1393, (it * 107) % 1393 + 107)
                    step(images[idx], memory[rows], torch.cat([labels[idx], memory_y[rows]]))
            with torch.no_grad():
                memory[:300] = net.lat_features(images)

        step_fn, args = inc_step, ()
    else:
        net.eval()
        def step_fn(inp):
            with torch.no_grad(), amp():
                return net(inp)
        args = (x,)

    def compiled(fn):
        kind = config.split("_")[0]
        if kind not in COMPILE_MODES:
            return fn
        # On the CPU "compiled" is torch.compile's default mode, as before.
        return torch.compile(fn, mode=COMPILE_MODES[kind] if cuda else None)

    def result(times, compile_s):
        memory = (torch.cuda.max_memory_allocated() / 2**20 if cuda
                  else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
        print(json.dumps({"ms": 1e3 * statistics.median(times), "compile_s": compile_s,
                          "rss_mib": memory}))

    compile_s = 0.0
    is_compiled = config.split("_")[0] in COMPILE_MODES
    if workload == "nic_experience":
        step = compiled(step_fn)
        start = time.perf_counter()
        run_experience(step)  # warm-up; compiles both batch shapes where compiled
        sync()
        compile_s = time.perf_counter() - start if is_compiled else 0.0
        times = []
        for _ in range(iterations):
            start = time.perf_counter()
            run_experience(step)
            sync()
            times.append(time.perf_counter() - start)
        result(times, compile_s)
        return
    if is_compiled:
        start = time.perf_counter()
        step_fn = compiled(step_fn)
        step_fn(*args)  # the first call compiles
        sync()
        compile_s = time.perf_counter() - start
    for _ in range(3 if cuda else 1):  # warm-up (reduce-overhead records its graph here)
        step_fn(*args)
    sync()
    times = []
    for _ in range(iterations):
        start = time.perf_counter()
        step_fn(*args)
        sync()
        times.append(time.perf_counter() - start)
    result(times, compile_s)


# ---------------------------------------------------------------- driver

class TimedOut(Exception):
    pass


def run_measured(cmd, env, timeout=None):
    """Runs cmd; returns (stdout, peak RSS MiB of that process; nan with a timeout)."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    if timeout is not None:
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            raise TimedOut(" ".join(cmd))
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed:\n{err.decode()[-2000:]}")
        return out.decode(), float("nan")
    out = proc.stdout.read().decode()
    err = proc.stderr.read().decode()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{err[-2000:]}")
    return out, usage.ru_maxrss / 1024


def torch_once(python, config, workload, size, threads, iterations, tuned, device="cpu",
               tf32=False, timeout=None):
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    if tuned:
        env["GLIBC_TUNABLES"] = TUNED
    cmd = [python, __file__, "--worker", config, workload, str(size), str(iterations),
           "--threads", str(threads), "--device", device, "--tf32", "on" if tf32 else "off"]
    out, rss = run_measured(cmd, env, timeout)
    result = json.loads(out.strip().splitlines()[-1])
    if device == "cpu":
        result["rss_mib"] = max(result["rss_mib"], rss)
    return result


def ar1_benchmark_name(workload, size, latent_cache=True):
    if workload == "nic_experience":  # frozen lat_features, as the PyTorch side runs it
        return f"nic_experience/{size}/freeze_norm:1/latent_cache:{int(latent_cache)}"
    return f"{workload}/{size}"


def ar1_once(bench, workload, size, threads, latent_cache=True, place="", tf32=False):
    """place: "" (the CPU), "/cuda" or "/cuda_graph"."""
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    if tf32:
        env["AR1_CUDA_TF32"] = "1"
    name = ar1_benchmark_name(workload, size, latent_cache) + place
    out, rss = run_measured([bench, f"--benchmark_filter=^{name}(/iterations:1)?(/real_time)?$",
                             "--benchmark_format=json"], env)
    try:
        data = json.loads(out)
    except ValueError:
        data = {"benchmarks": []}
    if not data["benchmarks"]:
        hint = (" (its GPU benchmarks exist only where it finds a GPU, in a CUDA build)"
                if place else "")
        raise SystemExit(f"compare_pytorch: {bench} has no benchmark {name}{hint}")
    b = data["benchmarks"][0]
    scale = {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1e3}[b.get("time_unit", "ns")]
    peak = data.get("context", {}).get("fma_peak_gflops")
    return {"ms": b["real_time"] * scale, "rss_mib": rss, "pct_fma": b.get("pct_fma"),
            "peak_gflops": float(peak) if peak else None}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--worker", nargs=4, metavar=("CONFIG", "WORKLOAD", "SIZE", "ITERS"))
    ap.add_argument("--python", default=None,
                    help="PyTorch's interpreter (default: ~/.cache/ar1-torch-venv/bin/python "
                         "on the CPU, python3 with --device cuda)")
    ap.add_argument("--bench", default=os.path.join(ROOT, "build/bench/ar1_bench_workloads"))
    ap.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    ap.add_argument("--tf32", choices=["off", "on", "both"], default="off",
                    help="--device cuda: TF32 tensor cores on both sides, or not")
    ap.add_argument("--portable", action="store_true",
                    help="CPU fp32: also time ar1's portable kernel set (its /portable benchmarks)")
    ap.add_argument("--precision", choices=["f32", "bf16", "both"], default="f32",
                    help="CPU: bf16 runs ar1's /bf16 workloads against the autocast_* "
                         "configurations")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--repeats", type=int, default=3, help="processes per configuration")
    ap.add_argument("--iterations", type=int, default=5, help="timed steps per process")
    ap.add_argument("--configs", default=None,
                    help="comma-separated (default: every configuration of the device and "
                         "precision; given, it applies to each precision printed)")
    ap.add_argument("--workloads", default=",".join(WORKLOADS),
                    help="also nic_experience (a whole experience: slow; PyTorch runs it "
                         "--iterations times after one warm-up experience)")
    ap.add_argument("--timeout", type=float, default=None, help="seconds per PyTorch process")
    ap.add_argument("--deadline", type=float, default=None,
                    help="start no process after this time (seconds since the epoch)")
    args = ap.parse_args()

    if args.worker:
        import torch
        torch.set_num_threads(args.threads)
        config, workload, size, iters = args.worker
        worker(config, workload, int(size), int(iters), args.device, args.tf32 == "on")
        return

    cuda = args.device == "cuda"
    python = args.python or ("python3" if cuda else
                             os.path.expanduser("~/.cache/ar1-torch-venv/bin/python"))
    if cuda and args.precision != "f32":
        raise SystemExit("compare_pytorch: --precision bf16 is for the CPU (ar1's bf16 "
                         "convolutions run there only)")
    for bf16 in {"f32": [False], "bf16": [True], "both": [False, True]}[args.precision]:
        default = BF16_CONFIGS if bf16 else CUDA_CONFIGS if cuda else CONFIGS
        configs = (args.configs or ",".join(default)).split(",")
        for tf32 in ([False, True] if args.tf32 == "both" else [args.tf32 == "on"]):
            if cuda or not tf32:
                compare(args, python, configs, tf32, bf16)


def late(args):
    return args.deadline is not None and time.time() > args.deadline


def compare(args, python, configs, tf32, bf16=False):
    cuda = args.device == "cuda"
    place = "/cuda_graph" if cuda else "/bf16" if bf16 else ""
    nan = float("nan")
    rows = []
    for workload in args.workloads.split(","):
        results = {c: [] for c in configs}
        ours, eager_ours, untuned, uncached, portable = [], [], [], [], []
        for _ in range(args.repeats):  # interleaved: one process of each per round
            for c in configs:
                if late(args):
                    results[c].append({"ms": nan, "compile_s": nan, "rss_mib": nan, "cell": "skip"})
                    continue
                try:
                    results[c].append(torch_once(python, c, workload, args.size, args.threads,
                                                 args.iterations, tuned=not cuda,
                                                 device=args.device, tf32=tf32,
                                                 timeout=args.timeout))
                except TimedOut:
                    results[c].append({"ms": nan, "compile_s": nan, "rss_mib": nan, "cell": "t/o"})
            if not cuda and not bf16:
                untuned.append(torch_once(python, "eager_brn", workload, args.size,
                                          args.threads, args.iterations, tuned=False))
            ours.append(ar1_once(args.bench, workload, args.size, args.threads,
                                 place=place, tf32=tf32))
            if cuda:
                eager_ours.append(ar1_once(args.bench, workload, args.size, args.threads,
                                           place="/cuda", tf32=tf32))
            if args.portable and not cuda and not bf16:
                portable.append(ar1_once(args.bench, workload, args.size, args.threads,
                                         place="/portable"))
            if workload == "nic_experience":
                uncached.append(ar1_once(args.bench, workload, args.size, args.threads,
                                         latent_cache=False, place=place, tf32=tf32))

        def median(values):
            values = [v for v in values if not math.isnan(v)]
            return statistics.median(values) if values else nan

        med = {c: median(r["ms"] for r in results[c]) for c in configs}
        cells = {c: next((r["cell"] for r in results[c] if "cell" in r), None) for c in configs}
        measured = {c: v for c, v in med.items() if not math.isnan(v)}
        brn = {c: v for c, v in measured.items() if "brn" in c}
        fastest_brn = min(brn, key=brn.get) if brn else None
        fastest_all = min(measured, key=measured.get) if measured else None
        ar1_ms = median(r["ms"] for r in ours)
        pct_fma = [r["pct_fma"] for r in ours if r["pct_fma"] is not None]
        rows.append({
            "workload": f"{workload}/{args.size}", "device": args.device, "tf32": tf32,
            "precision": "bf16" if bf16 else "f32",
            "torch_ms": med, "cells": cells,
            "untuned_eager_brn_ms": median(r["ms"] for r in untuned),
            "ar1_eager_launch_ms": median(r["ms"] for r in eager_ours),
            "ar1_uncached_ms": median(r["ms"] for r in uncached),
            "ar1_portable_ms": median(r["ms"] for r in portable),
            "portable_peak_fraction": median(r["pct_fma"] / 100 for r in portable
                                             if r["pct_fma"] is not None),
            "portable_rss_mib": max((r["rss_mib"] for r in portable), default=nan),
            "compile_s": {c: median(r["compile_s"] for r in results[c])
                          for c in configs if c.split("_")[0] in COMPILE_MODES},
            "fastest_brn": fastest_brn, "fastest_all": fastest_all, "ar1_ms": ar1_ms,
            "ratio_brn": med[fastest_brn] / ar1_ms if fastest_brn else nan,
            "ratio_all": med[fastest_all] / ar1_ms if fastest_all else nan,
            "ratio_eager_brn": med["eager_brn"] / ar1_ms if "eager_brn" in med else nan,
            "ratio_brn_portable": (med[fastest_brn] / median(r["ms"] for r in portable)
                                   if fastest_brn and portable else nan),
            "images_per_s": (300 if workload == "nic_experience" else 128) * 1e3 / ar1_ms,
            # ar1's own count against the FMA peak it measures at start-up (convs and linear).
            "peak_fraction": statistics.median(pct_fma) / 100 if pct_fma else nan,
            "peak_gflops": median(r["peak_gflops"] for r in ours
                                  if r["peak_gflops"] is not None),
            "rss_mib": {"ar1": max(r["rss_mib"] for r in ours),
                        **{c: max((r["rss_mib"] for r in results[c]), default=nan)
                           for c in configs}},
        })

    where = (("GPU 0, fp32 TF32 " + ("on" if tf32 else "off")) if cuda else
             f"{args.threads} threads, " + ("bf16 (ar1 /bf16, PyTorch autocast)" if bf16 else "fp32"))
    print(f"\n{where}, {args.repeats} processes each, median of {args.iterations} steps per "
          "process" + ("; ar1: CUDA graphs (its default), eager launches in the note" if cuda else ""))
    with_portable = any(not math.isnan(r["ar1_portable_ms"]) for r in rows)
    header = ["workload"] + configs + ["fastest BRN", "ar1 ms", "x BRN", "x all", "x eager",
                                       "img/s", "% peak",
                                       "GPU MiB ar1/fastest" if cuda else "RSS ar1/fastest MiB"]
    if with_portable:
        header += ["portable ms", "x BRN portable"]
    print(" | ".join(header))
    for r in rows:
        cells = [r["workload"]] + [r["cells"][c] or f"{r['torch_ms'][c]:.1f}" for c in configs]
        fb = r["fastest_brn"]
        cells += [fb or "-", f"{r['ar1_ms']:.2f}", f"{r['ratio_brn']:.2f}",
                  f"{r['ratio_all']:.2f}", f"{r['ratio_eager_brn']:.2f}",
                  f"{r['images_per_s']:.0f}", f"{100 * r['peak_fraction']:.0f}",
                  f"{r['rss_mib']['ar1']:.0f}/{r['rss_mib'][fb]:.0f}" if fb else "-"]
        if with_portable:
            cells += [f"{r['ar1_portable_ms']:.2f}", f"{r['ratio_brn_portable']:.2f}"]
        print(" | ".join(cells))
        notes = ["compile " + ", ".join(f"{c} {s:.1f} s" for c, s in r["compile_s"].items())
                 ] if r["compile_s"] else []
        if not math.isnan(r["untuned_eager_brn_ms"]):
            notes.insert(0, f"untuned malloc eager_brn {r['untuned_eager_brn_ms']:.1f} ms")
        if not math.isnan(r["ar1_eager_launch_ms"]):
            notes.append(f"ar1 eager launches {r['ar1_eager_launch_ms']:.2f} ms")
        if not math.isnan(r["ar1_uncached_ms"]):
            notes.append(f"ar1 without the latent cache {r['ar1_uncached_ms']:.1f} ms")
        if not math.isnan(r["ar1_portable_ms"]):
            notes.append(f"portable: {100 * r['portable_peak_fraction']:.0f} % peak, RSS "
                         f"{r['portable_rss_mib']:.0f} MiB")
        print("    " + "; ".join(notes))
    peaks = [r["peak_gflops"] for r in rows if not math.isnan(r["peak_gflops"])]
    if peaks and not cuda:
        print(f"% peak: ar1's convolutions and linear layer against the fp32 FMA peak its "
              f"benchmark measured ({min(peaks):.0f}-{max(peaks):.0f} GFLOP/s on "
              f"{args.threads} threads)")
    if any(r["peak_fraction"] > 1 or r["portable_peak_fraction"] > 1 for r in rows):
        print("compare_pytorch: a share of peak above 100 % means a wrong peak or FLOP count",
              file=sys.stderr)
    print(json.dumps(rows, indent=1), file=sys.stderr)


if __name__ == "__main__":
    main()
