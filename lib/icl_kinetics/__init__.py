"""Reference replication of "Differential learning kinetics govern the transition from memorization to
generalization during in-context learning".

Modules: ``data`` (sequences), ``models`` (ensembled networks), ``train`` (ensembled SGD), ``theory``
(loss landscape, ODEs, t_ICL), ``fits`` (sigmoids, power laws, intervals), ``experiments`` (registry,
profiles, results store, CLI), ``plots`` (figures).
"""
__version__ = "0.1.0"
