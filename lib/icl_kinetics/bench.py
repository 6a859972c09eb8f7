"""Throughput of the ensembled trainer against a naive loop over plain models and this machine's FLOP floor.

``python -m icl_kinetics bench`` prints, for the one-layer transformer and the minimal model at the paper
size and at the cpu-profile size, model-steps per second for E = 1, 8, 32 members trained at once, for a
naive loop over plain single ``nn.Module`` models with ``torch.optim.SGD``, and the floor implied by the
measured matmul rate (FLOPs of one training step / measured FLOP/s).
"""
from __future__ import annotations

import time

import torch
import torch.nn.functional as F

from . import data, models
from .train import RunConfig, pick_device, train

SIZES = {"paper": dict(D=63, N=100, width=512), "cpu": dict(D=31, N=20, width=128)}


def matmul_flops(device, n: int = 1024, seconds: float = 1.0) -> float:
    """Measured float32 matmul rate (FLOP/s) on square n x n matrices."""
    a = torch.randn(n, n, device=device)
    b = torch.randn(n, n, device=device)
    a @ b
    reps, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        a @ b
        reps += 1
    if device.type == "cuda":
        torch.cuda.synchronize()
    return 2 * n**3 * reps / (time.perf_counter() - t0)


def step_flops(model: str, D: int, N: int, width: int, batch: int = 128) -> float:
    """Matmul FLOPs of one training step of one model as we compute it (forward + backward ~ 3x forward).

    The MLP dominates; the transformer's attention is the last-query form of models.OneLayerTransformer
    (three W x W products per sequence and two N x W contractions)."""
    d_in = D + 2 if model.startswith("transformer") else D
    mlp = 2 * batch * (d_in * width + width * width + width)
    if model == "transformer1":
        W = D + 2
        attn = 2 * batch * (3 * W * W + 2 * N * W)
    else:
        attn = 2 * batch * 2 * N * D
    return 3.0 * (mlp + attn)


def _time_ensemble(model, size, E, steps, device):
    """Model-steps per second of train(): the difference of a 2n-step and an n-step run cancels the fixed cost
    (building the ensemble, the evaluations at the start and the end)."""
    def timed(n):
        cfg = RunConfig(model=model, Ks=(None,) * E, seeds=tuple(range(E)), wd_attn=(0.0,) * E, steps=n,
                        eval_every=n, n_eval=8, evals=("icl",), **size)
        t0 = time.perf_counter()
        train(cfg, device=device, progress=False)
        return time.perf_counter() - t0

    timed(2)  # warm-up (allocations, kernels)
    return E * steps / max(timed(2 * steps) - timed(steps), 1e-9)


def _time_naive(model, size, E, steps, device):
    """A loop over E plain single models, each with its own torch.optim.SGD, data sampled on the device."""
    D, N, width = size["D"], size["N"], size["width"]
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
            x, lab = data.sample_train(bank, 128, N, g)
            if model == "transformer1":
                z = net(models.tokens(x, lab, one_hot=True)[0])[None]
            else:
                z = net(x, lab)
            loss = F.softplus(-lab[:, :, -1] * z).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()

    one_round()
    t0 = time.perf_counter()
    for _ in range(steps):
        one_round()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return E * steps / (time.perf_counter() - t0)


def check_args(steps, members=(1, 8, 32), sizes=("paper", "cpu")) -> None:
    """ValueError for arguments the benchmark cannot use (called before anything is timed)."""
    if not isinstance(steps, int) or isinstance(steps, bool) or not 1 <= steps <= 100_000:
        raise ValueError(f"steps={steps!r}: must be an integer from 1 to 100000")
    if not members or any(not isinstance(E, int) or isinstance(E, bool) or E < 1 for E in members):
        raise ValueError(f"members={members!r}: must be positive integers")
    bad = [s for s in sizes if s not in SIZES]
    if not sizes or bad:
        raise ValueError(f"sizes={sizes!r}: choose from {', '.join(SIZES)}")


def run(device=None, steps: int = 40, members=(1, 8, 32), sizes=("paper", "cpu")) -> list[dict]:
    check_args(steps, members, sizes)
    device = pick_device(device)
    flops = matmul_flops(device)
    print(f"device {device}, torch {torch.__version__}, {torch.get_num_threads()} threads; "
          f"measured matmul rate {flops / 1e9:.1f} GFLOP/s")
    header = f"{'model':<13}{'size':<7}{'E':>4}{'ensembled':>12}{'naive loop':>12}{'floor':>10}{'floor/ens':>11}"
    print("model-steps per second\n" + header)
    rows = []
    for model in ("transformer1", "minimal"):
        for size_name in sizes:
            size = SIZES[size_name]
            floor = flops / step_flops(model, **size)
            for E in members:
                n = max(5, steps // E) if size_name == "paper" and device.type == "cpu" else steps
                ens = _time_ensemble(model, size, E, n, device)
                naive = _time_naive(model, size, min(E, 8), max(2, n // 4), device)
                rows.append(dict(model=model, size=size_name, E=E, ensembled=ens, naive=naive, floor=floor))
                print(f"{model:<13}{size_name:<7}{E:>4}{ens:>12.1f}{naive:>12.1f}{floor:>10.1f}"
                      f"{floor / ens:>11.2f}", flush=True)
    return rows
