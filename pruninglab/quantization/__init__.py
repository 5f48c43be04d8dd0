"""Quantization: linear (symmetric / affine, per-tensor / per-channel), k-means weight sharing,
fake quantization with the straight-through estimator, model helpers, integer-only inference and
size accounting. Formulas and references are in each submodule's docstring.

* :mod:`.linear`     — ``quantize`` / ``dequantize`` / ``qparams`` (Jacob et al. 2018)
* :mod:`.size`       — bits and bytes of quantized / pruned + quantized weights (Han et al. 2016)
* :mod:`.kmeans`     — k-means weight sharing, pruning-aware (Han et al. 2016)
* :mod:`.fake_quant` — fake quantization + straight-through estimator, QAT (Jacob et al. 2018)
* :mod:`.model`      — quantize a whole model; integer-only inference with int32 accumulation
"""
from .linear import (SCHEMES, QuantizedTensor, code_dtype, dequantize, error_bound, qparams,
                     qrange, quantize, quantize_dequantize)
from .size import (compression_ratio, model_size_bytes, pruned_quantized_breakdown,
                   pruned_quantized_size, relative_index_fillers, tensor_bits,
                   weight_sharing_ratio)
from .kmeans import INITS, KMeansQuantized, finetune_codebook_, kmeans_quantize
from .fake_quant import FakeQuantConv2d, FakeQuantLinear, convert_qat, fake_quantize, prepare_qat
from .model import (IntegerMLP, integer_linear, kmeans_quantize_model, quantizable_layers,
                    quantize_model, quantize_multiplier)

__all__ = [
    "QuantizedTensor", "SCHEMES", "qrange", "qparams", "quantize", "dequantize",
    "quantize_dequantize", "error_bound", "code_dtype",
    "tensor_bits", "model_size_bytes", "weight_sharing_ratio", "relative_index_fillers",
    "pruned_quantized_breakdown", "pruned_quantized_size", "compression_ratio",
    "KMeansQuantized", "kmeans_quantize", "finetune_codebook_", "INITS",
    "fake_quantize", "FakeQuantLinear", "FakeQuantConv2d", "prepare_qat", "convert_qat",
    "quantizable_layers", "quantize_model", "kmeans_quantize_model", "quantize_multiplier",
    "integer_linear", "IntegerMLP",
]
