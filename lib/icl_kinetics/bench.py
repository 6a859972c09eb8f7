"""Throughput of the ensembled trainer against a naive loop and this machine's roofline.

``python -m icl_kinetics bench`` measures, for the one-layer transformer and the minimal model at the paper
size and at the cpu-profile size, model-steps per second (one member trained one SGD step) of

* the ensembled trainer (``train.train``) with E = 1, 8, 32 members at once, with exact K = infinity sampling
  (fresh Gaussian items) and with the pool sampler (``RunConfig.pool``, fresh labels on pool items);
* a naive loop over E plain single ``nn.Module`` models (stock layers, ``torch.optim.SGD``, fresh items);
* the roofline: the larger of FLOPs / measured matmul rate and compulsory bytes / measured memory bandwidth.

Bytes are counted as the traffic no implementation can avoid, per member and step: the sampled items written
once and read once (2 x B x N x D x 4 bytes) and the parameters read in the forward pass, read in the backward
pass, their gradient written, and read and written by the update (5 x parameters x 4 bytes). Random-number
generation and every intermediate tensor are left out, so the roofline is a floor no real step reaches.

Rows go to ``results/bench/<device>.json`` and a text table beside it (``<device>.txt``).
"""
from __future__ import annotations

import json
import os
import platform
import re
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from . import data, models, store
from .files import write_bytes
from .catalog import CPU, PAPER
from .store import REPO_ROOT
from .train import RunConfig, pick_device, train

SIZES = {name: {k: p[k] for k in ("D", "N", "width", "batch")} for name, p in (("paper", PAPER), ("cpu", CPU))}
POOL = 2**14  # pool size of the pooled sampler rows (16,384 items x D floats: cache-sized at paper D)


def matmul_flops(device, n: int = 1024, seconds: float = 1.0, dtype=torch.float32) -> float:
    """Measured matmul rate (FLOP/s) on square n x n matrices of `dtype` (float32; bfloat16 for the bf16
    roofline)."""
    a = torch.randn(n, n, device=device, dtype=dtype)
    b = torch.randn(n, n, device=device, dtype=dtype)
    a @ b
    reps, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        a @ b
        reps += 1
    if device.type == "cuda":
        torch.cuda.synchronize()
    return 2 * n**3 * reps / (time.perf_counter() - t0)


def memory_bandwidth(device, mbytes: int = 256, seconds: float = 1.0) -> float:
    """Measured copy bandwidth (bytes/s: read + write) of a buffer far larger than the caches."""
    a = torch.empty(mbytes * 2**20 // 4, device=device).fill_(1.0)
    b = torch.empty_like(a)
    b.copy_(a)
    reps, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        b.copy_(a)
        reps += 1
    if device.type == "cuda":
        torch.cuda.synchronize()
    return 2 * a.numel() * 4 * reps / (time.perf_counter() - t0)


def n_params(model: str, D: int, width: int) -> int:
    return sum(p[0].numel() for p in models.build(model, 1, D, width, (0,)).parameters())


def step_flops(model: str, D: int, N: int, width: int, batch: int = 128) -> float:
    """Matmul FLOPs of one training step of one model (forward + backward ~ 3x forward).

    The MLP on the target; the transformer's attention as models.OneLayerTransformer computes it (the
    target's query: three W x W products per sequence, two contractions over the N items); the minimal model's
    similarities (one contraction over the N items)."""
    d_in = D + 2 if model.startswith("transformer") else D
    mlp = 2 * batch * (d_in * width + width * width + width)
    W = D + 2
    attn = 2 * batch * (3 * W * W + 2 * N * W) if model == "transformer1" else 2 * batch * N * D
    return 3.0 * (mlp + attn)


def step_bytes(model: str, D: int, N: int, width: int, batch: int = 128) -> float:
    """Compulsory bytes of one training step of one model (see the module docstring)."""
    return 4.0 * (2 * batch * N * D + 5 * n_params(model, D, width))


def _time_ensemble(model, size, E, steps, device, pool=0, repeats=3, precision="fp32"):
    """Model-steps per second of train(): the difference of the fastest of `repeats` 3n-step runs and the fastest
    n-step run cancels the fixed cost (building the ensemble, the evaluations at the start and the end); taking
    the fastest of several runs discounts other work on the machine."""
    def timed(n):
        cfg = RunConfig(model=model, Ks=(None,) * E, seeds=tuple(range(E)), wd_attn=(0.0,) * E, steps=n,
                        eval_every=n, n_eval=8, evals=("icl",), pool=pool, precision=precision, **size)
        t0 = time.perf_counter()
        train(cfg, device=device, progress=False)
        if device.type == "cuda":
            torch.cuda.synchronize()
        return time.perf_counter() - t0

    timed(2)  # warm-up (allocations, kernels)
    short = min(timed(steps) for _ in range(repeats))
    long = min(timed(3 * steps) for _ in range(repeats))
    if long <= short:
        raise RuntimeError(f"timing of {model} E={E} is dominated by noise ({long:.3f} s for {3 * steps} steps, "
                           f"{short:.3f} s for {steps}); run the benchmark on a quiet machine or with more --steps")
    return E * 2 * steps / (long - short)


def _time_naive(model, size, E, steps, device):
    """A loop over E plain single models, each with its own torch.optim.SGD, fresh items sampled on the device."""
    D, N, width, batch = size["D"], size["N"], size["width"], size["batch"]
    nets, opts = [], []
    for e in range(E):
        if model == "transformer1":
            net = models.PlainOneLayerTransformer(D, width).to(device)
        else:
            net = models.build("minimal", 1, D, width, (e,)).to(device)
        nets.append(net)
        opts.append(torch.optim.SGD(net.parameters(), lr=0.01))
    bank = data.ItemBank.create((None,), D, (0,), device=device)
    g = torch.Generator(device=device).manual_seed(0)

    def one_round():
        for net, opt in zip(nets, opts):
            x, lab = data.sample_train(bank, batch, N, g)
            if model == "transformer1":
                z = net(models.tokens(x, lab, one_hot=True)[0])[None]
            else:
                z = net(x, lab)
            loss = F.softplus(-lab[:, :, -1] * z).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()

    one_round()
    return E * steps / _fastest(one_round, steps, device)  # the fastest of three timings, as for the ensemble


def _fastest(fn, steps: int, device, repeats: int = 3) -> float:
    """Seconds of the fastest of `repeats` timings of `steps` calls of `fn` (CUDA work waited for)."""
    def timed():
        t0 = time.perf_counter()
        for _ in range(steps):
            fn()
        if device.type == "cuda":
            torch.cuda.synchronize()
        return time.perf_counter() - t0
    return min(timed() for _ in range(repeats))


def _time_forward_backward(net, x, lab, steps: int, device) -> float:
    """Steps per second of the ensemble's forward and backward on one fixed batch (no sampling, no update: the
    part of a step that torch.compile can change), the fastest of three timings after two warm-up calls."""
    def one():
        z = net(x, lab)  # (E, B)
        F.softplus(-lab[:, :, -1] * z).mean(1).sum().backward()
    one(), one()  # warm-up; for a compiled module, the compilation
    return steps / _fastest(one, steps, device)


def compile_trial(model: str, size_name: str, E: int = 8, steps: int = 10, device: str | None = None) -> dict:
    """torch.compile of the ensemble's forward (and so its backward) against eager, at one model, size and E:
    model-steps per second of both, or the compile error in one line (a machine without a working compiler
    toolchain still gets its row)."""
    device = pick_device(device)
    size = SIZES[size_name]
    D, N, width, batch = size["D"], size["N"], size["width"], size["batch"]
    net = models.build(model, E, D, width, tuple(range(E))).to(device)
    bank = data.ItemBank.create((None,) * E, D, tuple(range(E)), device=device)
    x, lab = data.sample_train(bank, batch, N, torch.Generator(device=device).manual_seed(0))  # (E, B, N, D)
    eager = E * _time_forward_backward(net, x, lab, steps, device)
    row = dict(device=device_name(device), model=model, size=size_name, E=E, eager_model_steps_per_s=eager)
    try:
        compiled = E * _time_forward_backward(torch.compile(net), x, lab, steps, device)
    except Exception as e:  # noqa: BLE001 -- any failure of the compiler is the trial's result, not a crash
        return dict(row, compiled_model_steps_per_s=None, error=f"{type(e).__name__}: {str(e).splitlines()[0][:200]}")
    return dict(row, compiled_model_steps_per_s=compiled, speedup=compiled / eager)


def device_name(device) -> str:
    """'cpu-2core' or the CUDA device's name as a file-name slug (e.g. 'nvidia-h100-80gb-hbm3')."""
    if device.type == "cuda":
        return re.sub(r"[^a-z0-9]+", "-", torch.cuda.get_device_name(device).lower()).strip("-")
    return f"cpu-{os.cpu_count()}core"


def check_args(steps, members=(1, 8, 32), sizes=("paper", "cpu")) -> None:
    """ValueError for arguments the benchmark cannot use (called before anything is timed)."""
    if not isinstance(steps, int) or isinstance(steps, bool) or not 1 <= steps <= 100_000:
        raise ValueError(f"steps={steps!r}: must be an integer from 1 to 100000")
    if not members or any(not isinstance(E, int) or isinstance(E, bool) or E < 1 for E in members):
        raise ValueError(f"members={members!r}: must be positive integers")
    bad = [s for s in sizes if s not in SIZES]
    if not sizes or bad:
        raise ValueError(f"sizes={sizes!r}: choose from {', '.join(SIZES)}")


def check_out(out) -> Path | None:
    """The folder the benchmark will write to (created if missing; None for `out=False`), or ValueError /
    ResultsError before anything is timed: an empty path, or a folder that cannot be written."""
    if out is False:
        return None
    if out is not None and not str(out).strip():
        raise ValueError("--out '': an empty path; leave --out out for results/bench")
    return store.check_writable(Path(out) if out else REPO_ROOT / "results" / "bench")


def run(device=None, steps: int = 40, members=(1, 8, 32), sizes=("paper", "cpu"), out=None,
        compile_trials: bool = False) -> list[dict]:
    """Time every configuration, print the table and write it (json and txt) under `out` (default
    results/bench/; None-like `out=False` writes nothing). Each row has the fp32 and the bf16 (autocast,
    ``RunConfig.precision``) rate with exact sampling beside the fp32 and the bf16 roofline. `compile_trials`
    adds :func:`compile_trial` at E = 8 for every model and size (its own table; minutes of compiling)."""
    check_args(steps, members, sizes)
    d = check_out(out)
    device = pick_device(device)
    flops, bandwidth = matmul_flops(device), memory_bandwidth(device)
    flops16 = matmul_flops(device, dtype=torch.bfloat16)
    name = device_name(device)
    lines = [f"device {name} ({platform.processor() or platform.machine()}), torch {torch.__version__}, "
             f"{torch.get_num_threads()} threads; matmul {flops / 1e9:.1f} GFLOP/s (bf16 {flops16 / 1e9:.1f}), "
             f"copy {bandwidth / 1e9:.1f} GB/s",
             "model-steps per second (exact: fresh items; pool: pool sampler, 2^14 items, fresh labels; bf16: "
             "exact under bf16 autocast; roof16: the roofline at the bf16 matmul rate)",
             f"{'model':<13}{'size':<7}{'E':>4}{'exact':>9}{'pool':>9}{'naive':>9}{'bf16':>9}{'roofline':>10}"
             f"{'roof16':>9}{'roof/pool':>10}{'pool/naive':>11}"]
    print("\n".join(lines), flush=True)
    rows = []
    for model in ("transformer1", "minimal"):
        for size_name in sizes:
            size = SIZES[size_name]
            flops, bandwidth = matmul_flops(device), memory_bandwidth(device)  # again: the machine's speed drifts
            flops16 = matmul_flops(device, dtype=torch.bfloat16)
            roof = min(flops / step_flops(model, **size), bandwidth / step_bytes(model, **size))
            roof16 = min(flops16 / step_flops(model, **size), bandwidth / step_bytes(model, **size))
            for E in members:
                n = max(5, steps // E) if size_name == "paper" and device.type == "cpu" else steps
                exact = _time_ensemble(model, size, E, n, device)
                pooled = _time_ensemble(model, size, E, n, device, pool=POOL)
                naive = _time_naive(model, size, min(E, 8), max(2, n // 4), device)
                bf16 = _time_ensemble(model, size, E, n, device, precision="bf16")
                rows.append(dict(device=name, model=model, size=size_name, E=E, model_steps_per_s=pooled,
                                 exact_model_steps_per_s=exact, naive_model_steps_per_s=naive,
                                 bf16_model_steps_per_s=bf16, roofline_model_steps_per_s=roof,
                                 flop_floor=flops / step_flops(model, **size),
                                 byte_floor=bandwidth / step_bytes(model, **size),
                                 roofline_bf16_model_steps_per_s=roof16,
                                 bf16_flop_floor=flops16 / step_flops(model, **size)))
                line = (f"{model:<13}{size_name:<7}{E:>4}{exact:>9.1f}{pooled:>9.1f}{naive:>9.1f}{bf16:>9.1f}"
                        f"{roof:>10.1f}{roof16:>9.1f}{roof / pooled:>10.2f}{pooled / naive:>11.2f}")
                lines.append(line)
                print(line, flush=True)
    trials = []
    if compile_trials:
        lines.append("torch.compile of the forward + backward, E = 8, model-steps per second")
        for model in ("transformer1", "minimal"):
            for size_name in sizes:
                t = compile_trial(model, size_name, 8, max(2, steps // 4), device)
                trials.append(t)
                lines.append(f"{model:<13}{size_name:<7} eager {t['eager_model_steps_per_s']:9.1f}  " + (
                    f"compiled {t['compiled_model_steps_per_s']:9.1f}  x{t['speedup']:.2f}" if "speedup" in t
                    else f"compile failed: {t['error']}"))
                print(lines[-1], flush=True)
    if d is not None:
        meta = dict(device=name, torch=torch.__version__, threads=torch.get_num_threads(), matmul_flops=flops,
                    matmul_bf16_flops=flops16, copy_bytes_per_s=bandwidth, steps=steps, pool=POOL,
                    date=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
        doc = {"meta": meta, "rows": rows} | ({"compile": trials} if trials else {})
        write_bytes(d / f"{name}.json", (json.dumps(doc, indent=1) + "\n").encode())
        write_bytes(d / f"{name}.txt", ("\n".join(lines) + "\n").encode())
        print(f"wrote {d / name}.json and .txt")
    return rows
