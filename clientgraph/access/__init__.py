"""Who may see and do what: roles, the principal of a request, and the rule table.

Pure data and rules, no I/O: the gateway authenticates callers into a ``Principal``; the read
model turns its row scope into SQL predicates (``readmodel.reads.scope``); the schema applies
the field and operation rules (``schema.access``). docs/security.md is the human version.
"""
