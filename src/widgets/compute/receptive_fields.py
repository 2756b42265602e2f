"""Computation for the chapter on receptive fields (in progress)."""
