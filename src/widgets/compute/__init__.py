"""Computation layer: pure torch/numpy, no plotting and no controls.

One module per chapter topic, plus :mod:`data` for the images the book uses
and :mod:`training` for the one training loop every trained network uses, and
:mod:`stats` for the one way results over seeds are compared.
"""

from . import (
               conv_layer,
               data,
               efficiency,
               equivariance,
               feature_hierarchy,
               local_connectivity,
               parameter_sharing,
               receptive_fields,
               sequences,
               stats,
               trained_networks,
               training,
)

__all__ = ["conv_layer", "data", "efficiency", "equivariance", "feature_hierarchy", "local_connectivity",
           "parameter_sharing", "receptive_fields", "sequences", "stats", "trained_networks", "training"]
