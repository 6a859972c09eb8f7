"""How a table row becomes runs: member seeds, even K grids, the per-K / per-N / per-kind splits."""
import numpy as np

from icl_kinetics import catalog
from icl_kinetics.grids import authors_grid, even, geom, grid, per_n, runs_of

ROW = dict(model="transformer1", D=8, N=6, width=16, lr=0.05, batch=32, steps=10, eval_every=5)


def test_grid_crosses_k_with_seeds_and_offsets_seeds_per_k():
    g = grid((32, 64), n_seeds=3, wd=1e-3, seed0=7)
    assert g["Ks"] == (32, 32, 32, 64, 64, 64)
    assert g["seeds"] == (7, 8, 9, 1007, 1008, 1009)
    assert g["wd_attn"] == (1e-3,) * 6


def test_k_grids_are_even_and_span_their_ends():
    assert even(5041.2) == 5042 and even(5040.9) == 5040 and even(3) % 2 == 0
    ks = geom(32, 8192, 10)
    assert len(ks) == 10 and ks[0] == 32 and ks[-1] == 8192 and all(k % 2 == 0 for k in ks)
    assert np.all(np.diff(ks) > 0)
    a = authors_grid()
    assert len(a) == 10 and a[0] == 500 and a[-1] == 100_000 and all(k % 2 == 0 for k in a)


def test_split_by_k_gives_each_k_its_own_seed_block():
    runs = runs_of(dict(ROW, Ks=(16, 32), seeds=2, split="K"))
    assert list(runs) == ["K16", "K32"]
    assert runs["K16"].seeds == (0, 1) and runs["K32"].seeds == (1000, 1001)
    assert runs["K32"].Ks == (32, 32)


def test_split_by_n_evaluates_per_n_fields():
    runs = runs_of(dict(ROW, Ks=(None,), seeds=1, split="N", Ns=(4, 8), steps=per_n(2.5)))
    assert list(runs) == ["N4", "N8"]
    assert (runs["N4"].N, runs["N4"].steps) == (4, 10) and (runs["N8"].N, runs["N8"].steps) == (8, 20)


def test_weight_decays_cross_the_whole_grid_and_kinds_split_balanced():
    runs = runs_of(dict(ROW, Ks=(16,), seeds=2, wds=(0.0, 0.01), split="kind"))
    assert list(runs) == ["standard", "balanced"]
    assert runs["balanced"].balanced and not runs["standard"].balanced
    assert runs["standard"].wd_attn == (0.0, 0.0, 0.01, 0.01)


def test_catalog_reexports_the_grid_helpers():
    assert catalog.even is even and catalog.runs_of is runs_of


def test_ticl_paper_lr_is_the_paper_setting_and_reuses_ticl_clocks_n50_run():
    """The paper rung's t_ICL sweep (issue 32 b): the paper's hyperparameters and budget at every N, the seeds of
    ticl_clock's paper_net N = 50 run in shards, and that run's config is exactly the sweep's N = 50 point."""
    from icl_kinetics import catalog
    runs = catalog.get("ticl_paper_lr").runs("paper")
    assert sorted(runs) == ["N100_s0", "N100_s1", "N100_s2", "N100_s3", "N25"]
    for cfg in runs.values():
        assert (cfg.lr, cfg.D, cfg.width, cfg.batch, cfg.steps) == (0.01, 63, 512, 128, 400 * catalog.EPOCH)
        assert cfg.eval_every == 5 * cfg.N and set(cfg.Ks) == {None}
    assert sorted(s for k, c in runs.items() if k.startswith("N100") for s in c.seeds) == list(range(16))
    name, profile, sub = catalog.TICL_PAPER_LR_REUSED["paper"]
    assert catalog.get(name).runs(profile)[sub] == catalog.ticl_paper_lr_config(50)


def test_ticl_n200_is_ticl_vs_ns_paper_net_setting_at_n200_with_a_budget_that_censors_none():
    """Issue 32 d, fixed before its runs: ticl_vs_n's paper_net settings at N = 200 (so it joins that sweep as its
    N = 200 point), its first 12 seeds in four shards, and 2.5 times the budget: the N = 100 run's slowest seed
    scaled by the measured exponent 1.29 must fit."""
    from icl_kinetics import catalog
    runs = catalog.get("ticl_n200").runs("paper_net")
    ref = catalog.get("ticl_vs_n").runs("paper_net")["N100"].to_dict()
    assert sorted(runs) == [f"N200_s{j}" for j in range(4)]
    assert sorted(s for c in runs.values() for s in c.seeds) == list(range(12))
    for cfg in runs.values():
        d = cfg.to_dict()
        same = {k for k in ref if k not in ("N", "Ks", "seeds", "wd_attn", "steps", "eval_every")}
        assert {k: d[k] for k in same} == {k: ref[k] for k in same}
        assert cfg.N == 200 and cfg.eval_every == 200 and set(cfg.Ks) == {None}
        assert cfg.steps == int(1000 * catalog.NET_EPOCH) > 19_200 * 2 ** 1.29


def test_kstar_dense_shards_pool_with_the_stored_sweeps_and_bring_new_seeds():
    """Issue 32 c, fixed before its runs: each shard has its sweep's settings (so it pools with it), 8 seeds at
    every K within a factor of two of K* and at two new K inside the grid interval that holds K*, and no seed that
    the sweep already trained at that K."""
    from icl_kinetics import catalog
    runs = catalog.get("kstar_dense").runs("paper_net")
    sweeps = {25: catalog.get("kstar_vs_n").runs("paper_net")["N25"],
              50: catalog.get("kstar_vs_n").runs("paper_net")["N50"]}
    ph = catalog.get("phenomenology").runs("paper_net")
    members = lambda c: {k for k in zip(c.Ks, c.seeds)}  # noqa: E731
    for N, centre in catalog.KSTAR_DENSE_CENTRES.items():
        near, new = catalog.kstar_dense_grid(N)
        assert all(centre / 2 <= k <= 2 * centre for k in near) and len(near) >= 2
        assert all(max(x for x in near + (0,) if x <= centre) < k for k in new)
        old = members(sweeps[N]) if N in sweeps else set().union(*(members(c) for c in ph.values()))
        ref = sweeps.get(N) or ph[f"K{near[0]}"]
        mine = {k: c for k, c in runs.items() if k.startswith(f"N{N}_")}
        for c in mine.values():
            assert {f: v for f, v in c.to_dict().items() if f not in ("Ks", "seeds", "wd_attn")} == \
                {f: v for f, v in ref.to_dict().items() if f not in ("Ks", "seeds", "wd_attn")}
            assert not members(c) & old
        for K in near + new:
            assert sum(c.Ks.count(K) for c in mine.values()) + sum(1 for k, _ in old if k == K) == 8
