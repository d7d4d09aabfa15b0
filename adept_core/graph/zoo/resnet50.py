"""ResNet-50 v1.5 for ImageNet (224 x 224), the MLPerf image-classification model.

v1.5 (as in torchvision and MLPerf) puts the stride-2 of a downsampling
bottleneck on its 3x3 convolution rather than on the first 1x1 (v1, the
original Caffe model), which costs more MACs: 4.089 GMAC per image counting
convolutions and the final fully connected layer (v1: 3.86 GMAC).

Convolutions have no bias; each is followed by a BatchNormalization node
(scale 1, bias 0, mean 0, variance 1), kept separate so the executor can fold
it (issue 4) and the scheduler can charge it to the ASIC if it does not.
"""

from __future__ import annotations

from ..ir import Graph
from ._builder import GraphBuilder, positive_int

#: (blocks, bottleneck width, stride of the first block) of the four stages.
STAGES = ((3, 64, 1), (4, 128, 2), (6, 256, 2), (3, 512, 2))
EXPANSION = 4
NUM_CLASSES = 1000
IMAGE_HW = 224


def build(batch: int = 1) -> Graph:
    """ResNet-50 v1.5 with input ``image [batch, 3, 224, 224]`` (float32, NCHW) and ``logits [batch, 1000]``."""
    batch = positive_int("batch", batch)
    g = GraphBuilder("resnet50")
    x = g.input("image", (batch, 3, IMAGE_HW, IMAGE_HW))
    x = g.unary("Relu", "conv1.relu", g.batchnorm("bn1", g.conv("conv1", x, 64, 7, stride=2, pad=3)))
    x = g.pool("MaxPool", "maxpool", x, 3, 2, 1)
    for s, (blocks, width, first_stride) in enumerate(STAGES, start=1):
        for i in range(blocks):
            x = _bottleneck(g, f"layer{s}.{i}", x, width, first_stride if i == 0 else 1)
    x = g.node("GlobalAveragePool", "avgpool", [x], [g.shapes[x][:2] + (1, 1)])[0]
    x = g.node("Flatten", "flatten", [x], [g.shapes[x][:2]], {"axis": 1})[0]
    w = g.weight("fc.weight", (NUM_CLASSES, g.shapes[x][1]))
    b = g.weight("fc.bias", (NUM_CLASSES,), "zeros")
    logits = g.node("Gemm", "fc", [x, w, b], [(batch, NUM_CLASSES)], {"alpha": 1.0, "beta": 1.0, "transA": 0, "transB": 1})[0]
    meta = {
        "source": "ResNet-50 v1.5 (He et al. 2016; stride on the 3x3 conv as in torchvision/MLPerf)",
        "batch": batch,
        "inputs": {"image": "float32 [batch, 3, 224, 224], NCHW, normalised pixels"},
        "outputs": {logits: "float32 [batch, 1000] class scores (before softmax)"},
        "weights": "He-normal (LazyWeight), seeds from model + weight name; BN is identity",
    }
    return g.graph([logits], meta)


def _bottleneck(g: GraphBuilder, name: str, x: str, width: int, stride: int) -> str:
    cin = g.shapes[x][1]
    cout = width * EXPANSION
    y = g.unary("Relu", f"{name}.relu1", g.batchnorm(f"{name}.bn1", g.conv(f"{name}.conv1", x, width, 1)))
    y = g.unary("Relu", f"{name}.relu2", g.batchnorm(f"{name}.bn2", g.conv(f"{name}.conv2", y, width, 3, stride, 1)))
    y = g.batchnorm(f"{name}.bn3", g.conv(f"{name}.conv3", y, cout, 1))
    if stride != 1 or cin != cout:
        x = g.batchnorm(f"{name}.downsample.bn", g.conv(f"{name}.downsample.conv", x, cout, 1, stride))
    return g.unary("Relu", f"{name}.relu3", g.binary("Add", f"{name}.add", y, x))
