"""EfficientNet-Lite0 as a Graph: architecture from the checkpoint, and fp32 classification of real photos."""

import numpy as np
import pytest

from adept_core import models
from adept_core.errors import InputError
from adept_core.graph.lowering import gemm_calls, is_depthwise
from adept_core.graph.ops import GRAPH_OPS
from adept_core.models import efficientnet_lite as enet
from adept_core.models.imagenet import PHOTO_LABELS
from adept_core.models.images import photo_batch

from fp32_oracle import run as oracle


@pytest.fixture(scope="module")
def weights():
    return enet.load_weights()


@pytest.mark.parametrize("size, kernel, stride, pads", [
    (224, 3, 2, (0, 1)),  # TF puts the odd pixel of padding after
    (112, 5, 2, (1, 2)),
    (14, 5, 1, (2, 2)),
    (7, 1, 1, (0, 0)),
    (225, 3, 2, (1, 1)),
])
def test_tf_same_padding(size, kernel, stride, pads):
    assert enet.same_pads(size, kernel, stride) == pads


def test_graph_structure(weights):
    g = enet.build_graph(1, weights=weights)
    assert {n.op for n in g.nodes} <= GRAPH_OPS
    convs = [n for n in g.nodes if n.op == "Conv"]
    assert len(convs) == 1 + 16 * 3 - 1 + 1  # stem, 16 x (expand, depthwise, project) less block 0's expand, head
    assert sum(is_depthwise(n, g) for n in convs) == 16
    assert sum(n.op == "BatchNormalization" for n in g.nodes) == len(convs)
    assert sum(n.op == "Add" for n in g.nodes) == 9  # residuals: stride 1 and same width
    assert g.shape(g.outputs[0]) == (1, 1000)
    assert [c.n for n in g.nodes for c in gemm_calls(n, g)][-1] == 1000  # the classifier runs on the core


def test_checkpoint_must_match_the_architecture(weights):
    broken = dict(weights)
    broken["_blocks.3._depthwise_conv.weight"] = np.zeros((144, 1, 3, 3), np.float32)
    with pytest.raises(InputError, match="depthwise kernel 3 in the checkpoint, 5"):
        enet.build_graph(1, weights=broken)
    broken = dict(weights)
    del broken["_blocks.15._project_conv.weight"]
    with pytest.raises(InputError, match="lacks"):
        enet.build_graph(1, weights=broken)


def test_chelsea_is_a_cat_and_coffee_is_coffee(weights):
    photos = ["chelsea", "coffee"]
    x = photo_batch(photos, enet.IMAGE_SIZE, enet.PIXEL_MEAN, enet.PIXEL_STD)
    assert x.shape == (2, 3, 224, 224) and -1.0 <= x.min() and x.max() <= 1.0
    logits = oracle(enet.build_graph(2, weights=weights), {"image": x})["logits"]
    top1 = logits.argmax(1)
    assert top1[0] in PHOTO_LABELS["chelsea"] and top1[1] in PHOTO_LABELS["coffee"]
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    assert p[0, sorted(PHOTO_LABELS["chelsea"])].sum() > 0.8  # confident, not a lucky argmax


def test_real_model_metrics():
    m = models.build("efficientnet-lite0", photos=["chelsea"])
    assert m.calibration_inputs["image"].shape == m.inputs["image"].shape
    ref = oracle(m.graph, m.inputs)
    assert m.compare(ref, ref) == {"top1_agree": 1.0, "top5_overlap": 1.0, "logit_cos_mean": pytest.approx(1.0),
                                   "label_top1": 1.0, "label_top5": 1.0}
    assert "cat" in m.describe(ref)[0]
    with pytest.raises(InputError, match="unknown photo"):
        models.build("efficientnet-lite0", photos=["lena"])


def test_executor_fp32_matches_the_oracle():
    from adept_core.emulate import prepare

    m = models.build("efficientnet-lite0", photos=["coffee"])
    got = prepare(m.graph, precision="fp32").run(m.inputs).outputs["logits"]
    want = oracle(m.graph, m.inputs)["logits"]
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-5 * np.abs(want).max())  # float32 through 50 layers
