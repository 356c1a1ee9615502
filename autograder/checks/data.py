"""Checks for 01_data: flatten, normalize, one_hot."""
from __future__ import annotations

import numpy as np

from autograder.checks.base import PROMISE_POINTS, Case, property_check, raises_check, reference_check
from autograder.checks.promises import leaves_arguments, nothing_kept
from autograder.compare import Mismatch, describe, describe_input, expect_array


def _digits(n, seed, h=28, w=28, high=256):
    return np.random.default_rng(seed).integers(0, high, size=(n, h, w), dtype=np.uint8)


# --- flatten ---------------------------------------------------------------------------------

def _flatten_cases():
    return [
        Case.of("three MNIST-sized images", _digits(3, 1)),
        Case.of("one image", _digits(1, 2)),
        Case.of("non-square float images (2, 3, 7)", np.random.default_rng(3).random((2, 3, 7))),
    ]


def _same_values_any_dtype(expected, actual, args, kwargs):
    if not isinstance(actual, np.ndarray):
        raise Mismatch(f"the result should be a NumPy array of shape {expected.shape}, but it is {describe(actual)}")
    if actual.shape != expected.shape:
        hint = []
        if actual.shape == expected.shape[::-1]:
            hint = ["it is transposed: keep the batch first, (N, H*W)"]
        elif actual.ndim == 1:
            hint = ["every image became part of one long vector: keep the batch axis, reshape(len(images), -1)"]
        raise Mismatch(f"the result has shape {actual.shape}, expected {expected.shape}", hint)
    expect_array(expected.astype(np.float64), actual.astype(np.float64), what="the pixels")


FLATTEN = [
    reference_check("flatten", "row_major", "each image becomes one row, pixels in row-major order",
                    _flatten_cases, compare=_same_values_any_dtype, points=2),
]

# --- normalize -------------------------------------------------------------------------------

def _normalize_cases():
    full = np.arange(256, dtype=np.uint8).reshape(4, 8, 8)
    return [
        Case.of("every pixel value 0..255", full),
        Case.of("a faint image (max 128)", _digits(2, 4, high=129)),
        Case.of("a flat batch (N, 784)", _digits(3, 5).reshape(3, 784)),
    ]


def _normalize_edges():
    return [
        Case.of("all black", np.zeros((2, 28, 28), np.uint8)),
        Case.of("all white", np.full((2, 28, 28), 255, np.uint8)),
    ]


NORMALIZE = [
    reference_check("normalize", "divides_by_255", "pixels 0..255 become floats in [0, 1]", _normalize_cases,
                    points=2),
    reference_check("normalize", "black_and_white", "all-black and all-white images", _normalize_edges,
                    hidden=True),
]

# --- one_hot ---------------------------------------------------------------------------------

def _one_hot_cases():
    return [
        Case.of("all ten digits", np.arange(10)),
        Case.of("labels 0..2 with num_classes=10", np.array([2, 0, 1, 1]), num_classes=10),
        Case.of("three classes", np.array([0, 2, 1, 2]), num_classes=3),
        Case.of("int32 labels", np.array([7, 3, 3], dtype=np.int32)),
    ]


def _one_hot_rows(actual, args, kwargs):
    labels = args[0]
    classes = kwargs.get("num_classes", 10)
    if not isinstance(actual, np.ndarray) or actual.shape != (len(labels), classes):
        raise Mismatch(f"the result should be an array of shape {(len(labels), classes)}, but it is {describe(actual)}")


def _one_hot_bad():
    return [
        Case.of("label 10 with num_classes=10", np.array([3, 10, 1])),
        Case.of("label -1", np.array([0, -1])),
        Case.of("label 5 with num_classes=3", np.array([1, 5]), num_classes=3),
    ]


ONE_HOT = [
    reference_check("one_hot", "single_one_per_row", "a single 1 per row, in the label's column",
                    _one_hot_cases, points=2),
    raises_check("one_hot", "rejects_out_of_range", "an out-of-range label raises ValueError",
                 _one_hot_bad, ValueError, "valid labels are 0 .. num_classes - 1; anything else is a data error"),
    property_check("one_hot", "empty_batch", "an empty batch gives shape (0, num_classes)",
                   lambda: [Case.of("no labels", np.zeros(0, dtype=np.int64))], _one_hot_rows, hidden=True),
]

CHECKS = FLATTEN + NORMALIZE + ONE_HOT

# --- issue 10, item 4: no argument changed; nothing kept between calls ---


def _two_batches():
    return [Case.of("three images", _digits(3, 6)), Case.of("three other images", _digits(3, 7))]


def _two_label_sets():
    return [Case.of("labels [2, 0, 1, 1]", np.array([2, 0, 1, 1])),
            Case.of("labels [1, 3, 0, 2]", np.array([1, 3, 0, 2]))]


PROMISES_01 = [
    leaves_arguments("flatten", _two_batches, ("images",),
                     "`images.reshape(len(images), -1)` gives a new view; assigning to `images.shape` or calling "
                     "`images.resize(...)` changes the caller's array"),
    nothing_kept("flatten", _two_batches),
    leaves_arguments("normalize", _two_batches, ("images",),
                     "`images / 255.0` makes a new float array; `/=` or `out=images` writes into the caller's images"),
    nothing_kept("normalize", _two_batches),
    leaves_arguments("one_hot", _two_label_sets, ("labels",),
                     "read the labels without assigning into them: fill a new np.zeros((len(labels), "
                     "num_classes)) array instead"),
    nothing_kept("one_hot", _two_label_sets),
]

CHECKS = CHECKS + PROMISES_01

# --- public checks of the stubs' other docstring promises (PROMISE_POINTS each; tests/test_docstring_promises.py)


def _flatten_dtype_cases():
    return [
        Case.of("uint8 MNIST-sized images", _digits(2, 6)),
        Case.of("float32 images (2, 5, 4)", np.random.default_rng(7).random((2, 5, 4)).astype(np.float32)),
    ]


def _keeps_dtype(actual, args, kwargs):
    images = args[0]
    if not isinstance(actual, np.ndarray):
        raise Mismatch(f"the result should be a NumPy array, but it is {describe(actual)}")
    if actual.dtype != images.dtype:
        raise Mismatch(f"{describe_input(images)} became {describe(actual)}: the dtype should stay {images.dtype}",
                       ["a reshape keeps the dtype; a conversion (astype, a division, np.array(..., dtype=...)) "
                        "changes it"])


PUBLIC_PROMISES_01 = [
    property_check("flatten", "keeps_dtype", "the result keeps the images' dtype (uint8 stays uint8)",
                   _flatten_dtype_cases, _keeps_dtype, points=PROMISE_POINTS),
]

CHECKS = CHECKS + PUBLIC_PROMISES_01
