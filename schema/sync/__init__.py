"""Sync as operators see it: integration exceptions."""
