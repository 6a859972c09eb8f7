from icl_kinetics import bench


def test_bench_reports_positive_rates():
    rows = bench.run("cpu", steps=4, members=(2,), sizes=("cpu",))
    assert {r["model"] for r in rows} == {"transformer1", "minimal"}
    for r in rows:
        assert r["ensembled"] > 0 and r["naive"] > 0 and r["floor"] > r["ensembled"] / 100


def test_step_flops_grow_with_size():
    assert bench.step_flops("transformer1", **bench.SIZES["paper"]) > bench.step_flops("transformer1", **bench.SIZES["cpu"])
    assert bench.step_flops("transformer1", **bench.SIZES["paper"]) > bench.step_flops("minimal", **bench.SIZES["paper"])
