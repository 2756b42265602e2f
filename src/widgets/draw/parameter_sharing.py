"""Figures for the chapter on parameter sharing (in progress)."""
