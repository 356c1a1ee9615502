"""The MNIST loader: the real files load as documented, and every kind of damage gives MnistError."""

import gzip
import hashlib
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from autograder import mnist
from autograder.mnist import ENV_VAR, MnistError, load_mnist

REPO_DATA = Path(__file__).resolve().parents[1] / "data" / "mnist"
TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
IMAGES, LABELS = "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"


@pytest.fixture(autouse=True)
def _no_env(monkeypatch):
    """Tests start from the repository's data whatever the developer's environment says."""
    monkeypatch.delenv(ENV_VAR, raising=False)


def idx_images(n, magic=2051, rows=28, cols=28, payload=None):
    header = np.array([magic, n, rows, cols], dtype=">u4").tobytes()
    if payload is None:
        payload = (np.arange(n * rows * cols) % 256).astype(np.uint8).tobytes()
    return header + payload


def idx_labels(n, magic=2049, payload=None):
    header = np.array([magic, n], dtype=">u4").tobytes()
    return header + (payload if payload is not None else bytes(i % 10 for i in range(n)))


def write_set(folder, images_raw, labels_raw, sums=None):
    """Write a small 'test' split as gzipped IDX files with a SHA256SUMS.raw of their contents."""
    folder.mkdir(exist_ok=True)
    raws = {IMAGES: images_raw, LABELS: labels_raw}
    for name, raw in raws.items():
        (folder / f"{name}.gz").write_bytes(gzip.compress(raw))
    sums = sums or {name: hashlib.sha256(raw).hexdigest() for name, raw in raws.items()}
    (folder / "SHA256SUMS.raw").write_text("".join(f"{h}  {n}\n" for n, h in sums.items()))
    return folder


def load_error(folder, kind="test"):
    with pytest.raises(MnistError) as info:
        load_mnist(kind, data_dir=folder)
    return str(info.value)


# --- the real data ---------------------------------------------------------------------------------

@pytest.mark.parametrize("kind, counts", [("train", TRAIN_COUNTS), ("test", TEST_COUNTS)])
def test_real_data_shapes_dtypes_and_class_counts(kind, counts):
    images, labels = load_mnist(kind)
    n = sum(counts)
    assert images.shape == (n, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (n,) and labels.dtype == np.int64
    assert np.bincount(labels, minlength=10).tolist() == counts
    assert 0 < images.mean() < 255 and images.max() == 255


def test_arrays_are_read_only_and_cached():
    images, labels = load_mnist("test")
    for arr in (images, labels):
        assert not arr.flags.writeable
        with pytest.raises(ValueError):
            arr[0] = 1
        with pytest.raises(ValueError):  # cannot be switched back on either
            arr.flags.writeable = True
    again = load_mnist("test")
    assert again[0] is images and again[1] is labels
    copy = images.copy()
    copy[0] = 0  # the documented way to get a modifiable array
    assert images[0].any()


def test_data_dir_resolution(tmp_path, monkeypatch):
    assert mnist.data_dir() == REPO_DATA
    monkeypatch.setenv(ENV_VAR, str(tmp_path))
    assert mnist.data_dir() == tmp_path.resolve()
    assert mnist.data_dir(REPO_DATA) == REPO_DATA  # the argument wins over the variable


def test_env_var_points_at_a_copy(tmp_path, monkeypatch):
    for name in [f"{IMAGES}.gz", f"{LABELS}.gz", "SHA256SUMS.raw"]:
        shutil.copy(REPO_DATA / name, tmp_path / name)
    monkeypatch.setenv(ENV_VAR, str(tmp_path))
    images, labels = load_mnist("test")
    assert images.shape == (10_000, 28, 28)
    assert np.bincount(labels).tolist() == TEST_COUNTS
    message = load_error(tmp_path, "train")  # this copy holds only the test split
    assert "train-images-idx3-ubyte.gz is missing" in message
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "nowhere"))
    with pytest.raises(MnistError, match=f"nowhere.*{ENV_VAR}"):
        load_mnist("test")


def test_unknown_kind():
    with pytest.raises(MnistError, match="'train' or 'test'"):
        load_mnist("validation")


# --- small files of our own ------------------------------------------------------------------------

def test_small_valid_set_loads(tmp_path):
    images, labels = load_mnist("test", data_dir=write_set(tmp_path, idx_images(3), idx_labels(3)))
    assert images.shape == (3, 28, 28) and labels.tolist() == [0, 1, 2]
    assert images.reshape(-1)[:3].tolist() == [0, 1, 2]


def test_missing_file(tmp_path):
    write_set(tmp_path, idx_images(3), idx_labels(3))
    (tmp_path / f"{LABELS}.gz").unlink()
    message = load_error(tmp_path)
    assert f"{LABELS}.gz" in message and "missing" in message and ENV_VAR in message


def test_missing_checksum_file(tmp_path):
    write_set(tmp_path, idx_images(3), idx_labels(3))
    (tmp_path / "SHA256SUMS.raw").unlink()
    message = load_error(tmp_path)
    assert "SHA256SUMS.raw" in message and "missing" in message


def test_file_without_checksum_entry(tmp_path):
    raw = idx_images(3)
    write_set(tmp_path, raw, idx_labels(3), sums={IMAGES: hashlib.sha256(raw).hexdigest()})
    message = load_error(tmp_path)
    assert "no checksum" in message and f"{LABELS}.gz" in message


def test_truncated_gzip(tmp_path):
    write_set(tmp_path, idx_images(3), idx_labels(3))
    gz = tmp_path / f"{IMAGES}.gz"
    gz.write_bytes(gz.read_bytes()[:-20])
    message = load_error(tmp_path)
    assert f"{IMAGES}.gz" in message and "truncated" in message


def test_real_file_truncated(tmp_path):
    packed = (REPO_DATA / f"{LABELS}.gz").read_bytes()
    shutil.copy(REPO_DATA / "SHA256SUMS.raw", tmp_path)
    shutil.copy(REPO_DATA / f"{IMAGES}.gz", tmp_path)
    (tmp_path / f"{LABELS}.gz").write_bytes(packed[: len(packed) // 2])
    assert "truncated" in load_error(tmp_path)


@pytest.mark.parametrize("content", [b"", b"not gzip at all", None])
def test_not_gzip_or_damaged_gzip(tmp_path, content):
    write_set(tmp_path, idx_images(3), idx_labels(3))
    gz = tmp_path / f"{IMAGES}.gz"
    if content is None:  # flip a byte of the gzip trailer's CRC
        packed = bytearray(gz.read_bytes())
        packed[-8] ^= 0xFF
        content = bytes(packed)
    gz.write_bytes(content)
    message = load_error(tmp_path)
    assert f"{IMAGES}.gz" in message


def test_corrupt_byte_fails_the_checksum(tmp_path):
    raw = idx_images(3)
    write_set(tmp_path, raw, idx_labels(3))
    corrupt = bytearray(raw)
    corrupt[100] ^= 0x01  # a valid gzip of different content: only the checksum can tell
    (tmp_path / f"{IMAGES}.gz").write_bytes(gzip.compress(bytes(corrupt)))
    message = load_error(tmp_path)
    assert f"{IMAGES}.gz" in message and "checksum mismatch" in message


@pytest.mark.parametrize("images_raw, labels_raw, words", [
    (idx_images(3, magic=2049), idx_labels(3), ["bad magic", "2049", IMAGES]),
    (idx_images(3), idx_labels(3, magic=2051), ["bad magic", "2051", LABELS]),
    (idx_images(3)[:10], idx_labels(3), ["too short", IMAGES]),
    (idx_images(3)[:-1], idx_labels(3), ["size mismatch", IMAGES]),
    (idx_images(3) + b"\0", idx_labels(3), ["size mismatch", IMAGES]),
    (idx_images(1, rows=14, cols=56, payload=bytes(784)), idx_labels(1), ["14x56", IMAGES]),
    (idx_images(4), idx_labels(3), ["4 images", "3 labels"]),
    (idx_images(3), idx_labels(3, payload=bytes([0, 1, 10])), ["label 10", LABELS]),
])
def test_bad_headers_and_sizes(tmp_path, images_raw, labels_raw, words):
    """The checksums match these files, so only the header and size checks can catch them."""
    message = load_error(write_set(tmp_path, images_raw, labels_raw))
    for word in words:
        assert word in message
    assert ENV_VAR in message


def test_errors_are_not_cached(tmp_path):
    write_set(tmp_path, idx_images(3), idx_labels(3))
    (tmp_path / f"{LABELS}.gz").unlink()
    load_error(tmp_path)
    write_set(tmp_path, idx_images(3), idx_labels(3))
    images, labels = load_mnist("test", data_dir=tmp_path)
    assert len(images) == len(labels) == 3


def test_the_sandbox_runtime_copy_needs_only_the_variable(tmp_path):
    """mnist.py also runs in the sandbox's learner-side runtime, a copy of a few modules without
    kit_files: given BACKPROP_KIT_DATA (the judge always passes it) it imports and loads alone."""
    import subprocess
    import sys

    from autograder.sandbox.remote import RUNTIME_FILES

    assert RUNTIME_FILES.get("mnist.py") == "mnist.py"
    package = tmp_path / "autograder"
    package.mkdir()
    (package / "__init__.py").write_text("")
    shutil.copy(mnist.__file__, package / "mnist.py")
    probe = "from autograder.mnist import load_mnist; print(load_mnist('test')[0].shape)"
    proc = subprocess.run([sys.executable, "-c", f"import sys; sys.path.insert(0, {str(tmp_path)!r}); {probe}"],
                          cwd=tmp_path, capture_output=True, text=True, env={**os.environ, ENV_VAR: str(REPO_DATA)})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "(10000, 28, 28)"
