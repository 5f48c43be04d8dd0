"""Shared argument checks."""
import math

import numpy as np
import pytest
import torch

from pruninglab import _validate as v


@pytest.mark.parametrize("bad", [-0.1, 1.0, 1.5, float("nan")])
def test_sparsity_out_of_range(bad):
    with pytest.raises(ValueError, match="sparsity"):
        v.check_sparsity(bad)


@pytest.mark.parametrize("bad", [True, "0.5", None, [0.5]])
def test_sparsity_wrong_type(bad):
    with pytest.raises(TypeError, match="sparsity"):
        v.check_sparsity(bad)


def test_sparsity_ok_values():
    assert v.check_sparsity(0) == 0.0 and v.check_sparsity(0.999) == 0.999
    assert v.check_sparsity(np.float32(0.5)) == 0.5


@pytest.mark.parametrize("bad", [0, 33, -1])
def test_bits_range(bad):
    with pytest.raises(ValueError, match="bits"):
        v.check_bits(bad)


@pytest.mark.parametrize("bad", [8.0, True, "8"])
def test_bits_type(bad):
    with pytest.raises(TypeError, match="bits"):
        v.check_bits(bad)


def test_array_checks():
    with pytest.raises(ValueError, match="w contains NaN"):
        v.check_array(np.array([1.0, math.nan]), "w")
    with pytest.raises(ValueError, match="w contains NaN or inf"):
        v.check_array(torch.tensor([1.0, math.inf]), "w")
    with pytest.raises(ValueError, match="empty"):
        v.check_array(np.zeros((0, 3)), "w")
    with pytest.raises(TypeError, match="w must be a numpy"):
        v.check_array([1.0, 2.0], "w")
    with pytest.raises(ValueError, match="dimensions"):
        v.check_array(np.zeros(3), "w", ndim=2)
    x = np.ones((2, 2))
    assert v.check_array(x, "w") is x


def test_layer_names(mlp):
    assert v.check_layer_names(mlp, ["fc1"]) == ["fc1"]
    with pytest.raises(ValueError, match="'fc9' does not exist"):
        v.check_layer_names(mlp, ["fc9"])
