"""Live figures: small computations that run in the reader's browser.

The platform (:mod:`.platform`) turns torch tensors and models into a widget's
binary state and holds the browser's shared layer module, ``layers.js``. Each
figure is one Python module and one JavaScript module of the same name in this
package, e.g. :mod:`.kernel_playground` and ``kernel_playground.js``. The same
widget works on the static site (the site's widget manager bundles anywidget's
front end) and in JupyterLab with a kernel. Chapters reach the figures through
:mod:`widgets.controls`, e.g. ``controls.kernel_playground(image)``.
"""

from .digit_pad import DigitPad, digit_pad
from .field_stack import MAX_LAYERS, STACK_KINDS, STACK_LIMITS, FieldStack, field_stack
from .kernel_playground import MAX_STRIDE, PADDINGS, KernelPlayground, kernel_playground, playground_presets
from .platform import (
    JS_DIR,
    LAYER_TYPES,
    SHARED_MODULES,
    SITE_MODULE_PREFIX,
    Buffer,
    colormap,
    esm,
    export_layers,
    figures,
    image_buffer,
    to_buffer,
)
from .shift_figure import ShiftFigure, shift_figure, shift_model, shift_scenes, total_stride

__all__ = ["FieldStack", "field_stack", "MAX_LAYERS", "STACK_KINDS", "STACK_LIMITS",
           "esm", "figures", "to_buffer", "image_buffer", "export_layers", "Buffer", "colormap", "JS_DIR",
           "LAYER_TYPES", "SHARED_MODULES", "SITE_MODULE_PREFIX",
           "DigitPad", "digit_pad",
           "KernelPlayground", "kernel_playground", "playground_presets", "PADDINGS", "MAX_STRIDE",
           "ShiftFigure", "shift_figure", "shift_scenes", "shift_model", "total_stride"]
