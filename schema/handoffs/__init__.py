"""GraphQL types of the quote-to-project handoff."""
