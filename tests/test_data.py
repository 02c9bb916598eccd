"""Tests for kexue.data: the IDX reader on small generated files, the Fashion-MNIST and digits loaders."""
from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
import pytest

from kexue import data


def idx_bytes(array: np.ndarray, code: int) -> bytes:
    """An IDX file's bytes, written by hand from the format description (independent of data.write_idx)."""
    header = bytes([0, 0, code, array.ndim]) + b"".join(struct.pack(">I", n) for n in array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def test_read_idx_reads_a_hand_written_file(tmp_path: Path) -> None:
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    path = tmp_path / "images-idx3-ubyte"
    path.write_bytes(idx_bytes(images, 0x08))
    out = data.read_idx(path)
    assert out.dtype == np.uint8 and out.shape == (2, 3, 4)
    np.testing.assert_array_equal(out, images)


def test_read_idx_reads_gzipped_and_big_endian_types(tmp_path: Path) -> None:
    labels = np.array([7, 2, 1, 0, 4], dtype=np.uint8)
    gz = tmp_path / "labels-idx1-ubyte.gz"
    gz.write_bytes(gzip.compress(idx_bytes(labels, 0x08)))
    np.testing.assert_array_equal(data.read_idx(gz), labels)
    ints = np.array([[1, -2], [70000, 3]], dtype=np.int32)
    path = tmp_path / "ints.idx"
    path.write_bytes(idx_bytes(ints, 0x0C))
    out = data.read_idx(str(path))
    np.testing.assert_array_equal(out, ints)
    assert out.dtype.isnative


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_write_then_read_round_trips(tmp_path: Path, dtype: type, suffix: str) -> None:
    array = (np.arange(24).reshape(2, 3, 4) - 5).astype(dtype) if dtype != np.uint8 else np.arange(24, dtype=dtype)
    path = data.write_idx(tmp_path / f"a.idx{suffix}", array)
    out = data.read_idx(path)
    np.testing.assert_array_equal(out, array)
    assert out.dtype == np.dtype(dtype)


def test_read_idx_rejects_bad_files(tmp_path: Path) -> None:
    bad = tmp_path / "bad"
    bad.write_bytes(b"\x01\x02\x08\x01\x00\x00\x00\x01\x05")
    with pytest.raises(ValueError, match="magic"):
        data.read_idx(bad)
    short = tmp_path / "short"
    short.write_bytes(idx_bytes(np.zeros((3, 3), np.uint8), 0x08)[:-2])
    with pytest.raises(ValueError, match="bytes"):
        data.read_idx(short)
    with pytest.raises(FileNotFoundError, match="path"):
        data.read_idx(tmp_path / "missing")
    with pytest.raises(TypeError, match="path"):
        data.read_idx(3)
    with pytest.raises(TypeError, match="array"):
        data.write_idx(tmp_path / "c", np.zeros(3, dtype=np.complex64))


def fake_fashion(root: Path, n_train: int = 12, n_test: int = 5) -> None:
    """Four small gzipped IDX files laid out like the Debian package's."""
    rng = np.random.default_rng(0)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        data.write_idx(root / f"{prefix}-images-idx3-ubyte.gz", rng.integers(0, 256, (n, 28, 28), dtype=np.uint8))
        data.write_idx(root / f"{prefix}-labels-idx1-ubyte.gz", (np.arange(n) % 10).astype(np.uint8))


def test_load_fashion_mnist_from_a_generated_folder(tmp_path: Path) -> None:
    fake_fashion(tmp_path)
    assert data.fashion_mnist_available(tmp_path)
    train = data.load_fashion_mnist("train", root=tmp_path)
    test = data.load_fashion_mnist("test", root=tmp_path, limit=3)
    assert train.images.shape == (12, 28, 28) and train.images.dtype == np.uint8 and len(train) == 12
    assert test.images.shape == (3, 28, 28) and list(test.labels) == [0, 1, 2]
    assert train.classes[9] == "Ankle boot"
    assert "MIT" in train.provenance.licence and str(tmp_path) in train.provenance.source


def test_load_fashion_mnist_explains_a_missing_package(tmp_path: Path) -> None:
    assert not data.fashion_mnist_available(tmp_path)
    with pytest.raises(FileNotFoundError, match="apt-get install dataset-fashion-mnist"):
        data.load_fashion_mnist(root=tmp_path)
    with pytest.raises(ValueError, match="split"):
        data.load_fashion_mnist("validation", root=tmp_path)
    with pytest.raises(ValueError, match="limit"):
        data.load_fashion_mnist(root=tmp_path, limit=0)
    with pytest.raises(TypeError, match="root"):
        data.load_fashion_mnist(root=3)


@pytest.mark.skipif(not data.fashion_mnist_available(), reason="Debian's dataset-fashion-mnist is not installed")
def test_the_installed_fashion_mnist_is_the_published_one() -> None:
    train = data.load_fashion_mnist("train")
    assert train.images.shape == (60000, 28, 28)
    assert np.bincount(train.labels).tolist() == [6000] * 10
    assert abs(train.images.mean() / 255 - 0.2860) < 5e-4  # the published mean pixel value
    assert data.load_fashion_mnist("test").images.shape == (10000, 28, 28)
    assert train.provenance == data.FASHION_MNIST_PROVENANCE


def test_digits_and_their_stratified_split() -> None:
    digits = data.load_digits()
    assert digits.images.shape == (1797, 8, 8) and digits.images.max() == 16 and digits.images.min() == 0
    train, test = data.digits_split()
    assert (len(train), len(test)) == (1347, 450)
    assert set(train.extra["index"]).isdisjoint(test.extra["index"])
    # stratified: every digit's share of the test set is within one image of 25 %
    counts = np.bincount(digits.labels)
    assert np.all(np.abs(np.bincount(test.labels) - counts * 0.25) <= 1)
    assert "BSD" in train.provenance.licence and "scikit-learn" in str(train.provenance)
    with pytest.raises(ValueError, match="test_size"):
        data.digits_split(test_size=1.5)
    with pytest.raises(ValueError, match="random_state"):
        data.digits_split(random_state=-1)


def test_downsample_averages_blocks() -> None:
    images = np.arange(2 * 4 * 6, dtype=float).reshape(2, 4, 6)
    out = data.downsample(images, 2)
    assert out.shape == (2, 2, 3)
    assert out[0, 0, 0] == np.mean([0, 1, 6, 7])
    np.testing.assert_allclose(out.mean(), images.mean())
    np.testing.assert_array_equal(data.downsample(images, 1), images)
    with pytest.raises(ValueError, match="factor"):
        data.downsample(images, 4)
    with pytest.raises(ValueError, match="factor"):
        data.downsample(images, 0)
