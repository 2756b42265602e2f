"""Figures for the chapter on efficiency (in progress)."""
