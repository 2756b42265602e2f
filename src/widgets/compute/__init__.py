"""Computation layer: pure torch/numpy, no plotting and no controls.

One module per chapter topic, plus :mod:`data` for the images the book uses.
"""

from . import (conv_layer, data, efficiency, equivariance, local_connectivity, parameter_sharing,
               receptive_fields, trained_networks)

__all__ = ["conv_layer", "data", "efficiency", "equivariance", "local_connectivity",
           "parameter_sharing", "receptive_fields", "trained_networks"]
