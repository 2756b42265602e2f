"""Figures for the chapter on local connectivity (in progress)."""
