"""clientgraph: one GraphQL graph over a services firm's CRM, PSA and ERP.

This package is the composition root: settings and the command line. The layers it wires live
in the top-level packages ``readmodel`` → ``resolvers`` → ``schema`` → ``gateway`` (reads) and
``sync_jobs`` (systems of record → read model).
"""

__version__ = "0.1.0"
