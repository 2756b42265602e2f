"""Computation for the chapter on efficiency (in progress)."""
