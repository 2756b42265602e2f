"""Every public function of the compute, drawing and live-platform modules refuses bad arguments.

Refuses means: raises ValueError or TypeError, and nothing else.

The functions are enumerated with :mod:`inspect`, so a new public function
without bad-argument cases here fails :func:`test_every_public_function_has_cases`
(or :func:`test_every_draw_function_has_cases`). The public methods of the
compute modules' classes are enumerated too, and for :data:`METHOD_MODULES` the
dataclasses a caller builds (not the result records). Each call runs under an
address-space limit of one more gibibyte than the process holds, so a size that
is not bounded fails fast instead of filling memory.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import resource

import pytest
import torch
from torch import nn

from widgets import draw
from widgets.compute import (
    conv_layer,
    data,
    efficiency,
    equivariance,
    feature_hierarchy,
    local_connectivity,
    parameter_sharing,
    receptive_fields,
    trained_networks,
    training,
)
from widgets.live import platform

# ``widgets.live.kernel_playground`` is the figure's function (the package re-exports it); this is its module.
kernel_playground = importlib.import_module("widgets.live.kernel_playground")
digit_pad = importlib.import_module("widgets.live.digit_pad")
shift_figure = importlib.import_module("widgets.live.shift_figure")

#: The live package's other figure modules are not listed yet: each brings its own cases when it is added.
METHOD_MODULES = (equivariance, receptive_fields, platform, kernel_playground, digit_pad, shift_figure)
MODULES = (data, training, trained_networks, feature_hierarchy, conv_layer, local_connectivity,
           parameter_sharing, efficiency, *METHOD_MODULES)
#: Dataclasses of :data:`METHOD_MODULES` that are results, built by the modules' own functions:
#: their constructors take no arguments from a reader (their public methods are still enumerated).
RESULT_RECORDS = {"equivariance.ShiftComparison", "receptive_fields.Field", "receptive_fields.Region",
                  "receptive_fields.OnImage", "receptive_fields.UnitFields"}
#: Classes whose constructor and checks are traitlets' protocol: a bad value raises
#: ``traitlets.TraitError``, as every widget's trait does; readers get widgets from the
#: figure's function (``kernel_playground``), which validates first.
TRAITLETS = {"kernel_playground.KernelPlayground", "platform.Buffer", "digit_pad.DigitPad", "shift_figure.ShiftFigure"}
HUGE = 10**9
PAD_MODELS = {"dense": trained_networks.build("dense")}
PAD_DIGITS = torch.zeros(1, 1, 16, 16)
NOT_A_NETWORK = "a network"


def public_callables() -> dict[str, object]:
    """Module-level public functions and classes (not plain result records) of :data:`MODULES`.

    Also every public method defined in a class (called unbound, the instance
    first; a classmethod bound to its class), and for :data:`METHOD_MODULES` the
    dataclasses not in :data:`RESULT_RECORDS`.
    """
    found = {}
    for module in MODULES:
        short = module.__name__.rsplit(".", 1)[1]
        deep = module in METHOD_MODULES
        for name, obj in vars(module).items():
            if name.startswith("_") or getattr(obj, "__module__", None) != module.__name__:
                continue
            key = f"{short}.{name}"
            if key in TRAITLETS:
                continue
            if inspect.isfunction(inspect.unwrap(obj)):  # unwrap: functools.cache keeps the function inside
                found[key] = obj
            elif inspect.isclass(obj):
                if not dataclasses.is_dataclass(obj) or (deep and key not in RESULT_RECORDS):
                    found[key] = obj
                for method, member in vars(obj).items():
                    if method.startswith("_"):
                        continue
                    if inspect.isfunction(member):
                        found[f"{key}.{method}"] = member
                    elif isinstance(member, classmethod):
                        found[f"{key}.{method}"] = getattr(obj, method)
    return found


class Call:
    """One call: positional and keyword arguments."""

    def __init__(self, *args, **kwargs):
        self.args, self.kwargs = args, kwargs

    def __repr__(self):
        return f"Call{self.args!r:.60} {self.kwargs!r:.60}"


# Valid arguments, made once (small); each case below changes one of them.
IMG = torch.rand(4, 1, 16, 16)
LABELS = torch.arange(4) % 10
SPLIT = data.DigitSplit(torch.rand(20, 1, 16, 16), torch.arange(20) % 10, torch.rand(10, 1, 16, 16),
                        torch.arange(10) % 10)
NET = trained_networks.build("convolutional", seed=0)
HIER = feature_hierarchy.hierarchy_network(seed=0)
MAPS = torch.rand(4, 8, 12, 12)
TRIO = local_connectivity.layer_trio(1, 8, 1, 3)
LOCAL = local_connectivity.LocallyConnected2d(1, 1, 8, 3)
KERNEL3 = torch.rand(3, 3)
WEIGHT = torch.rand(1, 1, 3, 3)


def _top():
    field = feature_hierarchy.fields(HIER)[0]
    maps = feature_hierarchy.hidden_maps(HIER, torch.rand(4, 1, 32, 32))[0]
    return feature_hierarchy.top_patches(torch.rand(4, 1, 32, 32), maps, field, 0, k=2), field, maps


TOP, FIELD, HMAPS = _top()
IMG32 = torch.rand(4, 1, 32, 32)

# the result records' methods
STUDY = trained_networks.Study(sizes=(10,), seeds=(0,), test_accuracy={"dense": torch.rand(1, 1)},
                               train_accuracy={"dense": torch.rand(1, 1)}, epochs={"dense": torch.ones(1, 1)},
                               converged={"dense": torch.ones(1, 1)}, cpu_seconds={"dense": torch.ones(1, 1)},
                               models={})
HIER_STUDY = feature_hierarchy.Study(seeds=(0,), train_accuracy=[], test_accuracy=[], cpu_seconds=[], epochs=[],
                                     converged=[], summaries=[], models=[])
COSTS = efficiency.costs(8, 8, 3, 3)
POWER = efficiency.power_law_fit([1.0, 2.0], [1.0, 4.0])
ROUNDS = efficiency.Rounds(seconds={"a": torch.tensor([1.0, 2.0]), "b": torch.tensor([1.0, 2.0])}, backend={})
SWEEP = efficiency.Sweep(sides={"convolution": [8, 16]}, pixels={"convolution": torch.tensor([64.0, 256.0])},
                         seconds={"convolution": torch.tensor([1e-5, 4e-5])}, nbytes={}, max_abs_diff={})

# equivariance, receptive fields and the live platform
X8 = torch.rand(2, 1, 8, 8)
CONV = equivariance.edge_conv()
STACK = equivariance.pooling_stack(1, seed=0, channels=2)
SMALL = equivariance.SmallCNN(channels=(2, 2))
BLUR = equivariance.BlurPool(2)
MAXBLUR = equivariance.MaxBlurPool(2, "zeros")
GAP = equivariance.GlobalAveragePool()
LAYERS = (receptive_fields.Layer("conv", 3), receptive_fields.Layer("maxpool", 2, 2))
RF_NET = receptive_fields.random_network(LAYERS, 2)
RF_FIELD = receptive_fields.receptive_field(LAYERS)
REGION = receptive_fields.input_region(LAYERS, 8, 0, 0)
ON_IMAGE = receptive_fields.on_image(LAYERS, 8)
UNIT = receptive_fields.unit_fields(LAYERS, 8, 2, 0, 0)
DIGITS = receptive_fields.DigitsCNN(LAYERS, 2)
MAP = torch.rand(8, 8)
Layer = receptive_fields.Layer
HUGE_LAYER = (Layer("conv", 4096), Layer("conv", 4096))  # each valid; together too many weights

CASES: dict[str, list[Call]] = {
    # data
    "data.photo": [Call(HUGE), Call(64, 2), Call("64")],
    "data.digits": [Call(HUGE), Call(16, 0), Call(16, HUGE)],
    "data.digit_split": [Call(canvas=HUGE), Call(n_train=0), Call(n_train=HUGE), Call(seed=-1), Call(scale=HUGE)],
    "data.scramble": [Call("split"), Call(SPLIT, seed=-1)],
    "data.validation": [Call("split"), Call(SPLIT, n_validation=5), Call(SPLIT, seed=-1)],
    "data.balanced_subset": [Call([1, 2], 1), Call(LABELS, HUGE), Call(LABELS, -1), Call(LABELS, 2, seed=-1)],
    "data.shift_inside": [Call("images", 1, 1), Call(IMG, HUGE, 0), Call(IMG, 0, -HUGE)],
    "data.random_shifts": [Call(IMG, HUGE, torch.Generator()), Call(IMG, 1, "generator"),
                           Call("images", 1, torch.Generator())],
    "data.place_randomly": [Call(IMG, HUGE), Call("images", 1), Call(IMG, 1, seed=-1)],
    "data.anywhere": [Call("split"), Call(SPLIT, HUGE), Call(SPLIT, 1, seed=-1)],
    # training
    "training.train": [Call(NOT_A_NETWORK, IMG, LABELS, seed=0), Call(NET, "x", LABELS, seed=0),
                       Call(NET, IMG, LABELS, seed=0, max_epochs=HUGE), Call(NET, IMG, LABELS, seed=0, lr=-1.0),
                       Call(NET, IMG, LABELS, seed=0, loss="l1"), Call(NET, IMG, LABELS, seed=0, batch_size=HUGE),
                       Call(NET, IMG, LABELS, seed=0, max_shift=HUGE)],
    "training.predict": [Call(NOT_A_NETWORK, IMG), Call(NET, "x"), Call(NET, IMG, batch_size=0)],
    "training.accuracy": [Call(NOT_A_NETWORK, IMG, LABELS), Call(NET, IMG, "labels"), Call(NET, IMG, LABELS[:2])],
    "training.one_thread": [],
    "training.check_labelled": [Call("images", LABELS), Call(IMG, LABELS[:2]), Call(IMG, LABELS.float())],
    "training.check_seeds": [Call("abc"), Call([]), Call([-1]), Call([0, 0]), Call(5)],
    "training.spread": [Call([]), Call("abc"), Call([float("nan")]), Call(None)],
    # trained networks
    "trained_networks.Study.spread": [Call(STUDY, "loss", "dense"), Call(STUDY, "test_accuracy", "resnet"),
                                      Call(STUDY, "test_accuracy", "dense", HUGE)],
    "trained_networks.dense_network": [Call(canvas=HUGE), Call(hidden=()), Call(hidden=(HUGE,)), Call(hidden="ab")],
    "trained_networks.local_network": [Call("yes"), Call(True, canvas=HUGE), Call(True, channels=(HUGE, 16)),
                                       Call(True, kernel_size=0), Call(True, kernel_size=HUGE),
                                       Call(True, head="mean")],
    "trained_networks.build": [Call("resnet"), Call("dense", seed=-1), Call("dense", canvas=HUGE)],
    "trained_networks.trainable_parameters": [Call(NOT_A_NETWORK), Call(None)],
    "trained_networks.multiply_adds": [Call("model"), Call(torch.nn.Linear(2, 2), canvas=0),
                                       Call(torch.nn.Linear(2, 2), canvas=1000)],
    "trained_networks.baselines": [Call("split", [10]), Call(SPLIT, []), Call(SPLIT, [HUGE]), Call(SPLIT, [10], [])],
    "trained_networks.Study.values": [Call(STUDY, "loss", "dense"), Call(STUDY, "test_accuracy", "resnet"),
                                      Call(STUDY, "test_accuracy", "dense", HUGE)],
    "trained_networks.training_subset": [Call("split", 10, 0), Call(SPLIT, HUGE, 0), Call(SPLIT, 10, -1),
                                         Call(SPLIT, 0, 0)],
    "trained_networks.compare": [Call("split", [10]), Call(SPLIT, []), Call(SPLIT, [HUGE]),
                                 Call(SPLIT, [10], names=["resnet"]), Call(SPLIT, [10], seeds=[]),
                                 Call(SPLIT, [10], bogus=1), Call(SPLIT, [10], max_epochs=HUGE)],
    "trained_networks.shifted_accuracy": [Call(NOT_A_NETWORK, IMG, LABELS, [0]), Call(NET, IMG, LABELS, [HUGE]),
                                          Call(NET, IMG, LABELS, "ab"), Call(NET, "x", LABELS, [0])],
    "trained_networks.moved_probabilities": [Call({}, IMG[0], 1, "up"), Call({"a": NOT_A_NETWORK}, IMG[0], 1, "up"),
                                             Call({"a": NET}, "x", 1, "up"), Call({"a": NET}, IMG[0], -1, "up"),
                                             Call({"a": NET}, IMG[0], HUGE, "up"),
                                             Call({"a": NET}, IMG[0], 1, "north")],
    "trained_networks.first_layer_kernels": [Call(NOT_A_NETWORK), Call(nn.Sequential(nn.Flatten()))],
    "trained_networks.first_layer_gradient": [Call(NOT_A_NETWORK, IMG, LABELS), Call(NET, "x", LABELS),
                                              Call(nn.Sequential(nn.Flatten()), IMG, LABELS)],
    # feature hierarchy
    "feature_hierarchy.Study.per_layer": [Call(HIER_STUDY, "loss"), Call(HIER_STUDY, None),
                                          Call(HIER_STUDY, "dead", untrained="yes")],
    "feature_hierarchy.Study.per_seed": [Call(HIER_STUDY, "dead"), Call(HIER_STUDY, "edges", untrained=None)],
    "feature_hierarchy.chance_purity": [Call("labels"), Call(torch.rand(4)), Call(LABELS, k=HUGE),
                                        Call(LABELS, draws=HUGE), Call(LABELS, seed=-1)],
    "feature_hierarchy.hierarchy_network": [Call(seed=-1), Call(channels=(HUGE, 16, 32)),
                                            Call(kernel_sizes=(HUGE, 3, 3)), Call(channels=()),
                                            Call(channels="abc")],
    "feature_hierarchy.fields": [Call(NOT_A_NETWORK), Call(nn.Sequential(nn.Flatten()))],
    "feature_hierarchy.hidden_maps": [Call(NOT_A_NETWORK, IMG32), Call(HIER, "x"), Call(HIER, torch.rand(3))],
    "feature_hierarchy.first_layer_kernels": [Call(NOT_A_NETWORK), Call(nn.Sequential(nn.Flatten()))],
    "feature_hierarchy.dead_channels": [Call("maps"), Call(torch.zeros(3))],
    "feature_hierarchy.solid_ink_response": [Call(NOT_A_NETWORK, MAPS), Call(HIER, "maps")],
    "feature_hierarchy.top_patches": [Call("images", HMAPS, FIELD, 0), Call(IMG32, HMAPS, FIELD, HUGE),
                                      Call(IMG32, HMAPS, FIELD, 0, k=0), Call(IMG32, HMAPS, FIELD, 0, k=HUGE),
                                      Call(IMG32, HMAPS, "field", 0)],
    "feature_hierarchy.blank": [Call("top"), Call(None)],
    "feature_hierarchy.class_purity": [Call("top", LABELS), Call(TOP, "labels"), Call(TOP, LABELS[:1])],
    "feature_hierarchy.ink_share": [Call("images", TOP), Call(IMG32, "top")],
    "feature_hierarchy.mean_patch": [Call("top")],
    "feature_hierarchy.patch_correlation": [Call("top"), Call(None)],
    "feature_hierarchy.edge_contrast": [Call("patch"), Call(torch.zeros(0, 0)), Call(torch.zeros(3))],
    "feature_hierarchy.edge_orientation": [Call("patch"), Call(torch.zeros(0, 0)), Call(torch.zeros(3))],
    "feature_hierarchy.summarise": [Call(NOT_A_NETWORK, IMG32, LABELS), Call(HIER, IMG32, LABELS, k=0),
                                    Call(HIER, IMG32, LABELS, edge_threshold=-1.0), Call(HIER, "x", LABELS)],
    "feature_hierarchy.study": [Call("split", [0]), Call(SPLIT, []), Call(SPLIT, [0], k=0),
                                Call(SPLIT, [0], max_epochs=0), Call(SPLIT, [0], channels=(HUGE, 1, 1))],
    # conv layer
    "conv_layer.output_size": [Call(HUGE, 3), Call(5, 7), Call("5", 3), Call(5, 3, stride=0),
                               Call(5, 3, padding=HUGE)],
    "conv_layer.sliding_window_conv2d": [Call("x", WEIGHT), Call(IMG, WEIGHT, padding=HUGE),
                                         Call(IMG, WEIGHT, stride=0), Call(IMG, torch.rand(1, 2, 3, 3))],
    "conv_layer.multiply_add": [Call(IMG[0, 0], KERNEL3, HUGE, 0), Call("image", KERNEL3, 0, 0),
                                Call(IMG[0, 0], KERNEL3, 0, 0, stride=HUGE)],
    "conv_layer.hand_filter": [Call("nope"), Call(3)],
    "conv_layer.colour_filter": [Call("nope"), Call(None)],
    "conv_layer.colour_filter_conv": [Call(HUGE), Call(0), Call(2, padding=HUGE)],
    "conv_layer.colour_filter_maps": [Call(torch.rand(3, 16, 16), HUGE), Call("image", 2)],
    "conv_layer.channel_products": [Call(torch.rand(3, 8, 8), torch.rand(3, 3, 3), HUGE, 0),
                                    Call("image", torch.rand(3, 3, 3), 0, 0)],
    "conv_layer.border_ratio": [Call("map"), Call(torch.rand(8, 8), width=HUGE), Call(torch.rand(8, 8), width=-1)],
    "conv_layer.input_gradient": [Call(NOT_A_NETWORK, IMG, 0, 0, 0), Call(nn.Conv2d(1, 1, 3), IMG, HUGE, 0, 0),
                                  Call(nn.Conv2d(1, 1, 3), IMG, 0, HUGE, 0)],
    "conv_layer.kernel_pairs": [Call(KERNEL3, n=HUGE), Call(KERNEL3, size=HUGE), Call("target"),
                                Call(KERNEL3, seed=-1)],
    "conv_layer.pool_gradient": [Call("x", torch.rand(1, 1, 4, 4)), Call(torch.rand(1, 1, 8, 8), torch.rand(1, 1, 4, 4),
                                                                          kernel_size=HUGE)],
    "conv_layer.border_report": [Call("map"), Call(torch.rand(8, 8), top=(HUGE,)), Call(torch.rand(8, 8), top="10")],
    "conv_layer.unread_rows": [Call(HUGE, 3), Call(8, 0), Call(8, 3, stride=0), Call(8, 3, padding=-1)],
    "conv_layer.kernel_gradient": [Call("x", IMG, 3), Call(IMG, torch.rand(4, 1, 3, 3), 3), Call(IMG, IMG, HUGE)],
    "conv_layer.best_single_conv_error": [Call(NOT_A_NETWORK, IMG, 3), Call(nn.Conv2d(1, 1, 3), IMG, HUGE),
                                          Call(nn.Conv2d(1, 1, 3), "x", 3), Call(nn.Conv2d(1, 1, 3), IMG, 5)],
    "conv_layer.patch_gram": [Call("inputs", 3), Call(IMG, HUGE), Call(torch.rand(2, 3, 8, 8), 3)],
    "conv_layer.least_squares_kernel": [Call("inputs", IMG), Call(IMG, IMG[:2]), Call(IMG, torch.rand(4, 1, 20, 20))],
    "conv_layer.kernel_study": [Call("target", [0]), Call(KERNEL3, []), Call(KERNEL3, [0], control="yes"),
                                Call(KERNEL3, [0], flat=HUGE), Call(KERNEL3, [0], epochs=HUGE),
                                Call(KERNEL3, [0], lr=1.0), Call(KERNEL3, [0], start="ones")],
    "conv_layer.noisy_least_squares": [Call("target", 0.1, [0]), Call(KERNEL3, 0.0, [0]), Call(KERNEL3, 0.1, []),
                                       Call(KERNEL3, 0.1, [0], flat=HUGE), Call(KERNEL3, 0.1, [-1])],
    "conv_layer.stacked_pair_errors": [Call("x", 0), Call(torch.rand(1, 3, 8, 8), -1),
                                       Call(torch.rand(1, 3, 8, 8), 0, channels=0)],
    # local connectivity
    "local_connectivity.LocallyConnected2d": [Call(1, 1, HUGE, 3), Call(HUGE, 1, 8, 3), Call(1, HUGE, 8, 3),
                                              Call(1, 1, 8, 0), Call(1, 1, 8, 3, bias="yes"), Call(1, 1, "8", 3)],
    "local_connectivity.LocallyConnected2d.reset_parameters": [],
    "local_connectivity.LocallyConnected2d.forward": [Call(LOCAL, "x"), Call(LOCAL, torch.rand(2, 2, 8, 8)),
                                                      Call(LOCAL, torch.rand(8, 8))],
    "local_connectivity.LocallyConnected2d.from_conv": [Call(NOT_A_NETWORK, 8), Call(nn.Conv2d(1, 1, 3), HUGE),
                                                        Call(nn.Conv2d(1, 1, 3), "8"),
                                                        Call(nn.Conv2d(1, 1, (3, 5)), 8)],
    "local_connectivity.dense_layer": [Call((1, HUGE, HUGE), (1, 8, 8)), Call("shape", (1, 8, 8)),
                                       Call((1, 8, 8), (HUGE, 8, 8))],
    "local_connectivity.layer_trio": [Call(1, HUGE, 1, 3), Call(0, 8, 1, 3), Call(1, 8, HUGE, 3)],
    "local_connectivity.layer_counts": [Call(1, HUGE, 1, 3), Call(0, 8, 1, 3), Call(1, 8, 1, 9)],
    "local_connectivity.closed_form_counts": [Call(1, HUGE, 1, 3), Call(0, 8, 1, 3), Call(1, 8, 1, 9)],
    "local_connectivity.connected_inputs": [Call(NOT_A_NETWORK, (1, 8, 8), 0, 0, 0),
                                            Call(LOCAL, (1, 8, 8), 0, HUGE, 0), Call(LOCAL, (1, HUGE, HUGE), 0, 0, 0)],
    "local_connectivity.unit_weights": [Call({}, 0, 0, 0), Call("layers", 0, 0, 0), Call(TRIO, 0, HUGE, 0),
                                        Call({**TRIO, "convolution": NOT_A_NETWORK}, 0, 0, 0),
                                        Call({k: torch.empty(0) for k in TRIO}, 0, 0, 0)],
    "local_connectivity.seven": [],
    "local_connectivity.parameters_held": [Call(NOT_A_NETWORK), Call(None)],
    "local_connectivity.position_kernels": [Call(NOT_A_NETWORK), Call(nn.Conv2d(1, 1, 3)),
                                            Call(nn.Conv2d(1, 1, 3), input_size=HUGE)],
    "local_connectivity.neighbour_correlation": [Call("image", [1]), Call(torch.rand(8, 8), [HUGE]),
                                                 Call(torch.rand(8, 8), "1"), Call(torch.rand(8, 8), [])],
    "local_connectivity.locality_study": [Call("edge", [HUGE], [0, 1]), Call("mean", [4], [0, 1]),
                                          Call("edge", [4], [0]), Call("edge", [4], [0, 1], test_size=HUGE),
                                          Call("edge", [4], [0, 1], inputs="shuffled")],
    "local_connectivity.crop_components": [Call(HUGE), Call(1), Call(share=1.0), Call(seed=-1)],
    # parameter sharing
    "parameter_sharing.dense_parameters": [Call(HUGE**2, 10), Call(0, 10), Call("1", 10)],
    "parameter_sharing.conv_parameters": [Call(HUGE, 1, 3), Call(1, 0, 3), Call(1, 1, HUGE)],
    "parameter_sharing.unshared_parameters": [Call(1, 1, HUGE, 3), Call(1, 1, 8, 9), Call(1, 1, 8, 3, stride=0)],
    "parameter_sharing.place_patch": [Call(KERNEL3, HUGE, 0, 0), Call("patch", 8, 0, 0), Call(KERNEL3, 8, 7, 0)],
    "parameter_sharing.learned_in_one_region": [Call(KERNEL3, HUGE, 2), Call("kernel", 8, 2), Call(KERNEL3, 8, HUGE)],
    "parameter_sharing.detector_responses": [Call("canvas", KERNEL3, LOCAL), Call(torch.rand(8, 8), KERNEL3,
                                                                                   NOT_A_NETWORK)],
    "parameter_sharing.neighbour_correlation": [Call("values"), Call(torch.zeros(0)), Call(torch.zeros(0, 0))],
    "parameter_sharing.shuffle_positions": [Call("values"), Call(torch.rand(4, 4), seed=-1)],
    "parameter_sharing.weight_gradients": [Call(NOT_A_NETWORK, IMG, IMG), Call(nn.Conv2d(1, 1, 3), "x", IMG)],
    "parameter_sharing.stroke_task": [Call(HUGE, "aligned", 0), Call(10, "nope", 0), Call(10, "aligned", -1),
                                      Call(10, "aligned", 0, noise=-1.0)],
    "parameter_sharing.half_detector": [Call("nope", 0), Call("convolution", -1), Call("convolution", 0, filters=HUGE),
                                        Call("convolution", 0, kernels=torch.zeros(HUGE // 10**6, 3, 3)),
                                        Call("locally connected", 0, kernels=torch.zeros(4, 3, 3))],
    "parameter_sharing.stroke_detectors": [],
    "parameter_sharing.prior_study": [Call(seeds=[]), Call(n_train=HUGE), Call(n_test=0), Call(n_test=HUGE),
                                      Call(filters=0), Call(kinds=["dense"]), Call(tasks="aligned")],
    # efficiency
    "efficiency.difference_kernel": [],
    "efficiency.Costs.method": [Call(COSTS, "fft"), Call(COSTS, None)],
    "efficiency.Costs.ratio": [Call(COSTS, "time"), Call(COSTS, "flops", slow="fft"), Call(COSTS, "flops", fast=3)],
    "efficiency.PowerLaw.predict": [Call(POWER, "x"), Call(POWER, None)],
    "efficiency.Sweep.fit": [Call(SWEEP, "fft"), Call(SWEEP, "convolution", HUGE), Call(SWEEP, "convolution", 0)],
    "efficiency.conv_matrix": [Call(WEIGHT, HUGE, HUGE), Call(WEIGHT, 8, 8, layout="x"), Call("w", 8, 8),
                               Call(WEIGHT, 4096, 4096), Call(WEIGHT, 8, 8, padding=HUGE)],
    "efficiency.apply_matrix": [Call("m", IMG), Call(torch.rand(36, 64), torch.rand(1, 1, 7, 7))],
    "efficiency.storage_bytes": [Call("operator"), Call(None)],
    "efficiency.costs": [Call(HUGE, HUGE, 3, 3), Call(8, 8, 0, 3), Call(8, 8, 3, 3, sparse_layout="x"),
                         Call(8, 8, 3, 3, in_channels=HUGE)],
    "efficiency.time_methods": [Call(WEIGHT, HUGE, HUGE), Call(WEIGHT, 8, 8, methods=["fft"]),
                                Call(WEIGHT, 8, 8, repeats=0), Call(WEIGHT, 8, 8, repeats=HUGE),
                                Call(WEIGHT, 8, 8, min_run_seconds=HUGE), Call(WEIGHT, 8, 8, clock="x")],
    "efficiency.time_ratio": [Call("fast", [1.0, 2.0]), Call([1.0, 2.0], [1.0]), Call([1.0, -2.0], [1.0, 2.0]),
                              Call([1.0, 2.0], [1.0, 2.0], margin=1.0), Call([1.0, 2.0], [1.0, 2.0], confidence=2.0)],
    "efficiency.onednn_enabled": [Call("yes"), Call(None)],
    "efficiency.conv_backend": [Call((1, 1, HUGE, HUGE), (1, 1, 3, 3)), Call((1, 2, 8, 8), (1, 1, 3, 3)),
                                Call("shape", (1, 1, 3, 3)), Call((1, 1, 8, 8), (1, 1, 3, 3), threads=0),
                                Call((1, 1, 8, 8), (1, 1, 9, 9)), Call((1, 1, 8, 8), (1, 1, 3, 3), onednn="no")],
    "efficiency.time_rounds": [Call(WEIGHT, 8, 8, rounds=1), Call(WEIGHT, 8, 8, rounds=HUGE),
                               Call(WEIGHT, 8, 8, methods=["fft"]), Call(WEIGHT, HUGE, HUGE)],
    "efficiency.layer_passes": [Call(HUGE, 1, 3, 8), Call(1, 1, 3, HUGE), Call(1, 1, 3, 8, batch=HUGE),
                                Call(1, 1, 3, 8, rounds=1), Call(1, 1, 3, 8, onednn="no"), Call(1, 1, 0, 8)],
    "efficiency.Rounds.ratio": [Call(ROUNDS, "fft", "a"), Call(ROUNDS, "a", "b", margin=0.5)],
    "efficiency.cache_test": [Call(HUGE), Call(1), Call(8, rounds=HUGE), Call(8, evict_bytes=2**31),
                              Call(8, clock="x")],
    "efficiency.PowerLaw.exponent_interval": [Call(POWER, 2.0), Call(POWER, "x")],
    "efficiency.PowerLaw.interval": [Call(POWER, -1.0), Call(POWER, "x"), Call(POWER, 4.0, confidence=0.0)],
    "efficiency.Sweep.per_pixel": [Call(SWEEP, "fft"), Call(SWEEP, None)],
    "efficiency.Sweep.fit_passes": [Call(SWEEP, "fft"), Call(SWEEP, "convolution", HUGE), Call(SWEEP, None)],
    "efficiency.machine_memory": [],
    "efficiency.network_costs": [Call("model", (3, 8, 8)), Call(nn.Conv2d(3, 4, 3), (3, 8, 8)),
                                 Call(nn.Conv2d(3, 4, 3, device="meta"), (3, HUGE, 8)),
                                 Call(nn.Conv2d(3, 4, 3, device="meta"), (4, 8, 8)),
                                 Call(nn.Conv2d(3, 4, 3, device="meta"), "shape")],
    "efficiency.vgg16": [Call(0), Call(HUGE), Call("ten")],
    "efficiency.power_law_fit": [Call([1.0], [1.0]), Call([1.0, 2.0], [0.0, 1.0]), Call("x", "y")],
    "efficiency.sweep": [Call(WEIGHT, [HUGE]), Call(WEIGHT, []), Call(WEIGHT, [8], repeats=0),
                         Call(WEIGHT, [8], dense_sides=[HUGE]), Call(WEIGHT, [8], rounds=0)],
    # equivariance
    "equivariance.shift": [Call("x", 1, 1), Call(X8, HUGE, 0), Call(X8, 0, 1.5), Call(X8, 1, 1, "reflect")],
    "equivariance.output_shift": [Call(2, 1, 2), Call("2", 0), Call(2, 2, 0), Call(2, 2, stride=1.5)],
    "equivariance.crop_border": [Call("y", 1), Call(X8, HUGE), Call(X8, -1)],
    "equivariance.compare_shift": [Call("f", X8, 1, 1), Call(CONV, "x", 1, 1), Call(CONV, X8, HUGE, 0),
                                   Call(CONV, X8, 1, 1, mode="reflect"), Call(CONV, X8, 1, 1, stride=HUGE),
                                   Call(CONV, X8, 1, 1, crop=HUGE), Call(CONV, torch.rand(2, 3, 8, 8), 1, 1),
                                   Call(lambda x: "y", X8, 1, 1), Call(CONV, torch.zeros(2, 1, 8, 8), 1, 1)],
    "equivariance.equivariance_error": [Call("f", X8, 1, 1), Call(CONV, X8, 1, 1, stride=2),
                                        Call(CONV, X8, HUGE, 0), Call(CONV, torch.rand(2, 3, 8, 8), 1, 1)],
    "equivariance.invariance_error": [Call("f", X8, 1, 1), Call(CONV, "x", 1, 1), Call(CONV, X8, 0, HUGE),
                                      Call(CONV, X8, 1, 1, mode="reflect"), Call(CONV, torch.rand(2, 3, 8, 8), 1, 1)],
    "equivariance.fractional_shift": [Call("y", 0.5, 0.5), Call(X8, float("nan"), 0), Call(X8, 0, "1"),
                                      Call(X8, float("inf"), 0)],
    "equivariance.aliasing_error": [Call("f", X8, 1, 1), Call(CONV, X8, 1, 1, stride=HUGE), Call(CONV, X8, 1, 1),
                                    Call(CONV, X8, HUGE, 0), Call(CONV, torch.rand(2, 3, 8, 8), 1, 1, stride=1)],
    "equivariance.zero_padding_discrepancy": [Call(HUGE, HUGE, 3, 0, 0), Call(8, 8, 2, 1, 1), Call(8, 8, 3, 8, 0),
                                              Call(8, 8, 3, 1, 1, bias=1), Call("8", 8, 3, 1, 1)],
    "equivariance.border_margin": [Call(4, 1, 1), Call(0, 1, 1), Call(3, 1, 1, bias="no"), Call(3, 1.5, 1),
                                   Call(HUGE + 1, 1, 1)],
    "equivariance.corner_image": [Call(HUGE), Call(4), Call(32, corner=(30, 30)), Call(32, corner="ab"),
                                  Call(32, arm=HUGE)],
    "equivariance.corner_detector": [],
    "equivariance.peak": [Call("y"), Call(torch.rand(3)), Call(torch.rand(1, 2, 4, 4))],
    "equivariance.random_conv": [Call(HUGE, 1, seed=0), Call(1, HUGE, seed=0), Call(1, 1, HUGE, seed=0),
                                 Call(1, 1, 4, seed=0), Call(1, 1, seed=-1), Call(1, 1, seed=0, padding_mode="x"),
                                 Call(1, 1, seed=0, bias="yes")],
    "equivariance.edge_conv": [Call("reflect"), Call(stride=HUGE), Call(stride=0)],
    "equivariance.rotate90": [Call("x"), Call(X8, HUGE), Call(X8, 1.0)],
    "equivariance.upscale": [Call("x"), Call(X8, HUGE), Call(X8, 0)],
    "equivariance.transform_error": [Call("f", X8, equivariance.rotate90), Call(CONV, X8, "rotate"),
                                     Call(CONV, "x", equivariance.rotate90),
                                     Call(CONV, X8, lambda x: x.repeat(1, 3, 1, 1)),
                                     Call(CONV, torch.rand(2, 3, 8, 8), equivariance.rotate90)],
    "equivariance.binomial_taps": [Call(HUGE), Call(0), Call("3")],
    "equivariance.blur_kernel": [Call(HUGE), Call(0), Call(None)],
    "equivariance.BlurPool": [Call(HUGE), Call(0), Call(2, "reflect"), Call(2, taps=HUGE)],
    "equivariance.BlurPool.forward": [Call(BLUR, "x"), Call(BLUR, torch.rand(8, 8)), Call(BLUR, torch.rand(2, 3, 8, 8)),
                                      Call(equivariance.BlurPool(2, taps=7), torch.rand(2, 2, 2, 2))],
    "equivariance.MaxBlurPool": [Call(HUGE), Call(0), Call(2, "reflect"), Call(2, taps=HUGE)],
    "equivariance.MaxBlurPool.forward": [Call(MAXBLUR, "x"), Call(MAXBLUR, torch.rand(2, 3, 8, 8)),
                                         Call(MAXBLUR, torch.rand(2, 2, 1, 1))],
    "equivariance.GlobalAveragePool": [],
    "equivariance.GlobalAveragePool.forward": [Call(GAP, "x"), Call(GAP, torch.rand(8, 8))],
    "equivariance.pooling": [Call("pool", 2), Call("blur", HUGE), Call("max", HUGE), Call("blur", 2, "reflect"),
                             Call("blur", 2, taps=HUGE)],
    "equivariance.edge_features": [Call("reflect"), Call(None)],
    "equivariance.tiles": [Call("image", 2), Call(X8[0], HUGE), Call(X8[0], 0), Call(X8, 2)],
    "equivariance.pooling_stack": [Call(HUGE, seed=0), Call(1, seed=-1), Call(1, seed=0, channels=HUGE),
                                   Call(1, seed=0, pool="median"), Call(1, seed=0, padding_mode="reflect")],
    "equivariance.first_stages": [Call("stack", 1), Call(STACK, HUGE), Call(STACK, -1), Call(nn.Sequential(), 0)],
    "equivariance.conv_multiply_adds": [Call(NOT_A_NETWORK, X8), Call(STACK, "x"), Call(nn.Sequential(nn.ReLU()), X8),
                                        Call(STACK, torch.rand(2, 3, 8, 8))],
    "equivariance.border_distance": [Call(HUGE, HUGE), Call(0, 8), Call(8, "8")],
    "equivariance.border_profile": [Call("y"), Call(torch.rand(2, 1, 8, 8)), Call(torch.zeros(1, 1, 8, 8))],
    "equivariance.distinct_positions": [Call("y"), Call(torch.rand(2, 1, 8, 8))],
    "equivariance.SmallCNN": [Call("mean"), Call(channels=(HUGE, 2)), Call(channels="ab"),
                              Call(n_classes=HUGE), Call(n_classes=1)],
    "equivariance.SmallCNN.forward": [Call(SMALL, "x"), Call(SMALL, torch.rand(2, 3, 8, 8)),
                                      Call(SMALL, torch.rand(8, 8))],
    "equivariance.build_and_train": [Call("mean", X8, LABELS[:2], seed=0), Call("max", "x", LABELS[:2], seed=0),
                                     Call("max", X8, LABELS[:2], seed=-1),
                                     Call("max", X8, LABELS[:2], seed=0, channels=(HUGE, 2)),
                                     Call("max", X8, LABELS[:2], seed=0, max_epochs=HUGE),
                                     Call("max", X8, LABELS[:2], seed=0, bogus=1)],
    "equivariance.consistency": [Call(NOT_A_NETWORK, X8, 1, seed=0), Call(SMALL, "x", 1, seed=0),
                                 Call(SMALL, X8, HUGE, seed=0), Call(SMALL, X8, 1, seed=-1),
                                 Call(SMALL, torch.rand(2, 3, 8, 8), 1, seed=0)],
    "equivariance.same_prediction": [Call(NOT_A_NETWORK, X8, [(1, 1)]), Call(SMALL, "x", [(1, 1)]),
                                     Call(SMALL, X8, []), Call(SMALL, X8, "ab"), Call(SMALL, X8, [(1, 2, 3)]),
                                     Call(SMALL, X8, [(HUGE, 0)]), Call(SMALL, torch.rand(2, 3, 8, 8), [(1, 1)])],
    "equivariance.rotated_copies": [Call("conv"), Call(nn.Conv2d(1, 1, (3, 5))), Call(nn.Conv2d(2, 2, 3, groups=2))],
    "equivariance.padded_stack": [Call(3, seed=0), Call(-1, seed=0), Call(1, seed=-1), Call(1, seed=0, layers=HUGE),
                                  Call(1, seed=0, channels=HUGE), Call(1.5, seed=0)],
    "equivariance.shift_averaged_map": [Call(HUGE, seed=0), Call(0, seed=0), Call(4.5, seed=0), Call(4, seed=-1)],
    "equivariance.conv_from_impulse_response": [Call("h"), Call(torch.zeros(1, 1, 4, 4)), Call(torch.zeros(2, 1, 3, 3)),
                                                Call(torch.zeros(1, 1, 3, 5)), Call(torch.zeros(1, 1, 3, 3), flip=1)],
    "equivariance.group_filters": [Call("psi"), Call(torch.zeros(2, 4, 3, 3)), Call(torch.zeros(1, 4, 3, 5)),
                                   Call(torch.zeros(1, 4, 3, 3), cycle="yes")],
    # receptive fields
    "receptive_fields.Layer": [Call("pool"), Call("conv", HUGE), Call("conv", 3, HUGE), Call("conv", 3, 1, HUGE),
                               Call("conv", 3, 1, 0, HUGE), Call("conv", 0), Call("maxpool", 3, 1, 2),
                               Call("avgpool", 3, dilation=2), Call("conv", 1.5)],
    "receptive_fields.Field.start": [Call(RF_FIELD, "1"), Call(RF_FIELD, 1.5)],
    "receptive_fields.receptive_field": [Call("layers"), Call(LAYERS[0]), Call([LAYERS[0], "conv"])],
    "receptive_fields.layers_of": [Call(NOT_A_NETWORK), Call(nn.Conv2d(1, 1, 3)),
                                   Call(nn.Sequential(nn.Upsample(scale_factor=2))),
                                   Call(nn.Sequential(nn.Conv2d(1, 1, (3, 5)))),
                                   Call(nn.Sequential(nn.Conv2d(1, 1, 3, padding="same")))],
    "receptive_fields.min_input_size": [Call("layers"), Call([None])],
    "receptive_fields.output_sizes": [Call(LAYERS, 2), Call(LAYERS, 8.0), Call("layers", 8)],
    "receptive_fields.support": [Call(LAYERS, 8, HUGE), Call(LAYERS, HUGE, 0), Call(LAYERS, 2, 0), Call("layers", 8, 0),
                                 Call((Layer("conv", 4096, 4096),) * 3, 4096**3, 0)],
    "receptive_fields.Region.mask": [Call(REGION, HUGE), Call(REGION, 0), Call(REGION, "8")],
    "receptive_fields.input_region": [Call(LAYERS, 8, HUGE, 0), Call(LAYERS, 8, 0, -1), Call(LAYERS, HUGE, 0, 0),
                                      Call("layers", 8, 0, 0)],
    "receptive_fields.UnitFields.centre": [Call(UNIT, HUGE), Call(UNIT, -1), Call(UNIT, "1")],
    "receptive_fields.unit_fields": [Call(LAYERS, 8, HUGE, 0, 0), Call(LAYERS, 8, 2, HUGE, 0),
                                     Call(LAYERS, HUGE, 2, 0, 0), Call("layers", 8, 2, 0, 0)],
    "receptive_fields.interior_size": [Call("layers"), Call([None])],
    "receptive_fields.measuring_network": [Call("layers"), Call(LAYERS, keep_max="yes"),
                                           Call(LAYERS, dtype=torch.int64), Call(HUGE_LAYER * 32)],
    "receptive_fields.measured_gradient": [Call(LAYERS, HUGE, 0, 0), Call(LAYERS, 8, HUGE, 0),
                                           Call(LAYERS, 8, 0, 0, x=MAP[:4]), Call(LAYERS, 8, 0, 0, x=-MAP),
                                           Call("layers", 8, 0, 0)],
    "receptive_fields.random_stack": [Call("generator"), Call(torch.Generator(), HUGE), Call(torch.Generator(), 0)],
    "receptive_fields.support_box": [Call("values"), Call(torch.zeros(4, 4)), Call(torch.rand(4))],
    "receptive_fields.random_network": [Call(LAYERS, HUGE), Call(LAYERS, 0), Call(LAYERS, seed=-1),
                                        Call(LAYERS, seed=HUGE**3), Call(LAYERS, relu="yes"), Call(HUGE_LAYER, 256),
                                        Call("layers")],
    "receptive_fields.effective_field": [Call(NOT_A_NETWORK, X8), Call(RF_NET, "x"),
                                         Call(RF_NET, torch.rand(2, 3, 8, 8)), Call(nn.Flatten(), X8),
                                         Call(RF_NET, torch.zeros(2, 1, 8, 8))],
    "receptive_fields.random_effective_field": [Call(LAYERS, HUGE), Call(LAYERS, 2), Call(LAYERS, 8, networks=HUGE),
                                                Call(LAYERS, 8, samples=HUGE), Call(LAYERS, 8, channels=HUGE),
                                                Call(LAYERS, 8, seed=-1), Call("layers", 8),
                                                Call(LAYERS, 4096, samples=1024, channels=256),
                                                Call(LAYERS, 8, seed=2**70)],
    "receptive_fields.centre_effective_field": [Call(LAYERS, HUGE), Call(LAYERS, 2), Call(LAYERS, 8, networks=HUGE),
                                                Call(LAYERS, 8, samples=0), Call(LAYERS, 8, channels=HUGE),
                                                Call([Layer("conv", 3, padding=1)] * 3, 4)],
    "receptive_fields.zero_gradient_fraction": [Call(NOT_A_NETWORK, X8), Call(RF_NET, "x"), Call(nn.Flatten(), X8),
                                                Call(RF_NET, torch.rand(2, 3, 8, 8))],
    "receptive_fields.sigma": [Call("field"), Call(-MAP), Call(MAP, axis=2), Call(torch.zeros(4, 4))],
    "receptive_fields.mass_square": [Call("field"), Call(MAP, 0), Call(MAP, 1.5), Call(MAP, "half"), Call(-MAP)],
    "receptive_fields.mass_squares": [Call(MAP, []), Call(MAP, "ab"), Call(MAP, [0.5, 2.0]), Call("field")],
    "receptive_fields.window_mass": [Call("field", 2), Call(MAP, 0), Call(MAP, 2.5), Call(-MAP, 2)],
    "receptive_fields.mass_side": [Call("field"), Call(MAP, 0), Call(MAP, float("nan"))],
    "receptive_fields.without_biases": [Call(NOT_A_NETWORK), Call("net")],
    "receptive_fields.DigitsCNN": [Call("layers"), Call([]), Call((Layer("maxpool", 2, 2),)), Call(LAYERS, HUGE),
                                   Call(LAYERS, seed=-1), Call(LAYERS, seed="0")],
    "receptive_fields.DigitsCNN.forward": [Call(DIGITS, "x"), Call(DIGITS, torch.rand(2, 3, 8, 8)),
                                           Call(DIGITS, torch.rand(8, 8))],
    "receptive_fields.architecture_layers": [Call("ResNet-18"), Call("AlexNet", "conv9"), Call(None)],
    "receptive_fields.architecture_field": [Call("ResNet-18"), Call("AlexNet", "conv9"), Call(["AlexNet"])],
    "receptive_fields.OnImage.centre": [Call(ON_IMAGE, "1"), Call(ON_IMAGE, 1.5)],
    "receptive_fields.on_image": [Call(LAYERS, HUGE), Call(LAYERS, 2), Call("layers", 8), Call(LAYERS, 8.0)],
    "receptive_fields.residual_path_fields": [Call("VGG-16"), Call("ResNet-18"), Call(None)],
    # live platform and the kernel playground
    "platform.esm": [Call("layers"), Call("nope"), Call("../live/kernel_playground"), Call(3)],
    "platform.figures": [],
    "platform.to_buffer": [Call("tensor"), Call([1.0, 2.0]), Call(torch.zeros(2, dtype=torch.complex64))],
    "platform.image_buffer": [Call("image"), Call([0.5]), Call(torch.zeros(2, dtype=torch.complex64))],
    "platform.export_layers": [Call(NOT_A_NETWORK), Call(nn.Sequential()), Call(nn.Tanh()),
                               Call(nn.Conv2d(1, 1, 3, padding_mode="reflect"))],
    "platform.colormap": [Call("no such map"), Call(3), Call(None)],
    "kernel_playground.playground_presets": [Call(HUGE), Call(0), Call("3")],
    "kernel_playground.kernel_playground": [Call("image"), Call(torch.rand(3, HUGE // 10**6, 8)),
                                            Call(torch.rand(2, 8, 8)), Call(IMG[0], padding="reflect"),
                                            Call(IMG[0], stride=HUGE), Call(IMG[0], limit=HUGE),
                                            Call(IMG[0], preset="sharpen"), Call(IMG[0], presets={}),
                                            Call(IMG[0], presets={"a": torch.zeros(1, 3, 3)} | {
                                                str(i): torch.zeros(1, 3, 3) for i in range(100)}),
                                            Call(IMG[0], presets={"a": torch.zeros(3, 3, 3)}),
                                            Call(IMG[0], description=""), Call(IMG[0], description=3)],
    "digit_pad.digit_pad": [Call("models", PAD_DIGITS, [0]), Call({}, PAD_DIGITS, [0]),
                            Call(PAD_MODELS, torch.rand(1, 1, 1000, 1000), [0]),
                            Call(PAD_MODELS, torch.rand(HUGE // 10**7, 16, 16), [0]),
                            Call(PAD_MODELS, PAD_DIGITS, "0"), Call(PAD_MODELS, PAD_DIGITS, [HUGE]),
                            Call(PAD_MODELS, PAD_DIGITS, [0], digit=HUGE),
                            Call(PAD_MODELS, PAD_DIGITS, [0], guide=HUGE),
                            Call(PAD_MODELS, PAD_DIGITS, [0], brush=float("nan")),
                            Call(PAD_MODELS, PAD_DIGITS, [0], features=3),
                            Call({"a": nn.Sequential(nn.Flatten(), nn.Linear(HUGE // 10**6, 10))}, PAD_DIGITS, [0])],
    "shift_figure.total_stride": [Call(3, "none"), Call(2, "min"), Call("2", "max"), Call(True, "none")],
    "shift_figure.shift_model": [Call("kernel"), Call(torch.ones(2, 3)), Call(torch.ones(3, 3), "reflect"),
                                 Call(torch.ones(3, 3), stride=HUGE), Call(torch.ones(3, 3), pooling="min")],
    "shift_figure.shift_scenes": [Call(HUGE), Call(34), Call("64"), Call(16)],
    "shift_figure.shift_figure": [Call("scenes"), Call({}), Call({"a": (torch.rand(1, 32, 32), torch.zeros(3, 3))}),
                                  Call({"a": (torch.rand(1, HUGE // 10**6, 32), torch.ones(3, 3))}),
                                  Call(max_shift=HUGE),
                                  Call(shift=(HUGE, 0)), Call(shift="1, 1"), Call(padding="reflect"), Call(stride=HUGE),
                                  Call(pooling="min"), Call(scene="moon")],
}


# --------------------------------------------------------------------------- the drawing layer
# Every public function of draw/ is enumerated too. Their arguments are mostly results of the
# compute layer (a wrong kind must be refused by name) and sizes or choices a reader sets.

DRAW_MODULES = tuple(importlib.import_module(f"widgets.draw.{m}") for m in (
    "conv_layer", "efficiency", "equivariance", "feature_hierarchy", "local_connectivity", "parameter_sharing",
    "receptive_fields", "style", "trained_networks"))


def draw_callables() -> dict[str, object]:
    """Public functions of :data:`DRAW_MODULES`, as ``"draw.<module>.<name>"``."""
    found = {}
    for module in DRAW_MODULES:
        for name, obj in vars(module).items():
            if not name.startswith("_") and getattr(obj, "__module__", None) == module.__name__ \
                    and inspect.isfunction(inspect.unwrap(obj)):
                found[f"draw.{module.__name__.rsplit('.', 1)[1]}.{name}"] = obj
    return found


FIG, AXES = draw.style.figure(2)  # span_cells' cases may remove these axes: only span_cells uses them
SHOWN = draw.style.figure()[1][0, 0]  # an axis with an image, for write_values
draw.style.show_image(SHOWN, torch.rand(8, 8))
AX = draw.style.figure()[1][0, 0]
STEP = conv_layer.multiply_add(IMG[0, 0], KERNEL3, 0, 0)
PHOTO = torch.rand(8, 8)
POOL_X = torch.rand(4, 4)

DRAW_CASES: dict[str, list[Call]] = {
    "draw.conv_layer.multiply_add": [Call(PHOTO, "step"), Call(PHOTO, None)],
    "draw.conv_layer.feature_maps": [Call(PHOTO[None], torch.rand(2, 6, 6), ["a", "b"], slots=HUGE),
                                     Call(PHOTO[None], torch.rand(2, 6, 6), ["a"]),
                                     Call(PHOTO[None], torch.rand(2, 6, 6), ["a", "b"], slots=-1),
                                     Call(PHOTO[None], torch.rand(2, 6, 6), ["a", "b"], bounds=[1.0, 0.0])],
    "draw.conv_layer.input_dependence": [Call("image", PHOTO), Call(PHOTO, torch.rand(3))],
    "draw.conv_layer.channel_products": [Call("step"), Call(None)],
    "draw.conv_layer.padding_borders": [Call(PHOTO, "maps", {}), Call(PHOTO, {"zeros": PHOTO}, {})],
    "draw.conv_layer.learned_kernels": [Call("results"), Call([]), Call([None])],
    "draw.conv_layer.pool_routing": [Call(POOL_X, POOL_X[:2, :2], POOL_X[:2, :2], POOL_X, kernel_size=HUGE),
                                     Call(POOL_X, POOL_X[:2, :2], POOL_X[:2, :2], POOL_X, kernel_size=0),
                                     Call(POOL_X, POOL_X[:1, :1], POOL_X[:2, :2], POOL_X),
                                     Call("x", POOL_X[:2, :2], POOL_X[:2, :2], POOL_X)],
    "draw.efficiency.si": [Call("x"), Call(-1.0), Call(float("nan")), Call(1.0, 3)],
    "draw.efficiency.conv_matrix": [Call("m", (8, 8), (3, 3)), Call(torch.rand(HUGE // 10**6, 2), (8, 8), (3, 3)),
                                    Call(torch.rand(36, 64), (8, 8), (3, 3), size=(HUGE, 1))],
    "draw.efficiency.times": [Call("x"), Call(0.0), Call(float("inf"))],
    "draw.efficiency.log_limits": [Call(), Call(-1.0), Call("x")],
    "draw.efficiency.cost_bars": [Call("costs", {"convolution": 1.0}), Call(None, {})],
    "draw.efficiency.scaling": [Call("p", {}, {}, {}), Call({"convolution": [1, 2]}, {"convolution": [1, 2]},
                                                          {"convolution": [1, 2]}, {}, fit_range=(2, 1)),
                                Call({"convolution": [1, 2]}, {"convolution": [1, 2]}, {}, {}, switch=-1)],
    "draw.efficiency.method_style": [Call("fft"), Call(None)],
    "draw.efficiency.colour_name": [Call("fft"), Call(None)],
    "draw.efficiency.network_costs": [Call("layers"), Call([]), Call([None])],
    "draw.equivariance.corner_detection": [Call("image", PHOTO, PHOTO, PHOTO, shift=(1, 1)),
                                           Call(PHOTO, PHOTO, PHOTO, PHOTO, shift="ab"),
                                           Call(PHOTO, PHOTO, PHOTO, PHOTO, shift=(HUGE, 0))],
    "draw.equivariance.shift_comparison": [Call("comparison"), Call(None)],
    "draw.equivariance.aliasing_bars": [Call("errors"), Call({}), Call({"max": [0.1, 0.2]}, shift=HUGE),
                                        Call({"max": [0.1, 0.2]}, what=3)],
    "draw.equivariance.consistency_bars": [Call("results"), Call({})],
    "draw.equivariance.transform_failure": [Call("rows"), Call([])],
    "draw.equivariance.invariance_by_depth": [Call("maps", "averaged"), Call([[0.1, 0.2]], [[0.1, 0.2]], shift=HUGE),
                                              Call([[0.1, 0.2]], [[0.1, 0.2]], shift="1")],
    "draw.equivariance.border_maps": [Call("maps"), Call({}), Call({"a": torch.rand(1, 2, 8, 8)}, channel=HUGE)],
    "draw.feature_hierarchy.channel_grid": [Call("tops", [], layer=1, field=3), Call([], [], layer=1, field=3),
                                            Call([TOP], [False], layer=1, field=3, untrained="control")],
    "draw.feature_hierarchy.feature_frame": [Call(PHOTO, PHOTO, "top", layer=1, channel=0, field=FIELD),
                                             Call(PHOTO, PHOTO, None, layer=1, channel=0, field=FIELD)],
    "draw.feature_hierarchy.by_layer": [Call("measures", fields=[3]), Call({"a": [[1.0]]}, fields=[0]),
                                        Call({"a": [[1.0]]}, fields=[HUGE]),
                                        Call({"a": [[1.0]]}, fields=[3], untrained={"b": [[1.0]]}),
                                        Call({"a": [[1.0]]}, fields=[3], chance="a")],
    "draw.local_connectivity.connections": [Call("image", {}, {}), Call(PHOTO, "masks", {})],
    "draw.local_connectivity.four_regions": [Call("image"), Call(PHOTO, kernels="k")],
    "draw.local_connectivity.count_scaling": [Call("pixels", {}), Call([8, 16], "counts")],
    "draw.local_connectivity.neighbour_correlation": [Call("d", {}), Call([1, 2], "curves"), Call([1, 2], {"a": [1]})],
    "draw.parameter_sharing.parameter_bars": [Call("counts", image_size=8, in_channels=1, out_channels=1,
                                                   kernel_size=3),
                                              Call({"dense": 1, "locally connected": 1, "convolution": 1},
                                                   image_size=HUGE, in_channels=1, out_channels=1, kernel_size=3),
                                              Call({"dense": 1, "locally connected": 1, "convolution": 1},
                                                   image_size=8, in_channels=1, out_channels=1, kernel_size=9)],
    "draw.parameter_sharing.detector_everywhere": [
        Call("canvas", {}, learned=2, top=0, left=0, patch=3),
        Call(PHOTO, {"convolution": PHOTO, "locally connected": PHOTO}, learned=HUGE, top=0, left=0, patch=3),
        Call(PHOTO, {"convolution": PHOTO, "locally connected": PHOTO}, learned=2, top=HUGE, left=0, patch=3),
        Call(PHOTO, {"convolution": PHOTO, "locally connected": PHOTO}, learned=2, top=0, left=0, patch=-1)],
    "draw.parameter_sharing.scrambled": [Call("image", PHOTO, 0.5, 0.1), Call(PHOTO, PHOTO, "a", 0.1),
                                         Call(PHOTO, PHOTO, float("nan"), 0.1)],
    "draw.parameter_sharing.prior_study": [Call("study", {}), Call(None, {})],
    "draw.receptive_fields.field_views": [Call(PHOTO, "region", PHOTO, PHOTO, {0.5: (0, 0, 2)}),
                                          Call(PHOTO, REGION, PHOTO, PHOTO, {0.5: (0, 0, 2)}, jump=0),
                                          Call(PHOTO, REGION, PHOTO, PHOTO, {0.5: (0, 0, 2)}, jump=HUGE),
                                          Call(PHOTO, REGION, PHOTO, PHOTO, "squares")],
    "draw.receptive_fields.gradient_supports": [Call(PHOTO, "gradients"), Call(PHOTO, {"a": PHOTO}, region="r")],
    "draw.receptive_fields.width_growth": [Call([1, 2], [3, 5], [2, 3], "sigmas"),
                                           Call([1, 2], [3], [2, 3], {"a": [1, 2]})],
    "draw.receptive_fields.effective_fields": [Call("maps", REGION), Call({"a": PHOTO}, "region"),
                                               Call({"a": PHOTO}, REGION, rows=3)],
    "draw.style.series": [Call(HUGE), Call(-1), Call("1")],
    "draw.style.kind": [Call("pooling"), Call(None)],
    "draw.style.kind_colour": [Call("pooling"), Call(3)],
    "draw.style.kind_series": [Call("pooling", 0), Call("dense", HUGE)],
    "draw.style.styled": [Call("draw"), Call(None)],
    "draw.style.figure": [Call(HUGE), Call(0), Call(1, HUGE), Call(width=HUGE), Call(height=0.0), Call(width="8"),
                          Call(alt=3)],
    "draw.style.span_cells": [Call("fig", AXES, 0, slice(0, 2)), Call(FIG, "axes", 0, slice(0, 2)),
                              Call(FIG, AXES, HUGE, 0)],
    "draw.style.show_image": [Call("ax", PHOTO), Call(AX, "values"), Call(AX, torch.rand(3)),
                              Call(AX, PHOTO, cmap="no such map")],
    "draw.style.write_values": [Call("ax", PHOTO), Call(SHOWN, PHOTO, fontsize=HUGE), Call(SHOWN, PHOTO, fmt=3),
                                Call(AX, PHOTO)],
    "draw.style.outline": [Call("ax", 0, 0, 2, 2), Call(AX, "0", 0, 2, 2), Call(AX, 0, 0, -1, 2),
                           Call(AX, 0, 0, HUGE, 2)],
    "draw.style.min_font_points": [Call(0), Call(-1.0), Call("8"), Call(float("nan"))],
    "draw.style.legible": [Call("fig"), Call(None)],
    "draw.style.render": [Call("fig"), Call(FIG, dpi=HUGE), Call(FIG, dpi=0), Call(FIG, trim="yes")],
    "draw.style.render_both": [Call("fig"), Call(FIG, dpi=0), Call(FIG, trim="yes")],
    "draw.style.to_png": [Call("fig"), Call(FIG, dpi=HUGE)],
    "draw.style.phone_size": [Call("picture"), Call(None)],
    "draw.style.pad_to_height": [Call("picture", 10), Call(None, 10),
                                 Call(draw.style.Picture(b"", "image/png", 1, 1), 0),
                                 Call(draw.style.Picture(b"", "image/png", 1, 1), "10")],
    "draw.style.img_tag": [Call("picture", "alt"), Call(b"not a png", "alt"), Call(None, "alt")],
    "draw.style.markdown_table": [Call("headers", []), Call([], []), Call(["a"], [["1", "2"]]), Call(["a"], "rows")],
    "draw.style.fit_suptitle": [Call("fig", "title"), Call(FIG), Call(FIG, 3), Call(FIG, " "), Call(None, "title")],
    "draw.style.grow_top": [Call("fig", 1.0), Call(FIG, -1.0), Call(FIG, HUGE), Call(FIG, "1")],
    "draw.style.fit_top": [Call("fig"), Call(None)],
    "draw.style.narrow_layout": [Call("fig"), Call(None)],
    "draw.style.room_for_labels": [Call("ax", []), Call(AX, "labels"), Call(AX, [3]), Call(AX, [], pad_px=-1)],
    "draw.style.keep_inside": [Call("ax", []), Call(AX, "texts"), Call(AX, [None]), Call(AX, [], pad_px=HUGE)],
    "draw.trained_networks.kernels_before_after": [Call("before", KERNEL3, KERNEL3),
                                                   Call(torch.rand(3), KERNEL3, KERNEL3)],
    "draw.trained_networks.placements": [Call(IMG, IMG, count=HUGE), Call(IMG, IMG, count=0), Call("c", IMG)],
    "draw.trained_networks.sample_efficiency": [Call("sizes", {}), Call([10], {}), Call([10], {"a": {}}, chance=2.0)],
    "draw.trained_networks.shift_generalisation": [Call("shifts", {}, IMG), Call([0], {}, IMG)],
    "draw.trained_networks.moved_digit": [Call("image", 1, {}), Call(PHOTO, HUGE, {"a": torch.full((10,), 0.1)}),
                                          Call(PHOTO, 1, {})],
}


def test_every_draw_function_has_cases():
    found = draw_callables()
    assert not sorted(set(found) - set(DRAW_CASES)), "draw functions without bad-argument cases"
    assert not set(DRAW_CASES) - set(found), "cases for draw functions that no longer exist"
    assert all(DRAW_CASES.values())


@pytest.mark.parametrize("name", sorted(DRAW_CASES))
def test_draw_bad_arguments_raise_value_or_type_error(name, memory_cap):
    assert_refused(name, draw_callables()[name], DRAW_CASES[name])


def test_every_public_function_has_cases():
    found = public_callables()
    missing = sorted(set(found) - set(CASES))
    assert not missing, f"public functions without bad-argument cases: {missing}"
    assert not set(CASES) - set(found), "cases for functions that no longer exist"
    for name, fn in found.items():
        if not CASES[name]:  # only functions that take no arguments (but self) may have no cases
            assert not takes_arguments(fn), name
    assert TRAITLETS | RESULT_RECORDS <= {f"{m.__name__.rsplit('.', 1)[1]}.{n}" for m in METHOD_MODULES
                                          for n in vars(m)}, "exclusions of names that no longer exist"


def takes_arguments(fn) -> bool:
    """Whether a function, method or class takes arguments of its own (a class without ``__init__`` takes none)."""
    if inspect.isclass(fn) and "__init__" not in vars(fn):
        return False
    return bool(set(inspect.signature(fn).parameters) - {"self"})


@pytest.fixture
def memory_cap():
    """Cap the address space at one more gibibyte than the process uses, for the test's duration."""
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    with open("/proc/self/statm") as f:
        used = int(f.read().split()[0]) * resource.getpagesize()
    cap = used + 2**30
    if hard != resource.RLIM_INFINITY:
        cap = min(cap, hard)
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_arguments_raise_value_or_type_error(name, memory_cap):
    assert_refused(name, public_callables()[name], CASES[name])


def assert_refused(name, fn, calls):
    """Each well-formed call of ``fn`` with a bad argument raises ValueError or TypeError, nothing else."""
    signature = inspect.signature(fn)
    for call in calls:
        signature.bind(*call.args, **call.kwargs)  # the case itself is a well-formed call
        try:
            fn(*call.args, **call.kwargs)
        except (ValueError, TypeError):
            continue
        except Exception as err:  # noqa: BLE001 - the point is to report any other kind
            pytest.fail(f"{name}{call!r} raised {type(err).__name__}: {err}"[:400])
        pytest.fail(f"{name}{call!r} accepted a bad argument")
