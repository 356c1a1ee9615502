"""Known mistakes and correct alternatives for 03_loss.

Variants have their own Python names (`Variant.source()` renames them); `softmax` and `one_hot` are
the reference's, as a learner's notebook would call its own. Specific bugs come before general ones.
"""
import numpy as np

from autograder.catalog import alternative, bug
from solutions import one_hot, softmax

# --- cross_entropy ---


@bug("cross_entropy", "per_sample", "that is one loss per sample; the loss of the batch is their mean, a "
     "single number: np.mean(...)")
def cross_entropy_per_sample(probs, labels, eps=1e-12):
    p = np.clip(probs[np.arange(len(probs)), labels], eps, 1.0)
    return -np.log(p)


@bug("cross_entropy", "no_clipping", "log(0) is -inf, so one true-class probability of 0 makes the loss "
     "infinite: clip first, np.clip(p, eps, 1.0), then take the log")
def cross_entropy_no_clipping(probs, labels, eps=1e-12):
    p = probs[np.arange(len(probs)), labels]
    return -np.mean(np.log(p))


@bug("cross_entropy", "one_hot_product", "multiplying by one-hot rows still takes the log of every "
     "probability, and a 0 anywhere gives 0 * log(0) = 0 * -inf = NaN: pick the true-class entries, "
     "probs[np.arange(N), labels], and clip those (or clip probs before the log)")
def cross_entropy_one_hot_product(probs, labels, eps=1e-12):
    y = one_hot(labels, probs.shape[1])
    return -np.mean(np.sum(y * np.log(probs), axis=1))


@bug("cross_entropy", "sum_not_mean", "the sum over the batch grows with the batch size; the loss is the "
     "mean: np.mean(...) (or divide the sum by N)")
def cross_entropy_sum_not_mean(probs, labels, eps=1e-12):
    p = np.clip(probs[np.arange(len(probs)), labels], eps, 1.0)
    return -np.sum(np.log(p))


@bug("cross_entropy", "positive_sign", "log of a probability is <= 0, so the loss needs a minus sign: "
     "-np.mean(np.log(p))")
def cross_entropy_positive_sign(probs, labels, eps=1e-12):
    p = np.clip(probs[np.arange(len(probs)), labels], eps, 1.0)
    return np.mean(np.log(p))


@bug("cross_entropy", "log10", "np.log10 is the base-10 logarithm; cross-entropy uses the natural log, np.log")
def cross_entropy_log10(probs, labels, eps=1e-12):
    p = np.clip(probs[np.arange(len(probs)), labels], eps, 1.0)
    return -np.mean(np.log10(p))


@bug("cross_entropy", "every_class", "that averages the log of every class's probability; the loss only "
     "looks at the true class of each row: probs[np.arange(N), labels]")
def cross_entropy_every_class(probs, labels, eps=1e-12):
    return -np.mean(np.log(np.clip(probs, eps, 1.0)))


@bug("cross_entropy", "column_block", "probs[:, labels] takes every row at every label's column (an N x N "
     "block); pair each row with its own label: probs[np.arange(N), labels]")
def cross_entropy_column_block(probs, labels, eps=1e-12):
    p = np.clip(probs[:, labels], eps, 1.0)
    return -np.mean(np.log(p))


@bug("cross_entropy", "fixed_eps", "the clipping ignores the eps argument (a fixed 1e-12 is written in): "
     "clip with np.clip(p, eps, 1.0) so the caller's eps counts")
def cross_entropy_fixed_eps(probs, labels, eps=1e-12):
    p = np.clip(probs[np.arange(len(probs)), labels], 1e-12, 1.0)
    return -np.mean(np.log(p))


@alternative("cross_entropy", "loop")
def cross_entropy_loop(probs, labels, eps=1e-12):
    total = 0.0
    for i, label in enumerate(labels):
        total -= np.log(max(probs[i, label], eps))
    return total / len(labels)


@alternative("cross_entropy", "maximum")
def cross_entropy_maximum(probs, labels, eps=1e-12):
    p = np.maximum(probs[np.arange(len(probs)), labels], eps)
    return -np.log(p).mean()


@alternative("cross_entropy", "one_hot_clipped")
def cross_entropy_one_hot_clipped(probs, labels, eps=1e-12):
    y = one_hot(labels, probs.shape[1])
    return -np.sum(y * np.log(np.clip(probs, eps, 1.0))) / len(probs)


@alternative("cross_entropy", "take_along_axis_float32")
def cross_entropy_take_along_axis_float32(probs, labels, eps=1e-12):
    p = np.take_along_axis(probs, labels[:, None], axis=1)[:, 0]
    return np.float32(-np.mean(np.log(np.clip(p, eps, 1))))


@alternative("cross_entropy", "adds_eps")
def cross_entropy_adds_eps(probs, labels, eps=1e-12):
    return -np.mean(np.log(probs[np.arange(len(probs)), labels] + eps))


# --- softmax_cross_entropy_grad ---


@bug("softmax_cross_entropy_grad", "no_division", "the loss is a mean over the batch, so its gradient "
     "carries a 1 / N: divide (softmax(logits) - one_hot(labels)) by N = len(logits)")
def softmax_cross_entropy_grad_no_division(logits, labels):
    return softmax(logits) - one_hot(labels, logits.shape[1])


@bug("softmax_cross_entropy_grad", "divides_by_classes", "logits.shape[1] is the number of classes; the "
     "mean is over the batch, N = logits.shape[0] (len(logits))")
def softmax_cross_entropy_grad_divides_by_classes(logits, labels):
    return (softmax(logits) - one_hot(labels, logits.shape[1])) / logits.shape[1]


@bug("softmax_cross_entropy_grad", "minus_one_everywhere", "1 is subtracted only at each row's true class: "
     "softmax(logits) - one_hot(labels), not softmax(logits) - 1")
def softmax_cross_entropy_grad_minus_one_everywhere(logits, labels):
    return (softmax(logits) - 1) / len(logits)


@bug("softmax_cross_entropy_grad", "sign_flipped", "the sign is flipped: it is (probabilities - one_hot), "
     "which is positive for the wrong classes, so gradient descent lowers their scores")
def softmax_cross_entropy_grad_sign_flipped(logits, labels):
    return (one_hot(labels, logits.shape[1]) - softmax(logits)) / len(logits)


@bug("softmax_cross_entropy_grad", "column_block", "grad[:, labels] -= 1 subtracts 1 in every row at every "
     "label's column; pair each row with its own label: grad[np.arange(N), labels] -= 1")
def softmax_cross_entropy_grad_column_block(logits, labels):
    grad = softmax(logits)
    grad[:, labels] -= 1
    return grad / len(logits)


@bug("softmax_cross_entropy_grad", "unstable_exp", "np.exp(logits) overflows for logits of size 1e4 "
     "(inf / inf = NaN): use your softmax(logits), which subtracts each row's max first")
def softmax_cross_entropy_grad_unstable_exp(logits, labels):
    e = np.exp(logits)
    p = e / e.sum(axis=1, keepdims=True)
    return (p - one_hot(labels, logits.shape[1])) / len(logits)


@alternative("softmax_cross_entropy_grad", "eye")
def softmax_cross_entropy_grad_eye(logits, labels):
    n, c = logits.shape
    return (softmax(logits) - np.eye(c)[labels]) / n


@alternative("softmax_cross_entropy_grad", "loop")
def softmax_cross_entropy_grad_loop(logits, labels):
    grad = softmax(logits).copy()
    for i, label in enumerate(labels):
        grad[i, label] -= 1.0
    return grad / grad.shape[0]


# --- accuracy ---


@bug("accuracy", "argmax_over_axis_0", "np.argmax(scores, axis=0) finds the best sample for each class; "
     "the prediction for each sample is the best class of its row: axis=1")
def accuracy_argmax_over_axis_0(scores, labels):
    return np.mean(np.argmax(scores, axis=0) == labels)


@bug("accuracy", "argmax_flattened", "np.argmax without axis= looks at the whole array flattened and "
     "returns one index; use axis=1 for one prediction per row")
def accuracy_argmax_flattened(scores, labels):
    return np.mean(np.argmax(scores) == labels)


@bug("accuracy", "max_not_argmax", "np.max gives the highest score itself; the predicted class is its "
     "position, np.argmax(scores, axis=1)")
def accuracy_max_not_argmax(scores, labels):
    return np.mean(np.max(scores, axis=1) == labels)


@bug("accuracy", "count", "that is the number of correct rows; accuracy is the fraction, divide by the "
     "number of samples (or use np.mean)")
def accuracy_count(scores, labels):
    return np.sum(np.argmax(scores, axis=1) == labels)


@bug("accuracy", "percentage", "accuracy is a fraction in [0, 1] here, not a percentage: leave out the * 100")
def accuracy_percentage(scores, labels):
    return 100.0 * np.mean(np.argmax(scores, axis=1) == labels)


@bug("accuracy", "one_hot_entries", "comparing one-hot rows entry by entry also counts every matching 0, "
     "so wrong rows still score (C - 2) / C: compare class indices, np.argmax(scores, axis=1) == labels")
def accuracy_one_hot_entries(scores, labels):
    c = scores.shape[1]
    return np.mean(one_hot(np.argmax(scores, axis=1), c) == one_hot(labels, c))


@alternative("accuracy", "loop")
def accuracy_loop(scores, labels):
    right = 0
    for row, label in zip(scores, labels):
        if np.argmax(row) == label:
            right += 1
    return right / len(labels)


@alternative("accuracy", "count_nonzero")
def accuracy_count_nonzero(scores, labels):
    return np.count_nonzero(scores.argmax(-1) == labels) / labels.shape[0]


# --- issue 10: constant factors, missing terms, steps in another order ---


@bug("cross_entropy", "log_then_clip", "the log came first and the loss was clipped to [eps, 1] after it, "
     "which caps every sample's loss at 1: clip the probabilities first, np.clip(p, eps, 1.0), then -np.log")
def cross_entropy_log_then_clip(probs, labels, eps=1e-12):
    with np.errstate(divide="ignore"):
        return np.mean(np.clip(-np.log(probs[np.arange(len(probs)), labels]), eps, 1.0))


@bug("cross_entropy", "log_of_mean", "that is -log of the mean probability; the loss is the mean of each "
     "sample's -log(probability): take the log first, then the mean")
def cross_entropy_log_of_mean(probs, labels, eps=1e-12):
    return -np.log(np.clip(np.mean(probs[np.arange(len(probs)), labels]), eps, 1.0))


@bug("softmax_cross_entropy_grad", "divides_by_all_entries", "logits.size is N * C, every entry of the "
     "array; the mean is over the N samples only: divide by len(logits)")
def softmax_cross_entropy_grad_divides_by_all_entries(logits, labels):
    return (softmax(logits) - one_hot(labels, logits.shape[1])) / logits.size


@bug("softmax_cross_entropy_grad", "probabilities_only", "softmax(logits) / N is only half the formula: the "
     "gradient is (softmax(logits) - one_hot(labels)) / N, so subtract the one-hot labels")
def softmax_cross_entropy_grad_probabilities_only(logits, labels):
    return softmax(logits) / len(logits)


@alternative("cross_entropy", "einsum")
def cross_entropy_einsum(probs, labels, eps=1e-12):
    picked = np.einsum("ij,ij->i", probs, one_hot(labels, probs.shape[1]))
    return -np.mean(np.log(np.clip(picked, eps, 1.0)))


# --- issue 10, item 4: promises broken (the caller's arrays changed) ---


@bug("cross_entropy", "clips_in_place", "np.clip(probs, eps, 1, out=probs) clips the caller's probabilities "
     "too: clip into a new array, np.clip(probs, eps, 1)")
def cross_entropy_clips_in_place(probs, labels, eps=1e-12):
    np.clip(probs, eps, 1.0, out=probs)
    return -np.mean(np.log(probs[np.arange(len(probs)), labels]))


@bug("softmax_cross_entropy_grad", "shifts_logits_in_place", "logits -= logits.max(...) shifts the caller's "
     "logits in place: shifted = logits - logits.max(axis=1, keepdims=True) makes a new array")
def softmax_cross_entropy_grad_shifts_logits_in_place(logits, labels):
    logits -= logits.max(axis=1, keepdims=True)
    e = np.exp(logits)
    grad = e / e.sum(axis=1, keepdims=True)
    grad[np.arange(len(labels)), labels] -= 1
    return grad / len(labels)
