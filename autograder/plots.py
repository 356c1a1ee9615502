"""Pictures for the notebooks: digits, training curves, a confusion matrix, first-layer weights.

Every function draws one new matplotlib figure and returns it; in a notebook with
``%matplotlib inline`` the figure appears below the cell (write ``fig = show_digits(...)`` or end
the line with ``;`` so that it is not shown twice). Nothing here prints or warns, so a cell that
draws stays clean for nbgrader. Images may be ``(N, 28, 28)`` or flattened ``(N, 784)``, uint8
0..255 or floats in [0, 1].
"""
from __future__ import annotations

import math
import warnings
from typing import Mapping, Sequence

import numpy as np

__all__ = [
    "show_digits",
    "confusion_matrix",
    "plot_confusion_matrix",
    "show_misclassified",
    "show_first_layer",
    "plot_curves",
]

SIDE = 28
_RIGHT, _WRONG = "black", "tab:red"


def _pyplot():
    import matplotlib.pyplot as plt  # imported on first use: `import autograder` stays light

    return plt


def _as_images(images) -> np.ndarray:
    """(N, 28, 28) from (N, 28, 28), (N, 784), or one image (28, 28) / (784,)."""
    images = np.asarray(images)
    if images.ndim == 1 or images.shape == (SIDE, SIDE):
        images = images[None]
    if images.ndim == 2:
        side = math.isqrt(images.shape[1])
        if side * side != images.shape[1]:
            raise ValueError(f"cannot show images of shape {images.shape}: each row should hold a "
                             f"square picture such as 28x28 = 784 pixels")
        images = images.reshape(len(images), side, side)
    if images.ndim != 3:
        raise ValueError(f"cannot show images of shape {images.shape}: expected (N, 28, 28) or (N, 784)")
    return images


def _tidy(fig) -> None:
    """tight_layout, whose rare "could not be applied" warning must not reach stderr."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fig.tight_layout()


def _grid(count: int, cols: int, cell: float = 1.1, title_space: float = 0.0):
    plt = _pyplot()
    cols = max(1, min(cols, count))
    rows = max(1, math.ceil(count / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(cell * cols, (cell + title_space) * rows), squeeze=False)
    for ax in axes.ravel():
        ax.set_axis_off()
    return fig, axes.ravel()


def show_digits(images, labels=None, predictions=None, n: int = 25, cols: int = 10, title: str | None = None):
    """The first ``n`` images in a grid, each titled with its label.

    With ``predictions`` each title reads ``predicted (true label)`` and is red when they differ.
    Returns the figure.
    """
    images = _as_images(images)[:n]
    labels = None if labels is None else np.asarray(labels)[:n]
    predictions = None if predictions is None else np.asarray(predictions)[:n]
    titled = labels is not None or predictions is not None
    fig, axes = _grid(max(len(images), 1), cols, title_space=0.3 if titled else 0.0)
    for i, (ax, image) in enumerate(zip(axes, images)):
        ax.imshow(image, cmap="gray_r", interpolation="nearest")
        if predictions is not None and labels is not None:
            wrong = predictions[i] != labels[i]
            ax.set_title(f"{predictions[i]} ({labels[i]})", color=_WRONG if wrong else _RIGHT, fontsize=9)
        elif predictions is not None:
            ax.set_title(f"pred {predictions[i]}", fontsize=9)
        elif labels is not None:
            ax.set_title(str(labels[i]), fontsize=9)
    if title is None and predictions is not None and labels is not None:
        title = "predicted (true label); red: wrong"
    if title:
        fig.suptitle(title)
    _tidy(fig)
    return fig


def confusion_matrix(labels, predictions, num_classes: int = 10) -> np.ndarray:
    """``(num_classes, num_classes)`` counts: row = true label, column = prediction.

    ``cm[i, j]`` is how many images of digit ``i`` were predicted as ``j``; the diagonal holds the
    correct ones, so ``np.trace(cm) / cm.sum()`` is the accuracy.
    """
    labels = np.asarray(labels).astype(np.int64).ravel()
    predictions = np.asarray(predictions).astype(np.int64).ravel()
    if labels.shape != predictions.shape:
        raise ValueError(f"labels has {labels.size} entries but predictions has {predictions.size}")
    for name, values in (("labels", labels), ("predictions", predictions)):
        if values.size and (values.min() < 0 or values.max() >= num_classes):
            outside = values[(values < 0) | (values >= num_classes)][0]
            raise ValueError(f"{name} must be classes 0..{num_classes - 1}, found {outside}")
    counts = np.bincount(labels * num_classes + predictions, minlength=num_classes * num_classes)
    return counts.reshape(num_classes, num_classes)


def plot_confusion_matrix(labels, predictions=None, num_classes: int = 10, title: str | None = None):
    """Draw the confusion matrix of ``labels`` and ``predictions`` (or of a ready matrix given
    alone) with every count written in its square. Returns the figure."""
    if predictions is None:
        cm = np.asarray(labels)
        num_classes = cm.shape[0]
    else:
        cm = confusion_matrix(labels, predictions, num_classes)
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 5.6))
    # Colour the mistakes (off the diagonal) on their own scale, so that 3 confusions are visible
    # next to 1,000 correct answers; the diagonal is drawn in a neutral grey.
    off = cm.astype(float).copy()
    np.fill_diagonal(off, np.nan)
    image = ax.imshow(off, cmap="Reds", vmin=0, vmax=max(1.0, np.nanmax(off) if off.size > 1 else 1.0))
    for i in range(num_classes):
        ax.add_patch(plt.Rectangle((i - 0.5, i - 0.5), 1, 1, color="0.85"))
    threshold = 0.6 * np.nanmax(off) if off.size > 1 and np.nanmax(off) > 0 else np.inf
    for i in range(num_classes):
        for j in range(num_classes):
            value = int(cm[i, j])
            if value or i == j:
                color = "white" if i != j and value > threshold else "black"
                ax.text(j, i, str(value), ha="center", va="center", fontsize=8, color=color)
    ax.set_xticks(range(num_classes))
    ax.set_yticks(range(num_classes))
    ax.set_xlabel("predicted")
    ax.set_ylabel("true label")
    total = cm.sum()
    accuracy = np.trace(cm) / total if total else float("nan")
    ax.set_title(title or f"confusion matrix (accuracy {accuracy:.2%})")
    fig.colorbar(image, ax=ax, label="mistakes")
    _tidy(fig)
    return fig


def show_misclassified(images, labels, predictions, n: int = 30, cols: int = 10):
    """The first ``n`` images whose prediction differs from the label, titled ``predicted (true)``.

    Returns the figure; its title says how many mistakes there are in all.
    """
    labels = np.asarray(labels)
    predictions = np.asarray(predictions)
    wrong = np.flatnonzero(predictions != labels)
    images = _as_images(images)
    title = (f"{len(wrong)} of {len(labels)} misclassified; the first {min(n, len(wrong))}: "
             f"predicted (true label)") if len(wrong) else f"no mistakes on {len(labels)} images"
    if not len(wrong):
        fig, axes = _grid(1, 1)
        fig.suptitle(title)
        return fig
    return show_digits(images[wrong], labels[wrong], predictions[wrong], n=n, cols=cols, title=title)


def show_first_layer(W1, n: int = 64, cols: int = 16):
    """The weights of the first ``n`` hidden units, each column of ``W1`` (784, H) as a 28x28 image.

    Red pixels push the unit's input up, blue pixels push it down; each image has its own symmetric
    colour scale so that weak units are visible too. Returns the figure.
    """
    W1 = np.asarray(W1, dtype=float)
    if W1.ndim != 2 or W1.shape[0] != SIDE * SIDE:
        raise ValueError(f"W1 should have shape (784, hidden units), got {W1.shape}")
    units = W1[:, :n].T.reshape(-1, SIDE, SIDE)
    fig, axes = _grid(len(units), cols, cell=0.8)
    for ax, unit in zip(axes, units):
        top = np.abs(unit).max() or 1.0
        ax.imshow(unit, cmap="RdBu_r", vmin=-top, vmax=top, interpolation="nearest")
    fig.suptitle(f"first-layer weights of {len(units)} of {W1.shape[1]} hidden units (red +, blue -)")
    _tidy(fig)
    return fig


_CURVES = {  # history key -> (panel, label)
    "loss": ("loss", "training loss"),
    "train_loss": ("loss", "training loss"),
    "val_loss": ("loss", "validation loss"),
    "accuracy": ("accuracy", "training accuracy"),
    "train_accuracy": ("accuracy", "training accuracy"),
    "val_accuracy": ("accuracy", "validation accuracy"),
}


def plot_curves(history: Mapping[str, Sequence[float]], target: float | None = None):
    """Loss and accuracy per epoch from a ``history`` dict of lists.

    Known keys: ``loss`` (or ``train_loss``), ``val_loss``, ``train_accuracy`` (or ``accuracy``),
    ``val_accuracy``; empty or missing ones are skipped. ``target`` draws a dashed line on the
    accuracy panel (for instance the capstone's threshold). Returns the figure.
    """
    curves = {key: list(values) for key, values in history.items() if key in _CURVES and len(values)}
    panels = [p for p in ("loss", "accuracy") if any(_CURVES[k][0] == p for k in curves)] or ["loss"]
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(panels), figsize=(5.5 * len(panels), 3.8), squeeze=False)
    for ax, panel in zip(axes[0], panels):
        for key, values in curves.items():
            if _CURVES[key][0] == panel:
                epochs = np.arange(1, len(values) + 1)
                ax.plot(epochs, values, marker="o", markersize=3, label=_CURVES[key][1])
        if panel == "accuracy" and target is not None:
            ax.axhline(target, color="0.4", linestyle="--", linewidth=1, label=f"target {target:.1%}")
        ax.set_xlabel("epoch")
        ax.set_ylabel(panel)
        losses = [v for k, v in curves.items() if _CURVES[k][0] == "loss"]
        if panel == "loss" and losses and min(min(v) for v in losses) > 0:
            ax.set_yscale("log")
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend()
    _tidy(fig)
    return fig
