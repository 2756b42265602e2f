"""The shared package behind the book *Why Convolutions Work*.

Three layers, each in its own sub-package or module:

``widgets.compute``
    Pure torch/numpy: tensors in, tensors or numbers out.
``widgets.draw``
    Matplotlib figures in the book's one style.
``widgets.controls``
    The one mechanism that turns a drawing function and a small grid of
    parameter values into controls that work with or without a kernel.

Chapters import it with one line::

    from widgets import compute, draw, controls
"""

from . import compute, controls, draw

__all__ = ["compute", "controls", "draw"]
__version__ = "0.1.0"
