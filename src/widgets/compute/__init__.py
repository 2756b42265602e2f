"""Computation layer: pure torch/numpy, no plotting and no controls.

One module per chapter topic, plus :mod:`data` for the images the book uses.
"""

from . import conv_layer, data

__all__ = ["conv_layer", "data"]
