"""The Graph IR, its lowering to photonic GEMMs, the model zoo and ONNX import."""

from .ir import Graph, LazyWeight, Node
from .lowering import GEMM_OPS, GemmCall, gemm_calls, graph_macs, is_photonic, node_macs

__all__ = ["GEMM_OPS", "GemmCall", "Graph", "LazyWeight", "Node", "gemm_calls", "graph_macs", "is_photonic", "node_macs"]
