"""Forward-looking figures and early warnings over the read model (issue 18).

Like ``readmodel.figures``: plain read functions over an ``AsyncConnection``, a fixed number of
statements per call, exact money, every figure reported with the parts it is made of.
Formulas and worked examples: docs/formulas.md ("Forecasts and early warnings").
"""
