"""Figures for the chapter on equivariance (in progress)."""
