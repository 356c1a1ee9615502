"""Load MNIST from the kit's IDX files: checked, cached per process, read-only.

``load_mnist("train")`` is what a learner's notebook calls. Every problem with the files raises
``MnistError`` naming the file, what is wrong and how to fix it, because a bare zlib traceback teaches
a learner nothing. The arrays come from a per-process cache and are read-only, so that one cell
cannot quietly corrupt the data for every later cell: call ``.copy()`` if you want to modify them.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import os
import sys
import zlib
from pathlib import Path

import numpy as np

ENV_VAR = "BACKPROP_KIT_DATA"
SUMS_FILE = "SHA256SUMS.raw"
FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
IMAGE_MAGIC, LABEL_MAGIC = 2051, 2049
SIDE = 28
FIX = (f"re-copy it from the repository's data/mnist/ or set {ENV_VAR} to a folder holding the "
       "original files")

__all__ = ["MnistError", "data_dir", "load_mnist"]


class MnistError(ValueError):
    """The MNIST files are missing, damaged or not MNIST; the message names the file and the fix."""


def data_dir(path: str | os.PathLike | None = None) -> Path:
    """The folder to read: ``path``, else ``$BACKPROP_KIT_DATA``, else the learner's kit's copy (installed
    with it under ``<prefix>/share/backprop-kit/mnist``), else the kit's own data/mnist/ (the repository's,
    or the copy packaged with an installed course: see autograder.kit_files)."""
    if path is None:
        installed = Path(sys.prefix) / "share" / "backprop-kit" / "mnist"
        path = os.environ.get(ENV_VAR) or (installed if (installed / SUMS_FILE).is_file() else _kit_mnist_dir())
    return Path(path).expanduser().resolve()


def _kit_mnist_dir() -> Path:
    # Imported here, not at the top: this module is also part of the learner-side runtime the
    # sandbox copies (autograder/sandbox/remote.py RUNTIME_FILES), which has no kit_files and is
    # always given $BACKPROP_KIT_DATA.
    try:
        from autograder import kit_files
    except ImportError:
        raise MnistError(f"no MNIST folder is known here: set {ENV_VAR} to a folder holding the four .gz "
                         f"files and {SUMS_FILE}") from None
    try:
        return kit_files.mnist_dir()
    except kit_files.KitFilesError as err:
        raise MnistError(f"{err}; or set {ENV_VAR} to a folder holding the four .gz files and {SUMS_FILE}") from None


_data_dir = data_dir  # load_mnist's argument shadows the function's name


def load_mnist(kind: str = "train", data_dir: str | os.PathLike | None = None):
    """Return ``(images, labels)``: uint8 ``(N, 28, 28)`` and int64 ``(N,)``, both read-only.

    ``kind`` is ``"train"`` (60,000 images) or ``"test"`` (10,000). Arrays are shared between calls;
    use ``images.copy()`` for a modifiable copy.
    """
    if kind not in FILES:
        raise MnistError(f"kind must be 'train' or 'test', not {kind!r}")
    folder = _data_dir(data_dir)
    if not folder.is_dir():
        source = ("the data_dir argument" if data_dir is not None
                  else f"${ENV_VAR}" if os.environ.get(ENV_VAR) else "the kit's own files")
        raise MnistError(f"MNIST folder {folder} (from {source}) does not exist; point data_dir or "
                         f"{ENV_VAR} at a folder holding the four .gz files and {SUMS_FILE}")
    return _load(str(folder), kind)


@functools.lru_cache(maxsize=8)
def _load(folder: str, kind: str):
    """Read, check and cache one split; raises before returning anything if any check fails."""
    sums = _read_sums(Path(folder))
    image_name, label_name = FILES[kind]
    images = _read_idx(Path(folder), image_name, IMAGE_MAGIC, sums)
    labels = _read_idx(Path(folder), label_name, LABEL_MAGIC, sums)
    if len(images) != len(labels):
        raise MnistError(f"{Path(folder, image_name)}.gz holds {len(images)} images but "
                         f"{Path(folder, label_name)}.gz holds {len(labels)} labels; "
                         f"{FIX.replace('it', 'both', 1)}")
    if labels.size and labels.max() > 9:
        raise MnistError(f"{Path(folder, label_name)}.gz has label {labels.max()}, expected 0..9; "
                         f"{FIX}")
    # A read-only int64 array over immutable bytes: its writeable flag cannot be switched back on.
    labels = np.frombuffer(labels.astype(np.int64).tobytes(), dtype=np.int64)
    return images, labels


def _read_sums(folder: Path) -> dict[str, str]:
    """Map each file name to the SHA-256 of its decompressed bytes, as listed in SHA256SUMS.raw."""
    path = folder / SUMS_FILE
    try:
        text = path.read_text(encoding="ascii")
    except FileNotFoundError:
        raise MnistError(f"{path} is missing: it holds the SHA-256 of each decompressed file, so the "
                         f"data cannot be verified; {FIX}") from None
    except (OSError, UnicodeDecodeError) as err:
        raise MnistError(f"{path} cannot be read ({err}); {FIX}") from None
    sums = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2:
            sums[parts[1].lstrip("*")] = parts[0].lower()
    return sums


def _read_idx(folder: Path, name: str, magic: int, sums: dict[str, str]) -> np.ndarray:
    """Decompress ``name``.gz, check its IDX header, size and checksum; a uint8 view of its items."""
    path = folder / f"{name}.gz"
    if name not in sums:
        raise MnistError(f"{folder / SUMS_FILE} has no checksum for {name}, so {path} cannot be "
                         f"verified; {FIX}")
    try:
        packed = path.read_bytes()
    except FileNotFoundError:
        raise MnistError(f"{path} is missing; {FIX}") from None
    except OSError as err:
        raise MnistError(f"{path} cannot be read ({err.strerror or err}); {FIX}") from None
    try:
        raw = gzip.decompress(packed)
    except EOFError:
        raise MnistError(f"{path} is a truncated gzip file (it ends before its compressed data does, "
                         f"as after an interrupted copy); {FIX}") from None
    except (OSError, zlib.error) as err:
        raise MnistError(f"{path} is damaged or not a gzip file ({err}); {FIX}") from None

    ndim = 3 if magic == IMAGE_MAGIC else 1
    what = "images" if magic == IMAGE_MAGIC else "labels"
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise MnistError(f"{path} decompresses to {len(raw)} bytes, too short for an IDX header "
                         f"({header} bytes); {FIX}")
    found = int.from_bytes(raw[:4], "big")
    if found != magic:
        raise MnistError(f"{path} has bad magic number {found}, expected {magic} (IDX {what}): it is "
                         f"not an MNIST {what} file; {FIX}")
    dims = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    if ndim == 3 and dims[1:] != (SIDE, SIDE):
        raise MnistError(f"{path} holds {dims[1]}x{dims[2]} images, expected {SIDE}x{SIDE}; {FIX}")
    expected = header + int(np.prod(dims))
    if len(raw) != expected:
        raise MnistError(f"{path} size mismatch: its header promises {dims[0]} {what} "
                         f"({expected} bytes decompressed) but it holds {len(raw)} bytes; {FIX}")
    digest = hashlib.sha256(raw).hexdigest()
    if digest != sums[name]:
        raise MnistError(f"{path} checksum mismatch: the SHA-256 of its decompressed content is "
                         f"{digest[:16]}..., {SUMS_FILE} expects {sums[name][:16]}...; the file is "
                         f"corrupted or not the original; {FIX}")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims)
