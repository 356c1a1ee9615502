"""Known mistakes and correct alternatives for 01_data.

Each variant is named `<function>_<variant>` (`Variant.source()` renames it to the API name).
"""
import numpy as np

from autograder.catalog import alternative, bug

# --- flatten ---


@bug("flatten", "column_major", "the pixels come out in column order: reshape(..., order='F') or a transpose "
     "before reshaping reads each image down the columns; NumPy's default row-major order is what's wanted")
def flatten_column_major(images):
    return images.reshape(len(images), -1, order="F")


@bug("flatten", "one_long_vector", "images.ravel() (or reshape(-1)) melts the whole batch into one vector: "
     "keep the batch axis with images.reshape(len(images), -1)")
def flatten_one_long_vector(images):
    return images.ravel()


@alternative("flatten", "explicit_sizes")
def flatten_explicit_sizes(images):
    n, h, w = images.shape
    return np.reshape(images, (n, h * w))


# --- normalize ---


@bug("normalize", "divide_by_256", "pixels go up to 255, not 256: divide by 255.0 so white becomes exactly 1")
def normalize_divide_by_256(images):
    return images / 256.0


@bug("normalize", "integer_division", "integer division (//) or dividing while still uint8 turns every "
     "pixel into 0 or 1: convert to float first, images.astype(np.float32) / 255")
def normalize_integer_division(images):
    return (images // 255).astype(np.float32)


@bug("normalize", "divide_by_max", "dividing by images.max() depends on the batch (a faint image gets "
     "stretched): divide by the fixed constant 255")
def normalize_divide_by_max(images):
    return images / images.max()


@bug("normalize", "standardised", "that is standardisation (subtract the mean, divide by the std); this "
     "function only rescales 0..255 to 0..1: divide by 255")
def normalize_standardised(images):
    x = images.astype(np.float64)
    return (x - x.mean()) / x.std()


@alternative("normalize", "multiply_float64")
def normalize_multiply_float64(images):
    return images * (1.0 / 255.0)


# --- one_hot ---


@bug("one_hot", "sized_by_largest_label", "the width came from labels.max() + 1, so a batch without a 9 "
     "gets fewer columns: use num_classes for the width")
def one_hot_sized_by_largest_label(labels, num_classes=10):
    labels = np.asarray(labels)
    if labels.min(initial=0) < 0 or labels.max(initial=0) >= num_classes:
        raise ValueError("label out of range")
    out = np.zeros((len(labels), labels.max(initial=-1) + 1))
    out[np.arange(len(labels)), labels] = 1.0
    return out


@bug("one_hot", "no_range_check", "np.eye(num_classes)[labels] quietly accepts -1 (it picks the last "
     "class) and fails with an IndexError for labels >= num_classes: check the range and raise ValueError")
def one_hot_no_range_check(labels, num_classes=10):
    return np.eye(num_classes)[labels]


@bug("one_hot", "transposed", "the result is (num_classes, N): one row per sample is wanted, (N, num_classes)")
def one_hot_transposed(labels, num_classes=10):
    labels = np.asarray(labels)
    if labels.min(initial=0) < 0 or labels.max(initial=0) >= num_classes:
        raise ValueError("label out of range")
    return np.eye(num_classes)[labels].T


@alternative("one_hot", "loop")
def one_hot_loop(labels, num_classes=10):
    out = np.zeros((len(labels), num_classes))
    for i, label in enumerate(labels):
        if not 0 <= label < num_classes:
            raise ValueError(f"label {label} is outside 0..{num_classes - 1}")
        out[i, label] = 1
    return out


@alternative("one_hot", "comparison")
def one_hot_comparison(labels, num_classes=10):
    labels = np.asarray(labels)
    if ((labels < 0) | (labels >= num_classes)).any():
        raise ValueError("labels must lie in 0..num_classes-1")
    return (labels[:, None] == np.arange(num_classes)).astype(np.float32)


# --- issue 10: shapes hard-coded for one input size; unusual correct versions ---


@bug("flatten", "hard_coded_784", "reshape(-1, 784) is written for 28 x 28 images only: another image size "
     "gives the wrong number of rows; take the sizes from the input, images.reshape(len(images), -1)")
def flatten_hard_coded_784(images):
    return images.reshape(-1, 784)


@alternative("one_hot", "put_along_axis")
def one_hot_put_along_axis(labels, num_classes=10):
    labels = np.asarray(labels)
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f"labels must be in 0..{num_classes - 1}")
    out = np.zeros((labels.shape[0], num_classes))
    np.put_along_axis(out, labels.reshape(-1, 1).astype(np.intp), 1.0, axis=1)
    return out


# --- issue 10, item 4: a promise broken (the caller's array changed) ---


@bug("flatten", "sets_shape_in_place", "assigning images.shape = (N, -1) reshapes the caller's array too, so "
     "their images are no longer (N, H, W): return images.reshape(len(images), -1), a new view")
def flatten_sets_shape_in_place(images):
    images.shape = (len(images), -1)
    return images
