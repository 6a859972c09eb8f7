import json

from icl_kinetics import bench


def test_bench_reports_positive_rates_and_writes_json(tmp_path):
    rows = bench.run("cpu", steps=4, members=(2,), sizes=("cpu",), out=tmp_path)
    assert {r["model"] for r in rows} == {"transformer1", "minimal"}
    for r in rows:
        assert r["model_steps_per_s"] > 0 and r["exact_model_steps_per_s"] > 0 and r["naive_model_steps_per_s"] > 0
        assert r["roofline_model_steps_per_s"] == min(r["flop_floor"], r["byte_floor"])
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
