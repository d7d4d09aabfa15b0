# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     name: python3
# ---

# %% [markdown]
# # Your ONNX model on the emulated chip
#
# This tutorial takes an ONNX file, runs it on the emulated ADEPT chip and on float32, says how
# close the two are, and prices the same graph with the cost model. It runs in a few seconds.
#
# **Getting an ONNX file from PyTorch.** adept never imports PyTorch; export your model where
# PyTorch is installed and bring the `.onnx` file here:
#
# ```python
# import torch
# model = MyNet().eval()
# example = torch.randn(1, 3, 32, 32)
# torch.onnx.export(model, example, "mynet.onnx", input_names=["image"], output_names=["logits"],
#                   opset_version=17, dynamic_axes={"image": {0: "batch"}})
# ```
#
# So that this page runs anywhere, the executed part builds a small convolutional network with
# `onnx.helper` instead and saves it to a temporary file.

# %%
import tempfile
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

rng = np.random.default_rng(0)


def weight(name, *shape):
    return numpy_helper.from_array((rng.standard_normal(shape) * 0.3).astype(np.float32), name)


nodes = [
    helper.make_node("Conv", ["image", "w1", "b1"], ["c1"], pads=[1, 1, 1, 1]),
    helper.make_node("Relu", ["c1"], ["r1"]),
    helper.make_node("GlobalAveragePool", ["r1"], ["pool"]),
    helper.make_node("Flatten", ["pool"], ["flat"]),
    helper.make_node("Gemm", ["flat", "w2", "b2"], ["logits"], transB=1),
]
graph = helper.make_graph(
    nodes, "tiny_cnn",
    [helper.make_tensor_value_info("image", TensorProto.FLOAT, [4, 3, 16, 16])],
    [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [4, 10])],
    [weight("w1", 16, 3, 3, 3), weight("b1", 16), weight("w2", 10, 16), weight("b2", 10)],
)
model_proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=10)
onnx.checker.check_model(model_proto)
path = Path(tempfile.mkdtemp()) / "tiny_cnn.onnx"
onnx.save(model_proto, path)
print(path.name, path.stat().st_size, "bytes")

# %% [markdown]
# ## Import it
#
# `from_onnx` reads the file into adept's Graph (weights as arrays; nothing in the file is executed).

# %%
from adept_core import from_onnx

g = from_onnx(path)
print(g.name, [node.op for node in g.nodes])

# %% [markdown]
# ## Run it on float32 and on the chip
#
# `prepare` makes a runnable model: `precision="fp32"` is the reference, the default is the
# emulated chip (photonic GEMMs with the link-budget noise of the hardware configuration, the
# rest on the bfloat16 ASIC). The ADC ranges are calibrated on a separate batch, as a deployed
# chip would be.

# %%
from adept_core import kernel_spec, load_config, prepare
from adept_core.emulate import compare, fold_batchnorm

cfg = load_config("adept")
g = fold_batchnorm(g)
images = {"image": rng.standard_normal((4, 3, 16, 16)).astype(np.float32)}
calibration = {"image": rng.standard_normal((4, 3, 16, 16)).astype(np.float32)}

reference = prepare(g, precision="fp32").run(images)
chip = prepare(g, spec=kernel_spec(cfg), adc="calibrated")
chip.calibrate(calibration)
result = chip.run(images, seed=0)

fid = compare(result.outputs["logits"], reference.outputs["logits"], classifier=True)
print(f"cosine {fid.cosine:.4f}, relative error {fid.rel_error:.3f}, argmax agreement {fid.top1_agreement:.2f}")

# %% [markdown]
# The verdict `adept run` prints uses the same numbers and a stated threshold:

# %%
from adept_core.verdict import verdict_lines

print("\n".join(verdict_lines(fid.cosine, None, 4, cfg.optics.laser_power_mw, cfg.photonic.adc_bits, "calibrated")))

# %% [markdown]
# ## What moves fidelity: the laser
#
# The analog noise falls as the laser power rises (`docs/noise.md`). Ten times the light:

# %%
bright_cfg = load_config("adept", {"optics.laser_power_mw": 10 * cfg.optics.laser_power_mw})
bright = prepare(g, spec=kernel_spec(bright_cfg), adc="calibrated")
bright.calibrate(calibration)
fid_bright = compare(bright.run(images, seed=0).outputs["logits"], reference.outputs["logits"], classifier=True)
print(f"laser x10: cosine {fid_bright.cosine:.4f} (was {fid.cosine:.4f})")

# %% [markdown]
# ## What it costs
#
# The cost model prices the same Graph on the same design. The command line does all of the
# above in one go: `adept run tiny_cnn.onnx` (add `--input x.npz` for your own data).

# %%
from adept_core import evaluate
from adept_core.energy.table import format_report

report = evaluate(g, cfg, batch=4)
print(format_report(report, top=3))
