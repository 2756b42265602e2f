"""Drawing layer: matplotlib figures in the book's one style (see :mod:`.style`).

One module per chapter topic; every function returns a
:class:`~widgets.draw.style.BookFigure` made outside pyplot's registry.
"""

from . import (
               conv_layer,
               efficiency,
               equivariance,
               feature_hierarchy,
               local_connectivity,
               parameter_sharing,
               receptive_fields,
               sequences,
               style,
               trained_networks,
)

__all__ = ["conv_layer", "efficiency", "equivariance", "feature_hierarchy", "local_connectivity", "parameter_sharing",
           "receptive_fields", "sequences", "style", "trained_networks"]
