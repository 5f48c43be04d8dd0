"""Hardware cost models: storage formats, energy, roofline, measured latency, latency-aware pruning.

Hooks for the notebooks' sliders (all pure, deterministic, fast):

* :func:`storage_bytes` ``(weights_or_shape, sparsity=None, value_bits=32, format="dense",
  index_bits=None, ...)`` — bytes of one tensor in ``dense``, ``bitmask``, ``csr``, ``csc``,
  ``coo``, ``relative`` (Deep Compression / EIE), ``2:4``, ``block``, ``codebook``,
  ``relative_codebook``; :func:`storage_bits` the same in bits.
* :func:`break_even_sparsity` ``(format, value_bits, shape, ...)`` — smallest sparsity at which a
  sparse format is no larger than dense.
* :func:`model_storage` ``(model, bits=32, format="dense", sparsity=None)`` — per-layer and total
  bytes.
* :func:`model_energy` ``(model, input_shape, bits=32, sparsity=None, format="dense")`` —
  per-layer compute vs memory energy (Horowitz ISSCC 2014 table), :func:`op_energy`,
  :func:`mac_energy`, :func:`access_energy`.
* :func:`layer_profile` ``(model, input_shape)`` — per-layer shapes, MACs, FLOPs.
* :mod:`.roofline` — hardware profiles and roofline points; :mod:`.latency` — measured latency on
  this machine; :mod:`.latency_aware` — NetAdapt-style pruning under a latency budget.
"""
from .storage import (FORMATS, DEFAULT_INDEX_BITS, storage_bits, storage_bytes,
                      break_even_sparsity, model_storage, weight_layers)
from .energy import (HOROWITZ_OPS_PJ, MEMORY_PJ_PER_64BIT, HAN2015_PJ_PER_32BIT, MEMORY_LEVELS,
                     op_energy, scaling_exponent, mac_energy, access_energy, model_energy)
from .profile import layer_profile
from .roofline import (HardwareProfile, PROFILES, STRUCTURES, precision_for_bits, attainable,
                       ridge_point, measure_machine, machine_profile, get_profile, layer_roofline)
from .latency import (measure_latency, linear_variants, time_linear_variants, sparse_break_even,
                      latency_lut, int8_available, VARIANTS)
from .latency_aware import (netadapt_prune, uniform_prune, flop_proportional_prune, scale_config,
                            pareto_front)

__all__ = ["FORMATS", "DEFAULT_INDEX_BITS", "storage_bits", "storage_bytes", "break_even_sparsity",
           "model_storage", "weight_layers", "HOROWITZ_OPS_PJ", "MEMORY_PJ_PER_64BIT",
           "HAN2015_PJ_PER_32BIT", "MEMORY_LEVELS", "op_energy", "scaling_exponent", "mac_energy",
           "access_energy", "model_energy", "layer_profile",
           "HardwareProfile", "PROFILES", "STRUCTURES", "precision_for_bits", "attainable",
           "ridge_point", "measure_machine", "machine_profile", "get_profile", "layer_roofline",
           "measure_latency", "linear_variants", "time_linear_variants", "sparse_break_even",
           "latency_lut", "int8_available", "VARIANTS",
           "netadapt_prune", "uniform_prune", "flop_proportional_prune", "scale_config",
           "pareto_front"]
