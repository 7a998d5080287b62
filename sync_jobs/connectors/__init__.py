"""Connectors to the systems of record, one package per system."""
