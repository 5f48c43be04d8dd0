"""The digits data set and its splits."""
import numpy as np
import pytest
import torch

from pruninglab.data import batches, load_digits, load_raw


def test_raw_data_shape_and_range():
    images, labels = load_raw()
    assert images.shape == (1797, 8, 8) and labels.shape == (1797,)
    assert images.min() == 0 and images.max() == 16
    assert sorted(np.unique(labels).tolist()) == list(range(10))


def test_splits_are_disjoint_stratified_and_fixed():
    sizes = {s: len(load_digits(s)) for s in ("train", "val", "test")}
    assert sizes == {"train": 1078, "val": 359, "test": 360}
    from pruninglab.data import _split_indices
    idx = _split_indices()
    all_idx = np.concatenate([idx[s] for s in ("train", "val", "test")])
    assert len(np.unique(all_idx)) == 1797
    for s in ("val", "test"):
        counts = np.bincount(load_digits(s).y.numpy(), minlength=10)
        assert counts.min() >= 34 and counts.max() <= 38


def test_scaling_and_image_shape():
    tr = load_digits("train", images=True)
    assert tr.x.shape == (1078, 1, 8, 8) and tr.x.dtype == torch.float32
    assert float(tr.x.min()) == 0.0 and float(tr.x.max()) == 1.0
    assert tr.y.dtype == torch.int64


def test_bad_split_name():
    with pytest.raises(ValueError, match="split"):
        load_digits("validation")
    with pytest.raises(TypeError, match="images"):
        load_digits("train", images=1)


def test_batches_cover_everything_once_and_are_seeded():
    tr = load_digits("train")
    ys = torch.cat([y for _, y in batches(tr, 100, shuffle=True, seed=3)])
    assert sorted(ys.tolist()) == sorted(tr.y.tolist())
    first = [y.tolist() for _, y in batches(tr, 100, shuffle=True, seed=3)]
    again = [y.tolist() for _, y in batches(tr, 100, shuffle=True, seed=3)]
    other = [y.tolist() for _, y in batches(tr, 100, shuffle=True, seed=4)]
    assert first == again and first != other
    with pytest.raises(ValueError, match="batch_size"):
        next(batches(tr, 0, shuffle=False))
