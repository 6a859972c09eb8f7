"""Reference replication of "Differential learning kinetics govern the transition from memorization to
generalization during in-context learning".

Modules: ``data`` (sequences), ``models`` (ensembled networks), ``train`` (ensembled SGD), ``theory`` (package: loss
landscape, ODEs, closed forms, transience), ``fits`` (sigmoid thresholds, lines, power laws), ``stats`` (bootstrap,
intervals, first crossings), ``analysis`` (package: from stored results to the numbers of each chapter),
``plots`` (package: figures by family, one style), ``verdicts`` (claims, rules, scorecard), ``book`` (page helpers:
glue, tables, verdicts, provenance captions), ``config`` (what a run is, no torch), ``catalog`` (the registry, profiles and
every experiment's definition, no torch), ``experiments`` (run, store and load them), ``checkpoint`` (resume inside a
run), ``executors`` (shards through submitit), ``store`` and ``errors`` (results store), ``bench`` (throughput).
"""
__version__ = "0.1.0"
