"""The quote-to-project handoff as the graph sees it: reads, loaders and operators' actions."""
