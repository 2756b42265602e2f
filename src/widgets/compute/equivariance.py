"""Computation for the chapter on equivariance (in progress)."""
