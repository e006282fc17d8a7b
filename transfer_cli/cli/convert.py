"""Placeholder until the corpus converters land (being written)."""
