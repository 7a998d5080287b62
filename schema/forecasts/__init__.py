"""Forecasts and early warnings (issue 18): their GraphQL types and root fields.

Root fields live on ``ForecastQuery``, a base of the root ``Query``, so this domain stays in
its own modules.
"""
