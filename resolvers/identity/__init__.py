"""Operators' answers to identity exceptions: link, create or ignore (one file a mutation)."""
