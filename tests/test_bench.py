import json
import time
import types

import pytest

from icl_kinetics import bench


@pytest.fixture
def fake_clock(monkeypatch):
    """The benchmark's clock, made deterministic: every reading advances 2^-20 s and every trained step 2^-10 s, so
    the rates and the noise check are decided by what the test controls, not by the machine's load (powers of
    two: the clock's arithmetic is exact). The two machine probes (matmul rate, copy bandwidth) are fixed."""
    clock = {"t": 0.0, "per_step": 2.0**-10}

    def perf_counter():
        clock["t"] += 2.0**-20
        return clock["t"]

    real_train = bench.train

    def train(cfg, **kw):
        out = real_train(cfg, **kw)
        clock["t"] += clock["per_step"] * cfg.steps
        return out
    monkeypatch.setattr(bench, "time", types.SimpleNamespace(perf_counter=perf_counter, strftime=time.strftime,
                                                             gmtime=time.gmtime))  # bench's clock only
    monkeypatch.setattr(bench, "train", train)
    monkeypatch.setattr(bench, "matmul_flops", lambda *a, **k: 1e11)
    monkeypatch.setattr(bench, "memory_bandwidth", lambda *a, **k: 1e10)
    return clock


def test_bench_reports_positive_rates_and_writes_json(tmp_path, fake_clock, monkeypatch):
    # a size far below the cpu profile's: every path of the table is timed, in a second instead of half a minute
    monkeypatch.setitem(bench.SIZES, "tiny", dict(D=8, N=4, width=16, batch=8))
    rows = bench.run("cpu", steps=4, members=(2,), sizes=("tiny",), out=tmp_path)
    assert {r["model"] for r in rows} == {"transformer1", "minimal"}
    for r in rows:
        assert r["model_steps_per_s"] > 0 and r["exact_model_steps_per_s"] > 0 and r["naive_model_steps_per_s"] > 0
        assert r["roofline_model_steps_per_s"] == min(r["flop_floor"], r["byte_floor"])
        assert r["bf16_model_steps_per_s"] > 0
        assert r["roofline_bf16_model_steps_per_s"] == min(r["bf16_flop_floor"], r["byte_floor"])
    stored = json.loads((tmp_path / f"{rows[0]['device']}.json").read_text())
    assert stored["rows"] == rows and stored["meta"]["matmul_flops"] > 0 and stored["meta"]["copy_bytes_per_s"] > 0
    assert (tmp_path / f"{rows[0]['device']}.txt").read_text().count("\n") == 3 + len(rows)


def test_step_cost_grows_with_size():
    paper, cpu = bench.SIZES["paper"], bench.SIZES["cpu"]
    assert bench.step_flops("transformer1", **paper) > bench.step_flops("transformer1", **cpu)
    assert bench.step_flops("transformer1", **paper) > bench.step_flops("minimal", **paper)
    assert bench.step_bytes("transformer1", **paper) > bench.step_bytes("transformer1", **cpu)


def test_compulsory_bytes_count_items_twice_and_parameters_five_times():
    size = dict(D=3, N=4, width=5, batch=2)
    n = bench.n_params("minimal", 3, 5)
    assert n == (3 * 5 + 5) + (5 * 5 + 5) + (5 + 1) + 2  # MLP layers, w and beta
    assert bench.step_bytes("minimal", **size) == 4 * (2 * 2 * 4 * 3 + 5 * n)


def test_bench_ensemble_rate_is_the_difference_of_long_and_short_runs(fake_clock):
    # the long run trains 3n - n = 8 steps more: 2 members x 8 steps / (8 x 2^-10 s)
    rate = bench._time_ensemble("minimal", bench.SIZES["cpu"], 2, 4, bench.pick_device("cpu"))
    assert rate == 2 * 8 / (8 * 2.0**-10)


def test_bench_refuses_timings_dominated_by_noise(fake_clock):
    fake_clock["per_step"] = 0.0  # the long run takes no longer than the short one
    with pytest.raises(RuntimeError, match="dominated by noise"):
        bench._time_ensemble("minimal", bench.SIZES["cpu"], 2, 4, bench.pick_device("cpu"))


def test_compile_trial_reports_the_speedup_or_the_compiler_error(monkeypatch, fake_clock):
    """torch.compile replaced by stand-ins (the test decides what the compiler does, and no minutes of compiling):
    an identity compiler gives a row with both rates; a failing one gives its error in one line, no crash."""
    monkeypatch.setattr(bench.torch, "compile", lambda net: net)
    row = bench.compile_trial("minimal", "cpu", E=2, steps=2, device="cpu")
    assert row["eager_model_steps_per_s"] > 0 and row["compiled_model_steps_per_s"] > 0 and row["speedup"] > 0

    def broken(net):
        raise RuntimeError("no C++ compiler found\n(a long traceback)")
    monkeypatch.setattr(bench.torch, "compile", broken)
    row = bench.compile_trial("transformer1", "cpu", E=2, steps=2, device="cpu")
    assert row["compiled_model_steps_per_s"] is None and row["error"] == "RuntimeError: no C++ compiler found"
