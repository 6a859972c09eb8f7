"""kstar_dense (issue 32 c): its shards join the sweeps they extend at an N only once all of that N's shards have
finished (the rule fixed before they ran); before that they are progress, shown and never read by a verdict."""
from icl_kinetics import experiments
from icl_kinetics.analysis import dense, ladder


def _n_members(d, N):
    return sum(c.E for c in d.configs.values() if c.N == N)


def test_dense_shards_join_the_sweeps_only_when_their_n_is_complete(tmp_path):
    out = tmp_path / "results"
    experiments.run("phenomenology", "smoke", out=out, progress=False)
    experiments.run("kstar_vs_n", "smoke", out=out, progress=False)
    base_ph = _n_members(ladder.rung_data("phenomenology", "smoke", out), 6)
    base_kn = _n_members(ladder.rung_data("kstar_vs_n", "smoke", out), 6)

    experiments.run("kstar_dense", "smoke", out=out, progress=False, only=["N6_K8"])
    sh = dense.dense_shards("smoke", out)[6]
    assert not sh.complete and list(sh.runs) == ["N6_K8"]
    d = ladder.rung_data("phenomenology", "smoke", out)
    assert d.extended == () and _n_members(d, 6) == base_ph  # a partial N decides nothing
    alone = ladder.rung_data("kstar_vs_n", "smoke", out, with_dense=False)
    progress = dense.dense_progress(alone.runs, alone.configs, "smoke", out)
    assert progress.n_done == 1 and progress.n_defined == 2 and progress.n_complete == 0
    pooled_rows = [r for r in progress.rows if r[0] != "sweep alone"]
    assert [r[1] for r in pooled_rows] == [6] and pooled_rows[0][-1] == "1 of 2 (partial)"
    assert dense.waiting("smoke", out).startswith("too few runs: the new runs near K* (chapter 13) are in at none of N")
    assert progress.summary == ""  # no N complete: nothing to report

    experiments.run("kstar_dense", "smoke", out=out, progress=False, only=["N6_K24"])
    d = ladder.rung_data("phenomenology", "smoke", out)
    assert set(d.extended) == {"N6_K8", "N6_K24"} and _n_members(d, 6) == base_ph + 4
    (name, cfg), = d.configs.items()  # the sweep's one sub-run, now with the dense members
    assert 24 in cfg.Ks and len(d.runs[name]["final_icl_acc"]) == base_ph + 4
    kn = ladder.rung_data("kstar_vs_n", "smoke", out)
    assert _n_members(kn, 6) == base_kn + 4 and _n_members(kn, 4) == _n_members(alone, 4)
    assert _n_members(ladder.rung_data("kstar_vs_n", "smoke", out, with_dense=False), 6) == base_kn
    seeds = [(k, s) for k, s in zip(kn.configs["N6"].Ks, kn.configs["N6"].seeds)]
    assert len(seeds) == len(set(seeds))  # new seeds: no member trained twice
    assert dense.waiting("smoke", out) == ""  # every N complete: the exponent across N is decided
    progress = dense.dense_progress(alone.runs, alone.configs, "smoke", out)
    assert progress.summary.startswith("At N = 6, pooled, K* is ") and "from the sweep alone." in progress.summary
    assert dense.pooled_line(d.extended, "smoke", out).startswith("Pooled with the 2 `kstar_dense` shards of chapter 13:")


def test_a_pending_claim_shows_its_numbers_and_decides_nothing(monkeypatch):
    """verdicts.Pending: the sections are read (glued, for the page and the landing page's headline) and the
    verdict is 'not decided' with the reason, whatever the rule would say on them."""
    from icl_kinetics import book
    from icl_kinetics.analysis.scaling import LinearEvidence
    from icl_kinetics.verdicts import Pending
    glued = {}
    monkeypatch.setattr(book, "glue", lambda name, value, **kw: glued.__setitem__(name, value))
    monkeypatch.setattr(book, "display", lambda *a, **k: None)
    from icl_kinetics.rules import Choice
    ev = LinearEvidence.of({}, {}, dict(slope=1.0, slope_lo=0.98, slope_hi=1.02, choices={
        "the chapter's": Choice(dict(slope=1.0, ci=(0.98, 1.02)), "a test")}))
    decided = book.decide_at_rung("fig6b_linear", (ev,), "paper_net")
    assert "reproduced" in decided.text and "not" not in decided.text.split(":")[0]
    waiting = "too few runs: the runs it waits for are not in"
    pending = book.decide_at_rung("fig6b_linear", Pending(waiting, (ev,)), "paper_net")
    assert "not decided" in pending.text and waiting in pending.text
    assert glued["fig6b_linear_paper_net_slope"] == 1.0 and "too few runs" in str(glued["fig6b_linear_paper_net_kind"])


def test_paper_kstar_is_placed_against_both_intervals():
    from icl_kinetics.analysis.phenomenology import paper_kstar_inside
    assert paper_kstar_inside((6_600, 9_000), (5_500, 11_500)) == \
        "inside the t-model interval of K* and outside its seed-bootstrap interval"
    assert paper_kstar_inside((9_000, 12_000), (8_000, 13_000)) == "inside both 95% intervals of K*"
    assert paper_kstar_inside((2_000, 3_000), (1_500, 4_000)) == "outside both 95% intervals of K*"
    assert not dense.DenseAtN(6, {}, {}, 2).complete


def test_a_new_context_length_joins_the_sweep_only_once_stored(tmp_path):
    """catalog.JOINS (issue 32 d, ticl_n200): a finished shard changes nothing; the stored result is one more N
    of the sweep wherever it is read (the chapter's Result and the ladder's RungData), with a caption line."""
    out = tmp_path / "results"
    experiments.run("ticl_vs_n", "smoke", out=out, progress=False)
    alone = experiments.load("ticl_vs_n", "smoke", out)
    experiments.run("ticl_n200", "smoke", out=out, progress=False, only=["N8_s0"])
    assert dense.joined(alone, out) is alone and dense.joined_line(alone) == ""
    assert "(1 of 2 so far; chapter 16)" in dense.join_status("ticl_vs_n", "smoke", out)
    assert sorted(c.N for c in ladder.rung_data("ticl_vs_n", "smoke", out).configs.values()) == [4, 6]
    experiments.run("ticl_n200", "smoke", out=out, progress=False)
    j = dense.joined(alone, out)
    assert sorted(j.configs()) == ["N4", "N6", "N8"] and j.configs()["N8"].seeds == (0, 1, 2, 3)
    assert len(j["N8"]["t_icl"]) == 4 and j.meta["joined"] == "ticl_n200"
    assert dense.joined_line(j).startswith("Its N = 8 point is experiment `ticl_n200` (4 seeds")
    assert "joined this sweep" in dense.join_status("ticl_vs_n", "smoke", out)
    d = ladder.rung_data("ticl_vs_n", "smoke", out)
    assert sorted(c.N for c in d.configs.values()) == [4, 6, 8] and d.stored and d.n_defined == 3
    times, seeds = ladder.times_by_n(d)
    assert sorted(times) == [4, 6, 8] and seeds[8] == (0, 1, 2, 3) and seeds[4] == (0, 1, 2)  # unpaired
