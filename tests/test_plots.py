"""The notebooks' pictures: every plot function draws under the Agg backend without a warning and
returns its figure; the confusion matrix counts right."""
from __future__ import annotations

import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from autograder import plots  # noqa: E402


@pytest.fixture(autouse=True)
def no_warnings_and_no_leftover_figures():
    """A warning would reach stderr (and zero an nbgrader cell): make it an error; close figures."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield
    plt.close("all")


@pytest.fixture
def digits():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(40, 28, 28), dtype=np.uint8)
    labels = np.arange(40) % 10
    predictions = labels.copy()
    predictions[[3, 7, 11]] = [5, 1, 0]
    return images, labels, predictions


def test_confusion_matrix_counts_true_rows_against_predicted_columns():
    labels = np.array([0, 0, 1, 2, 2, 2])
    predictions = np.array([0, 1, 1, 2, 0, 2])
    cm = plots.confusion_matrix(labels, predictions, num_classes=3)
    np.testing.assert_array_equal(cm, [[1, 1, 0],
                                       [0, 1, 0],
                                       [1, 0, 2]])
    assert cm.dtype.kind == "i" and cm.sum() == 6 and np.trace(cm) == 4


def test_confusion_matrix_has_a_row_and_column_for_every_class():
    cm = plots.confusion_matrix([3], [3])
    assert cm.shape == (10, 10) and cm[3, 3] == 1 and cm.sum() == 1


def test_confusion_matrix_refuses_bad_input():
    with pytest.raises(ValueError, match="entries"):
        plots.confusion_matrix([0, 1], [0])
    with pytest.raises(ValueError, match="0..9"):
        plots.confusion_matrix([0, 10], [0, 1])


@pytest.mark.parametrize("flat", [False, True])
def test_show_digits(digits, flat):
    images, labels, predictions = digits
    if flat:
        images = images.reshape(len(images), -1).astype(np.float32) / 255
    fig = plots.show_digits(images, labels, n=12, cols=6)
    assert isinstance(fig, Figure)
    shown = [ax for ax in fig.axes if ax.images]
    assert len(shown) == 12 and [ax.get_title() for ax in shown[:3]] == ["0", "1", "2"]
    fig = plots.show_digits(images, labels, predictions, n=12)
    wrong = [ax for ax in fig.axes if ax.get_title() == "5 (3)"]
    assert wrong and wrong[0].title.get_color() != "black"


def test_show_digits_refuses_what_is_not_a_picture():
    with pytest.raises(ValueError, match="square"):
        plots.show_digits(np.zeros((3, 10)))


def test_show_misclassified_shows_only_the_mistakes(digits):
    images, labels, predictions = digits
    fig = plots.show_misclassified(images, labels, predictions)
    assert [ax.get_title() for ax in fig.axes if ax.images] == ["5 (3)", "1 (7)", "0 (1)"]
    assert "3 of 40 misclassified" in fig.get_suptitle()
    fig = plots.show_misclassified(images, labels, labels)
    assert "no mistakes" in fig.get_suptitle()


def test_plot_confusion_matrix_from_labels_or_a_matrix(digits):
    _, labels, predictions = digits
    fig = plots.plot_confusion_matrix(labels, predictions)
    assert isinstance(fig, Figure) and "accuracy 92.50%" in fig.axes[0].get_title()
    assert isinstance(plots.plot_confusion_matrix(plots.confusion_matrix(labels, predictions)), Figure)
    assert isinstance(plots.plot_confusion_matrix(labels, labels), Figure)  # no mistakes at all


def test_show_first_layer():
    W1 = np.random.default_rng(1).standard_normal((784, 100)).astype(np.float32)
    W1[:, 0] = 0  # a dead unit has no scale of its own
    fig = plots.show_first_layer(W1, n=32)
    assert isinstance(fig, Figure) and len([ax for ax in fig.axes if ax.images]) == 32
    with pytest.raises(ValueError, match="784"):
        plots.show_first_layer(W1.T)


def test_plot_curves():
    history = {"loss": [0.5, 0.3, 0.2], "train_accuracy": [0.9, 0.95, 0.97],
               "val_loss": [0.4, 0.3, 0.25], "val_accuracy": [0.92, 0.95, 0.96]}
    fig = plots.plot_curves(history, target=0.97)
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    loss_ax, acc_ax = fig.axes
    assert len(loss_ax.lines) == 2 and len(acc_ax.lines) == 3  # two curves and the target line
    only_loss = plots.plot_curves({"loss": [1.0, 0.5], "val_accuracy": []})
    assert len(only_loss.axes) == 1
    assert isinstance(plots.plot_curves({}), Figure)
