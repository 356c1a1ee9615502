"""Known mistakes and correct alternatives for 02_activations.

Each variant has its own Python name (the catalog's `Variant.source()` renames it to the API name):
one module-level `sigmoid` must stay the reference, because the sigmoid_derivative variants call
`sigmoid(z)` exactly as a learner's notebook would. Within a function, specific bugs come before
general ones: the judge shows the hint of the first bug that reproduces the learner's result.
"""
import numpy as np

from autograder.catalog import alternative, bug
from solutions import sigmoid

# --- relu ---


@bug("relu", "absolute_value", "np.abs(z) flips negative inputs to positive; ReLU sets them to 0: "
     "np.maximum(z, 0)")
def relu_absolute_value(z):
    return np.abs(z)


@bug("relu", "reduction_max", "np.max(z, 0) is a reduction: it reads the 0 as an axis and returns the "
     "largest entry of each column; np.maximum(z, 0) compares every entry with 0")
def relu_reduction_max(z):
    return np.max(z, 0)


@bug("relu", "python_max", "Python's built-in max(z, 0) compares the whole array with 0 at once, which "
     "is ambiguous for arrays; NumPy's elementwise version is np.maximum(z, 0)")
def relu_python_max(z):
    return max(z, 0)


@bug("relu", "leaky", "np.where(z > 0, z, 0.01 * z) is leaky ReLU; plain ReLU gives exactly 0 for "
     "negative inputs")
def relu_leaky(z):
    return np.where(z > 0, z, 0.01 * z)


@bug("relu", "in_place", "writing into z (z[z < 0] = 0, out=z, z *= ...) changes the caller's array, and "
     "backprop still needs the original Z: return a new array, np.maximum(z, 0)")
def relu_in_place(z):
    z[z < 0] = 0
    return z


@alternative("relu", "where")
def relu_where(z):
    return np.where(z > 0, z, 0.0)


@alternative("relu", "mask_multiply")
def relu_mask_multiply(z):
    return z * (z > 0)


@alternative("relu", "clip")
def relu_clip(z):
    return np.clip(z, 0, None)


# --- relu_derivative ---


@bug("relu_derivative", "booleans", "z > 0 gives booleans (True/False), and .astype(int) integers; the "
     "derivative should be floating point: (z > 0).astype(z.dtype) or (z > 0) * 1.0")
def relu_derivative_booleans(z):
    return z > 0


@bug("relu_derivative", "one_at_zero", "z >= 0 gives a slope of 1 at exactly z == 0; this course takes "
     "the derivative there to be 0: use z > 0")
def relu_derivative_one_at_zero(z):
    return (z >= 0).astype(float)


@bug("relu_derivative", "all_ones", "the slope is 1 only where z > 0; where z <= 0 ReLU is flat, so its "
     "derivative there is 0")
def relu_derivative_all_ones(z):
    return np.ones_like(z)


@bug("relu_derivative", "relu_itself", "that is relu(z) itself; its derivative is the slope: 1.0 where "
     "z > 0 and 0.0 elsewhere")
def relu_derivative_relu_itself(z):
    return np.maximum(z, 0)


@bug("relu_derivative", "sign", "np.sign(z) is -1 for negative inputs, but ReLU is flat there: its slope "
     "is 0, not -1")
def relu_derivative_sign(z):
    return np.sign(z)


@bug("relu_derivative", "in_place", "writing into z (z[z > 0] = 1, ...) overwrites the caller's "
     "pre-activations, which backprop still needs: build a new array, (z > 0).astype(z.dtype)")
def relu_derivative_in_place(z):
    z[z > 0] = 1
    z[z <= 0] = 0
    return z


@alternative("relu_derivative", "times_one")
def relu_derivative_times_one(z):
    return (z > 0) * 1.0


@alternative("relu_derivative", "heaviside")
def relu_derivative_heaviside(z):
    return np.heaviside(z, 0.0)


@alternative("relu_derivative", "where")
def relu_derivative_where(z):
    return np.where(z > 0, 1.0, 0.0)


# --- sigmoid ---


@bug("sigmoid", "sign_error", "1 / (1 + exp(z)) is sigmoid(-z), a mirror image: the formula has exp(-z)")
def sigmoid_sign_error(z):
    return 1 / (1 + np.exp(z))


@bug("sigmoid", "exp_over_one_plus_exp", "exp(z) / (1 + exp(z)) only moves the overflow to large positive "
     "z, where it becomes inf / inf = NaN: take exp of -|z| only, 1 / (1 + e) for z >= 0 and e / (1 + e) "
     "for z < 0 with e = exp(-|z|)")
def sigmoid_exp_over_one_plus_exp(z):
    return np.exp(z) / (1 + np.exp(z))


@bug("sigmoid", "where_both_branches", "np.where(z >= 0, 1 / (1 + np.exp(-z)), np.exp(z) / (1 + np.exp(z))) "
     "still overflows: np.where picks from two results computed for every entry. Take exp of -|z| only "
     "(e = np.exp(-np.abs(z))), then np.where(z >= 0, 1 / (1 + e), e / (1 + e))")
def sigmoid_where_both_branches(z):
    return np.where(z >= 0, 1 / (1 + np.exp(-z)), np.exp(z) / (1 + np.exp(z)))


@bug("sigmoid", "naive", "1 / (1 + np.exp(-z)) is right, but exp(-z) overflows for z below about -709 "
     "(the overflow warning you see): take exp of -|z| only, 1 / (1 + e) for z >= 0 and e / (1 + e) for "
     "z < 0 with e = np.exp(-np.abs(z)), or use 0.5 * (1 + np.tanh(z / 2))")
def sigmoid_naive(z):
    return 1 / (1 + np.exp(-z))


@alternative("sigmoid", "tanh")
def sigmoid_tanh(z):
    return 0.5 * (1 + np.tanh(0.5 * z))


@alternative("sigmoid", "masks")
def sigmoid_masks(z):
    z = np.asarray(z, dtype=float)
    out = np.empty_like(z)
    pos = z >= 0
    out[pos] = 1 / (1 + np.exp(-z[pos]))
    e = np.exp(z[~pos])
    out[~pos] = e / (1 + e)
    return out


@alternative("sigmoid", "clip_then_naive")
def sigmoid_clip_then_naive(z):
    return 1 / (1 + np.exp(-np.clip(z, -500, 500)))


# --- sigmoid_derivative ---


@bug("sigmoid_derivative", "applied_to_z", "s * (1 - s) is right with s = sigmoid(z); z * (1 - z) applies "
     "it to the logits themselves. Compute s = sigmoid(z) first")
def sigmoid_derivative_applied_to_z(z):
    return z * (1 - z)


@bug("sigmoid_derivative", "missing_one_minus", "sigmoid(z) alone is the function, not its slope: the "
     "derivative is sigmoid(z) * (1 - sigmoid(z))")
def sigmoid_derivative_missing_one_minus(z):
    return sigmoid(z)


@bug("sigmoid_derivative", "tanh_derivative", "1 - s**2 is the derivative of tanh; for the sigmoid it is "
     "s * (1 - s) with s = sigmoid(z)")
def sigmoid_derivative_tanh_derivative(z):
    s = sigmoid(z)
    return 1 - s ** 2


@bug("sigmoid_derivative", "exp_formula", "exp(-z) / (1 + exp(-z))**2 is the right formula, but for very "
     "negative z it is inf / inf = NaN: compute s = sigmoid(z) once (stable) and return s * (1 - s)")
def sigmoid_derivative_exp_formula(z):
    e = np.exp(-z)
    return e / (1 + e) ** 2


@alternative("sigmoid_derivative", "s_minus_s_squared")
def sigmoid_derivative_s_minus_s_squared(z):
    s = sigmoid(z)
    return s - s * s


@alternative("sigmoid_derivative", "tanh_form")
def sigmoid_derivative_tanh_form(z):
    return 0.25 * (1 - np.tanh(0.5 * z) ** 2)


# --- softmax ---


@bug("softmax", "over_axis_0", "the normalisation ran down the columns (axis=0), so each column sums to 1; "
     "every row is one sample, so take the max and sum over the classes: axis=-1, keepdims=True")
def softmax_over_axis_0(z):
    e = np.exp(z - z.max(axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)


@bug("softmax", "sum_of_everything", "e / e.sum() normalises the whole batch at once, so all entries "
     "together sum to 1; each row must sum to 1: e.sum(axis=-1, keepdims=True)")
def softmax_sum_of_everything(z):
    e = np.exp(z - z.max())
    return e / e.sum()


@bug("softmax", "no_keepdims", "e.sum(axis=1) has shape (N,), which lines up with the columns of an (N, C) "
     "array, not its rows: keep the axis with e.sum(axis=-1, keepdims=True), shape (N, 1)")
def softmax_no_keepdims(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1)


@bug("softmax", "no_max_shift", "np.exp(1e4) overflows to inf and inf / inf is NaN: subtract each row's "
     "max first, z - z.max(axis=-1, keepdims=True); softmax does not change, exp's argument stays <= 0")
def softmax_no_max_shift(z):
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


@bug("softmax", "global_max_shift", "z - z.max() subtracts the largest logit of the whole batch, so a row "
     "far below it underflows to 0 / 0 = NaN: subtract each row's own max, z.max(axis=-1, keepdims=True)")
def softmax_global_max_shift(z):
    e = np.exp(z - np.max(z))
    return e / e.sum(axis=-1, keepdims=True)


@bug("softmax", "axis_1_only", "axis=1 does not exist for a 1-D input; axis=-1 (the last axis) with "
     "keepdims=True works for a single row and for a batch")
def softmax_axis_1_only(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


@bug("softmax", "keeps_2d", "np.atleast_2d turned the 1-D input into a (1, C) batch and it came back that "
     "way; give back the shape you were given (e.g. reshape(z.shape), or use axis=-1 throughout)")
def softmax_keeps_2d(z):
    z = np.atleast_2d(z)
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


@bug("softmax", "in_place", "z -= z.max(...) changes the caller's logits: write shifted = z - "
     "z.max(axis=-1, keepdims=True) into a new array")
def softmax_in_place(z):
    z -= z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


@alternative("softmax", "log_sum_exp")
def softmax_log_sum_exp(z):
    m = np.max(z, axis=-1, keepdims=True)
    lse = m + np.log(np.sum(np.exp(z - m), axis=-1, keepdims=True))
    return np.exp(z - lse)


@alternative("softmax", "row_loop")
def softmax_row_loop(z):
    z = np.asarray(z, dtype=float)
    rows = np.atleast_2d(z)
    out = np.empty_like(rows)
    for i, row in enumerate(rows):
        e = np.exp(row - row.max())
        out[i] = e / e.sum()
    return out.reshape(z.shape)


@alternative("softmax", "transpose_trick")
def softmax_transpose_trick(z):
    zt = z.T
    e = np.exp(zt - zt.max(axis=0))
    return (e / e.sum(axis=0)).T


# --- issue 10: mistakes the relational diagnosis also names; unusual correct versions ---


@bug("sigmoid_derivative", "one_minus_sigmoid", "1 - sigmoid(z) is only one of the two factors: the "
     "derivative is sigmoid(z) * (1 - sigmoid(z))")
def sigmoid_derivative_one_minus_sigmoid(z):
    return 1 - sigmoid(z)


@alternative("relu", "vectorize")
def relu_vectorize(z):
    return np.vectorize(lambda v: v if v > 0 else 0.0, otypes=[float])(z)


@alternative("softmax", "apply_along_axis")
def softmax_apply_along_axis(z):
    def row(r):
        e = np.exp(r - r.max())
        return e / e.sum()
    return np.apply_along_axis(row, -1, z)


@alternative("softmax", "log_domain")
def softmax_log_domain(z):
    shifted = z - z.max(axis=-1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    return np.exp(log_probs)
