"""bf16 autocast against fp32 on the same runs (experiment `bf16_check`, chapter 13): the criterion written before
the run, and whether bf16 passes it."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import stats as st
from ..theory import i_k
from .memorization import fit_memorization_scaling, memorization_table
from .runs import censored_t_icl
from .section import Section, glued


@dataclass(frozen=True)
class PrecisionCheck(Section):
    """bf16 autocast against fp32 on the same runs (experiment `bf16_check`). The criterion, written before the
    run: bf16 leaves the science unchanged when the 95% interval of the median per-seed ratio t_ICL(bf16) /
    t_ICL(fp32) lies within [0.9, 1.1], the median per-member ratio of I_K at the end of training lies within
    [0.95, 1.05], and nu differs by at most 0.02."""
    n_seeds: int = glued()
    n_both: int = glued()
    ticl_ratio: float = glued()
    ticl_ratio_lo: float = glued()
    ticl_ratio_hi: float = glued()
    ik_ratio: float = glued()
    ik_ratio_min: float = glued()
    ik_ratio_max: float = glued()
    nu_fp32: float = glued()
    nu_bf16: float = glued()
    passes: str = glued()


def precision_check(res, mem) -> PrecisionCheck:
    """``res``: the `bf16_check` result; ``mem``: the stored fp32 `memorization` result of the same profile."""
    a, b = (censored_t_icl(res[k]) for k in ("t_icl_fp32", "t_icl_bf16"))
    both = np.isfinite(a) & np.isfinite(b)
    ratio, ci = st.bootstrap(np.median, b[both] / a[both], n_boot=2000) if both.sum() >= 2 else (np.nan, (np.nan,) * 2)
    cfg16, run16 = res.configs()["mlp_bf16"], res["mlp_bf16"]
    cfg32, run32 = mem.configs()["mlp"], mem["mlp"]
    t = cfg32.lr * np.asarray(run32["steps"], float)
    ik = [np.array([i_k(t, c)[-1] for c in r["c1"]]) for r in (run32, run16)]
    ik_ratio = ik[1] / ik[0]
    nus = [fit_memorization_scaling(memorization_table(r, c), n_boot=200) for r, c in ((run32, cfg32), (run16, cfg16))]
    nu32, nu16 = (f.nu if f.ok else np.nan for f in nus)
    ok = (ci[0] >= 0.9 and ci[1] <= 1.1, 0.95 <= np.median(ik_ratio) <= 1.05, abs(nu16 - nu32) <= 0.02)
    why = [w for w, good in zip(("t_ICL ratio", "I_K ratio", "nu"), ok) if not good]
    return PrecisionCheck.of(dict(
        n_seeds=len(a), n_both=int(both.sum()), ticl_ratio=ratio, ticl_ratio_lo=ci[0], ticl_ratio_hi=ci[1],
        ik_ratio=float(np.median(ik_ratio)), ik_ratio_min=float(ik_ratio.min()), ik_ratio_max=float(ik_ratio.max()),
        nu_fp32=nu32, nu_bf16=nu16, passes="yes" if all(ok) else "no (" + ", ".join(why) + " outside the criterion)"))
