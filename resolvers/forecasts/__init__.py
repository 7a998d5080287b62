"""Resolvers of the forecasts and early warnings (issue 18): read functions bound to the
request's context (its connection pool, 'today', row scope and thresholds)."""
