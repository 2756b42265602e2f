"""Drawing layer: matplotlib figures in the book's one style (see :mod:`.style`).

One module per chapter topic; every function returns a
:class:`matplotlib.figure.Figure` made outside pyplot's registry.
"""

from . import conv_layer, style

__all__ = ["conv_layer", "style"]
