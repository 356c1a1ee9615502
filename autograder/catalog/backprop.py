"""Known mistakes and correct alternatives for 05_backprop.

Every variant is written as a learner would write it, with only NumPy and the API's own names
(relu, softmax, one_hot, ...), so `Variant.source()` can be pasted into a notebook as it is.
Backward variants carry the forward whose cache they read (`also=`); those forwards are correct,
so the mistake is blamed on backward alone. Each variant is named `<function>_<variant>`
(`Variant.source()` renames it to the API name), so no variant shadows another or the reference.
"""
import numpy as np

from autograder.catalog import alternative, bug
from solutions.activations import relu, relu_derivative, sigmoid, softmax
from solutions.data import one_hot


# --- the forwards backward variants read from (both correct) ---


def forward_dict_cache(params, X):
    """The usual cache: a dict {"A0": X, "Z1": ..., "A1": ..., ..., "AL": probs}."""
    L = len(params) // 2
    A = X
    cache = {"A0": X}
    for k in range(1, L + 1):
        Z = A @ params[f"W{k}"] + params[f"b{k}"]
        A = relu(Z) if k < L else softmax(Z)
        cache[f"Z{k}"] = Z
        cache[f"A{k}"] = A
    return A, cache


DICT_CACHE = {"forward": forward_dict_cache}


def forward_activations(params, X):
    """A list of activations [X, A1, ..., AL]; no Z is kept (the ReLU mask is A > 0)."""
    L = len(params) // 2
    activations = [X]
    for k in range(1, L + 1):
        Z = activations[-1] @ params["W" + str(k)] + params["b" + str(k)]
        activations.append(relu(Z) if k < L else softmax(Z))
    return activations[-1], activations


def forward_layers(params, X):
    """CS231n style: one (A_prev, W, Z) tuple per layer, in a list."""
    L = len(params) // 2
    caches = []
    A = X
    for k in range(1, L + 1):
        W, b = params[f"W{k}"], params[f"b{k}"]
        Z = A @ W + b
        caches.append((A, W, Z))
        A = softmax(Z) if k == L else relu(Z)
    return A, (A, caches)


# --- forward: bugs ---


@bug("forward", "probs_only", "forward returns only probs; it should return the pair (probs, cache), "
     "because backward needs the Z's and A's computed on the way: `return probs, cache`")
def forward_probs_only(params, X):
    L = len(params) // 2
    A = X
    for k in range(1, L + 1):
        Z = A @ params[f"W{k}"] + params[f"b{k}"]
        A = relu(Z) if k < L else softmax(Z)
    return A


@bug("forward", "no_softmax", "the last layer returns its raw scores Z_L (logits): apply softmax to the "
     "last layer so each row is a probability distribution")
def forward_no_softmax(params, X):
    L = len(params) // 2
    A = X
    cache = {"A0": X}
    for k in range(1, L + 1):
        Z = A @ params[f"W{k}"] + params[f"b{k}"]
        A = relu(Z) if k < L else Z
        cache[f"Z{k}"], cache[f"A{k}"] = Z, A
    return A, cache


@bug("forward", "relu_on_output", "ReLU is applied to the last layer too, before softmax: ReLU belongs "
     "to the hidden layers only; the output layer goes straight from Z_L to softmax")
def forward_relu_on_output(params, X):
    L = len(params) // 2
    A = X
    cache = {"A0": X}
    for k in range(1, L + 1):
        Z = A @ params[f"W{k}"] + params[f"b{k}"]
        A = relu(Z)
        if k == L:
            A = softmax(A)
        cache[f"Z{k}"], cache[f"A{k}"] = Z, A
    return A, cache


@bug("forward", "no_bias", "the biases are never added: each layer is Z_k = A_{k-1} @ W_k + b_k")
def forward_no_bias(params, X):
    L = len(params) // 2
    A = X
    cache = {"A0": X}
    for k in range(1, L + 1):
        Z = A @ params[f"W{k}"]
        A = relu(Z) if k < L else softmax(Z)
        cache[f"Z{k}"], cache[f"A{k}"] = Z, A
    return A, cache


@bug("forward", "sigmoid_hidden", "the hidden layers use sigmoid; this network uses ReLU on every hidden "
     "layer (and softmax on the last)")
def forward_sigmoid_hidden(params, X):
    L = len(params) // 2
    A = X
    cache = {"A0": X}
    for k in range(1, L + 1):
        Z = A @ params[f"W{k}"] + params[f"b{k}"]
        A = sigmoid(Z) if k < L else softmax(Z)
        cache[f"Z{k}"], cache[f"A{k}"] = Z, A
    return A, cache


@bug("forward", "softmax_over_batch", "the softmax is normalised down each column (axis=0, across the "
     "samples): each row (one sample's class scores) must sum to 1, so sum over axis=1 with keepdims=True")
def forward_softmax_over_batch(params, X):
    L = len(params) // 2
    A = X
    cache = {"A0": X}
    for k in range(1, L + 1):
        Z = A @ params[f"W{k}"] + params[f"b{k}"]
        if k < L:
            A = relu(Z)
        else:
            e = np.exp(Z - Z.max())
            A = e / e.sum(axis=0, keepdims=True)
        cache[f"Z{k}"], cache[f"A{k}"] = Z, A
    return A, cache


@bug("forward", "two_layers_only", "forward is written for exactly two weight matrices (W1, W2), so a "
     "deeper network loses its later layers: loop over k = 1 .. L, with L = len(params) // 2")
def forward_two_layers_only(params, X):
    Z1 = X @ params["W1"] + params["b1"]
    A1 = relu(Z1)
    Z2 = A1 @ params["W2"] + params["b2"]
    A2 = softmax(Z2)
    return A2, {"A0": X, "Z1": Z1, "A1": A1, "Z2": Z2, "A2": A2}


# --- forward: alternatives (each with the backward that reads its cache) ---


def backward_activations(params, activations, labels):
    L = len(params) // 2
    n = len(labels)
    dZ = activations[-1].copy()
    dZ[np.arange(n), labels] -= 1
    dZ /= n
    grads = {}
    for k in range(L, 0, -1):
        A_prev = activations[k - 1]
        grads["W" + str(k)] = A_prev.T @ dZ
        grads["b" + str(k)] = np.sum(dZ, axis=0)
        if k > 1:
            dZ = (dZ @ params["W" + str(k)].T) * (A_prev > 0)
    return grads


def backward_layers(params, cache, labels):
    probs, caches = cache
    n = probs.shape[0]
    dZ = (probs - one_hot(labels, probs.shape[1])) / n
    grads = {}
    for k in range(len(caches), 0, -1):
        A_prev, W, Z = caches[k - 1]
        grads[f"W{k}"] = A_prev.T @ dZ
        grads[f"b{k}"] = dZ.sum(axis=0)
        dA_prev = dZ @ W.T
        if k > 1:
            dZ = dA_prev * relu_derivative(caches[k - 2][2])
    return grads


alternative("forward", "activations_list", also={"backward": backward_activations})(forward_activations)
alternative("forward", "per_layer_tuples", also={"backward": backward_layers})(forward_layers)


# --- backward: bugs (each with the dict-cache forward it reads) ---


@bug("backward", "keys_named_dW", "the gradients are named 'dW1', 'db1', ...: use exactly the keys of params "
     "('W1', 'b1', ...) so that sgd_step can pair every parameter with its gradient", also=DICT_CACHE)
def backward_keys_named_dW(params, cache, labels):
    L = len(params) // 2
    n = len(labels)
    dZ = cache[f"A{L}"].copy()
    dZ[np.arange(n), labels] -= 1
    dZ /= n
    grads = {}
    for k in range(L, 0, -1):
        grads[f"dW{k}"] = cache[f"A{k - 1}"].T @ dZ
        grads[f"db{k}"] = dZ.sum(axis=0)
        if k > 1:
            dZ = (dZ @ params[f"W{k}"].T) * (cache[f"Z{k - 1}"] > 0)
    return grads


@bug("backward", "two_layers_only", "backward is written for exactly two weight matrices, so a deeper network "
     "gets gradients for W1, b1, W2, b2 only: loop k = L, L-1, ..., 1 with L = len(params) // 2",
     also=DICT_CACHE)
def backward_two_layers_only(params, cache, labels):
    n = len(labels)
    dZ2 = cache["A2"].copy()
    dZ2[np.arange(n), labels] -= 1
    dZ2 /= n
    dZ1 = (dZ2 @ params["W2"].T) * (cache["Z1"] > 0)
    return {
        "W1": cache["A0"].T @ dZ1,
        "b1": dZ1.sum(axis=0),
        "W2": cache["A1"].T @ dZ2,
        "b2": dZ2.sum(axis=0),
    }


@bug("backward", "skips_first_layer", "the loop stops before the first layer (range(L, 1, -1) ends at 2), so "
     "W1 and b1 get no gradient: count down to 1 with range(L, 0, -1)", also=DICT_CACHE)
def backward_skips_first_layer(params, cache, labels):
    L = len(params) // 2
    n = len(labels)
    dZ = cache[f"A{L}"].copy()
    dZ[np.arange(n), labels] -= 1
    dZ /= n
    grads = {}
    for k in range(L, 1, -1):
        grads[f"W{k}"] = cache[f"A{k - 1}"].T @ dZ
        grads[f"b{k}"] = dZ.sum(axis=0)
        dZ = (dZ @ params[f"W{k}"].T) * (cache[f"Z{k - 1}"] > 0)
    return grads


@bug("backward", "bias_summed_to_number", "np.sum(dZ) adds up the whole matrix into one number; each bias "
     "needs one value per unit, summed over the batch: dZ.sum(axis=0)", also=DICT_CACHE)
def backward_bias_summed_to_number(params, cache, labels):
    L = len(params) // 2
    n = len(labels)
    dZ = cache[f"A{L}"].copy()
    dZ[np.arange(n), labels] -= 1
    dZ /= n
    grads = {}
    for k in range(L, 0, -1):
        grads[f"W{k}"] = cache[f"A{k - 1}"].T @ dZ
        grads[f"b{k}"] = np.sum(dZ)
        if k > 1:
            dZ = (dZ @ params[f"W{k}"].T) * (cache[f"Z{k - 1}"] > 0)
    return grads


@bug("backward", "bias_summed_over_units", "the bias gradient is summed over axis=1 (the units) and so has "
     "one value per sample; sum over the batch instead, axis=0, to get one value per unit", also=DICT_CACHE)
def backward_bias_summed_over_units(params, cache, labels):
    L = len(params) // 2
    n = len(labels)
    dZ = cache[f"A{L}"].copy()
    dZ[np.arange(n), labels] -= 1
    dZ /= n
    grads = {}
    for k in range(L, 0, -1):
        grads[f"W{k}"] = cache[f"A{k - 1}"].T @ dZ
        grads[f"b{k}"] = dZ.sum(axis=1)
        if k > 1:
            dZ = (dZ @ params[f"W{k}"].T) * (cache[f"Z{k - 1}"] > 0)
    return grads


@bug("backward", "bias_keepdims", "the bias gradient has shape (1, units) because of keepdims=True; the "
     "biases have shape (units,), so sum with dZ.sum(axis=0) and no keepdims", also=DICT_CACHE)
def backward_bias_keepdims(params, cache, labels):
    L = len(params) // 2
    n = len(labels)
    dZ = cache[f"A{L}"].copy()
    dZ[np.arange(n), labels] -= 1
    dZ /= n
    grads = {}
    for k in range(L, 0, -1):
        grads[f"W{k}"] = cache[f"A{k - 1}"].T @ dZ
        grads[f"b{k}"] = dZ.sum(axis=0, keepdims=True)
        if k > 1:
            dZ = (dZ @ params[f"W{k}"].T) * (cache[f"Z{k - 1}"] > 0)
    return grads


@bug("backward", "weight_grad_transposed", "dW is computed as dZ.T @ A_prev, which has the shape of W "
     "transposed: W_k is (units in, units out), so dW_k = A_{k-1}.T @ dZ_k", also=DICT_CACHE)
def backward_weight_grad_transposed(params, cache, labels):
    L = len(params) // 2
    n = len(labels)
    dZ = cache[f"A{L}"].copy()
    dZ[np.arange(n), labels] -= 1
    dZ /= n
    grads = {}
    for k in range(L, 0, -1):
        grads[f"W{k}"] = dZ.T @ cache[f"A{k - 1}"]
        grads[f"b{k}"] = dZ.sum(axis=0)
        if k > 1:
            dZ = (dZ @ params[f"W{k}"].T) * (cache[f"Z{k - 1}"] > 0)
    return grads


@bug("backward", "wrong_layer_activation", "dW_k uses the activations coming OUT of layer k; it needs the "
     "ones going IN: dW_k = A_{k-1}.T @ dZ_k (in a list [X, A1, ..., AL] that is activations[k-1])",
     also={"forward": forward_activations})
def backward_wrong_layer_activation(params, activations, labels):
    L = len(params) // 2
    n = len(labels)
    dZ = activations[-1].copy()
    dZ[np.arange(n), labels] -= 1
    dZ /= n
    grads = {}
    for k in range(L, 0, -1):
        grads["W" + str(k)] = activations[k].T @ dZ
        grads["b" + str(k)] = np.sum(dZ, axis=0)
        if k > 1:
            dZ = (dZ @ params["W" + str(k)].T) * (activations[k - 1] > 0)
    return grads


@bug("backward", "weight_grad_uses_Z", "dW_k uses the pre-activations Z_{k-1}; the layer's input is the "
     "activation after ReLU: dW_k = A_{k-1}.T @ dZ_k", also=DICT_CACHE)
def backward_weight_grad_uses_Z(params, cache, labels):
    L = len(params) // 2
    n = len(labels)
    dZ = cache[f"A{L}"].copy()
    dZ[np.arange(n), labels] -= 1
    dZ /= n
    grads = {}
    for k in range(L, 0, -1):
        layer_input = cache[f"Z{k - 1}"] if k > 1 else cache["A0"]
        grads[f"W{k}"] = layer_input.T @ dZ
        grads[f"b{k}"] = dZ.sum(axis=0)
        if k > 1:
            dZ = (dZ @ params[f"W{k}"].T) * (cache[f"Z{k - 1}"] > 0)
    return grads


@bug("backward", "not_divided_by_n", "the gradients are N times too large: the loss is the MEAN over the "
     "batch, so the starting gradient is (probs - one_hot(labels)) / N", also=DICT_CACHE)
def backward_not_divided_by_n(params, cache, labels):
    L = len(params) // 2
    n = len(labels)
    dZ = cache[f"A{L}"].copy()
    dZ[np.arange(n), labels] -= 1
    grads = {}
    for k in range(L, 0, -1):
        grads[f"W{k}"] = cache[f"A{k - 1}"].T @ dZ
        grads[f"b{k}"] = dZ.sum(axis=0)
        if k > 1:
            dZ = (dZ @ params[f"W{k}"].T) * (cache[f"Z{k - 1}"] > 0)
    return grads


@bug("backward", "divided_by_n_twice", "the gradients are N times too small: dZ was already divided by N, "
     "and dW (and db, as a mean) divide by N again; divide exactly once", also=DICT_CACHE)
def backward_divided_by_n_twice(params, cache, labels):
    L = len(params) // 2
    n = len(labels)
    dZ = cache[f"A{L}"].copy()
    dZ[np.arange(n), labels] -= 1
    dZ /= n
    grads = {}
    for k in range(L, 0, -1):
        grads[f"W{k}"] = cache[f"A{k - 1}"].T @ dZ / n
        grads[f"b{k}"] = np.mean(dZ, axis=0)
        if k > 1:
            dZ = (dZ @ params[f"W{k}"].T) * (cache[f"Z{k - 1}"] > 0)
    return grads


@bug("backward", "bias_not_divided_by_n", "the weight gradients are divided by N but the bias gradients "
     "are not: the biases are N times too large; divide dZ by N once, before both", also=DICT_CACHE)
def backward_bias_not_divided_by_n(params, cache, labels):
    L = len(params) // 2
    n = len(labels)
    dZ = cache[f"A{L}"].copy()
    dZ[np.arange(n), labels] -= 1
    grads = {}
    for k in range(L, 0, -1):
        grads[f"W{k}"] = cache[f"A{k - 1}"].T @ dZ / n
        grads[f"b{k}"] = np.sum(dZ, axis=0)
        if k > 1:
            dZ = (dZ @ params[f"W{k}"].T) * (cache[f"Z{k - 1}"] > 0)
    return grads


@bug("backward", "no_relu_mask", "the gradient passes back through the hidden layers without ReLU's "
     "derivative: multiply dA_{k-1} = dZ_k @ W_k.T by (Z_{k-1} > 0)", also=DICT_CACHE)
def backward_no_relu_mask(params, cache, labels):
    L = len(params) // 2
    n = len(labels)
    dZ = cache[f"A{L}"].copy()
    dZ[np.arange(n), labels] -= 1
    dZ /= n
    grads = {}
    for k in range(L, 0, -1):
        grads[f"W{k}"] = cache[f"A{k - 1}"].T @ dZ
        grads[f"b{k}"] = dZ.sum(axis=0)
        if k > 1:
            dZ = dZ @ params[f"W{k}"].T
    return grads


@bug("backward", "times_activation", "dA is multiplied by the activation relu(Z) itself; the chain rule "
     "needs ReLU's derivative, relu_derivative(Z) (1 where Z > 0, else 0)", also=DICT_CACHE)
def backward_times_activation(params, cache, labels):
    L = len(params) // 2
    n = len(labels)
    dZ = cache[f"A{L}"].copy()
    dZ[np.arange(n), labels] -= 1
    dZ /= n
    grads = {}
    for k in range(L, 0, -1):
        grads[f"W{k}"] = cache[f"A{k - 1}"].T @ dZ
        grads[f"b{k}"] = dZ.sum(axis=0)
        if k > 1:
            dZ = (dZ @ params[f"W{k}"].T) * cache[f"A{k - 1}"]
    return grads


@bug("backward", "softmax_derivative_again", "(probs - one_hot) / N is already the gradient w.r.t. Z_L of "
     "softmax AND cross-entropy together; multiplying by probs * (1 - probs) applies softmax's derivative "
     "a second time", also=DICT_CACHE)
def backward_softmax_derivative_again(params, cache, labels):
    L = len(params) // 2
    n = len(labels)
    probs = cache[f"A{L}"]
    dZ = probs.copy()
    dZ[np.arange(n), labels] -= 1
    dZ = dZ / n * probs * (1 - probs)
    grads = {}
    for k in range(L, 0, -1):
        grads[f"W{k}"] = cache[f"A{k - 1}"].T @ dZ
        grads[f"b{k}"] = dZ.sum(axis=0)
        if k > 1:
            dZ = (dZ @ params[f"W{k}"].T) * (cache[f"Z{k - 1}"] > 0)
    return grads


@bug("backward", "one_hot_by_columns", "dZ[:, labels] -= 1 subtracts 1 from whole columns (every sample, "
     "each class that appears in labels); subtract only at each sample's true class: "
     "dZ[np.arange(N), labels] -= 1", also=DICT_CACHE)
def backward_one_hot_by_columns(params, cache, labels):
    L = len(params) // 2
    n = len(labels)
    dZ = cache[f"A{L}"].copy()
    dZ[:, labels] -= 1
    dZ /= n
    grads = {}
    for k in range(L, 0, -1):
        grads[f"W{k}"] = cache[f"A{k - 1}"].T @ dZ
        grads[f"b{k}"] = dZ.sum(axis=0)
        if k > 1:
            dZ = (dZ @ params[f"W{k}"].T) * (cache[f"Z{k - 1}"] > 0)
    return grads


@bug("backward", "sign_flipped", "every gradient has the wrong sign: the gradient of the loss w.r.t. Z_L "
     "is probs - one_hot(labels) (then / N), not one_hot(labels) - probs", also=DICT_CACHE)
def backward_sign_flipped(params, cache, labels):
    L = len(params) // 2
    n = len(labels)
    dZ = (one_hot(labels, cache[f"A{L}"].shape[1]) - cache[f"A{L}"]) / n
    grads = {}
    for k in range(L, 0, -1):
        grads[f"W{k}"] = cache[f"A{k - 1}"].T @ dZ
        grads[f"b{k}"] = dZ.sum(axis=0)
        if k > 1:
            dZ = (dZ @ params[f"W{k}"].T) * (cache[f"Z{k - 1}"] > 0)
    return grads


# --- backward: alternatives ---


@alternative("backward", "one_hot_and_relu_derivative", also=DICT_CACHE)
def backward_one_hot_and_relu_derivative(params, cache, labels):
    L = len(params) // 2
    probs = cache["A" + str(L)]
    Y = one_hot(labels, probs.shape[1])
    dZ = (probs - Y) / probs.shape[0]
    grads = {}
    for k in reversed(range(1, L + 1)):
        grads["W" + str(k)] = np.dot(cache["A" + str(k - 1)].T, dZ)
        grads["b" + str(k)] = np.sum(dZ, axis=0)
        if k > 1:
            dA = np.dot(dZ, params["W" + str(k)].T)
            dZ = dA * relu_derivative(cache["Z" + str(k - 1)])
    return grads


@alternative("backward", "where_mask_and_einsum", also=DICT_CACHE)
def backward_where_mask_and_einsum(params, cache, labels):
    L = len(params) // 2
    n = len(labels)
    dZ = np.array(cache[f"A{L}"], dtype=np.float64)
    dZ[np.arange(n), labels] -= 1.0
    dZ = dZ / n
    grads = {}
    k = L
    while k >= 1:
        grads[f"W{k}"] = np.einsum("ni,nj->ij", cache[f"A{k - 1}"], dZ)
        grads[f"b{k}"] = np.einsum("nj->j", dZ)
        if k > 1:
            dZ = np.where(cache[f"Z{k - 1}"] > 0, dZ @ params[f"W{k}"].T, 0.0)
        k -= 1
    return {key: grads[key] for key in params}


# --- numerical_gradient: bugs ---


@bug("numerical_gradient", "calls_f_with_x", "f takes no arguments: it is a closure that reads x itself, so "
     "change x in place and call f()")
def numerical_gradient_calls_f_with_x(f, x, h=1e-5):
    grad = np.zeros_like(x, dtype=float)
    for idx in np.ndindex(x.shape):
        old = x[idx]
        x[idx] = old + h
        up = f(x)
        x[idx] = old - h
        down = f(x)
        x[idx] = old
        grad[idx] = (up - down) / (2 * h)
    return grad


@bug("numerical_gradient", "perturbs_a_copy", "the perturbation is made on a copy of x, which f never sees, "
     "so every difference is 0: f reads the original x, so change x itself in place (and restore it)")
def numerical_gradient_perturbs_a_copy(f, x, h=1e-5):
    grad = np.zeros_like(x, dtype=float)
    for idx in np.ndindex(x.shape):
        x_plus = x.copy()
        x_plus[idx] += h
        x_minus = x.copy()
        x_minus[idx] -= h
        grad[idx] = (f() - f()) / (2 * h)
    return grad


@bug("numerical_gradient", "forward_difference", "this is a forward difference (f(x+h) - f(x)) / h, whose "
     "error shrinks only like h; use central differences (f(x+h) - f(x-h)) / (2h), accurate to h**2")
def numerical_gradient_forward_difference(f, x, h=1e-5):
    grad = np.zeros_like(x, dtype=float)
    for idx in np.ndindex(x.shape):
        old = x[idx]
        base = f()
        x[idx] = old + h
        up = f()
        x[idx] = old
        grad[idx] = (up - base) / h
    return grad


@bug("numerical_gradient", "divides_by_h", "the two evaluations are 2h apart (x+h and x-h), so divide "
     "their difference by 2 * h, not by h")
def numerical_gradient_divides_by_h(f, x, h=1e-5):
    grad = np.zeros_like(x, dtype=float)
    for idx in np.ndindex(x.shape):
        old = x[idx]
        x[idx] = old + h
        up = f()
        x[idx] = old - h
        down = f()
        x[idx] = old
        grad[idx] = (up - down) / h
    return grad


@bug("numerical_gradient", "ignores_h", "the step is hard-coded, so the h argument is ignored: use the h "
     "that was passed in")
def numerical_gradient_ignores_h(f, x, h=1e-5):
    eps = 1e-4
    grad = np.zeros_like(x, dtype=float)
    for idx in np.ndindex(x.shape):
        old = x[idx]
        x[idx] = old + eps
        up = f()
        x[idx] = old - eps
        down = f()
        x[idx] = old
        grad[idx] = (up - down) / (2 * eps)
    return grad


@bug("numerical_gradient", "not_restored", "each entry is left at x - h after its two evaluations: write "
     "the saved value back (x[i] = old) before moving on, or every later f() sees a shifted x")
def numerical_gradient_not_restored(f, x, h=1e-5):
    grad = np.zeros_like(x, dtype=float)
    for idx in np.ndindex(x.shape):
        x[idx] += h
        up = f()
        x[idx] -= 2 * h
        down = f()
        grad[idx] = (up - down) / (2 * h)
    return grad


@bug("numerical_gradient", "restored_by_arithmetic", "adding h, subtracting 2h and adding h back does not "
     "always return exactly to the old value (rounding): save old = x[i] first and restore with x[i] = old")
def numerical_gradient_restored_by_arithmetic(f, x, h=1e-5):
    grad = np.zeros_like(x, dtype=float)
    for idx in np.ndindex(x.shape):
        x[idx] += h
        up = f()
        x[idx] -= 2 * h
        down = f()
        x[idx] += h
        grad[idx] = (up - down) / (2 * h)
    return grad


@bug("numerical_gradient", "rows_not_entries", "for i in range(len(x)) walks the rows of a 2-D x, so x[i] "
     "+= h moves a whole row at once: perturb one entry at a time, e.g. with np.ndindex(x.shape)")
def numerical_gradient_rows_not_entries(f, x, h=1e-5):
    grad = np.zeros_like(x, dtype=float)
    for i in range(len(x)):
        old = x[i].copy()
        x[i] = old + h
        up = f()
        x[i] = old - h
        down = f()
        x[i] = old
        grad[i] = (up - down) / (2 * h)
    return grad


# --- numerical_gradient: alternatives ---


@alternative("numerical_gradient", "nditer")
def numerical_gradient_nditer(f, x, h=1e-5):
    grad = np.zeros(x.shape)
    it = np.nditer(x, flags=["multi_index"], op_flags=[["readwrite"]])
    while not it.finished:
        i = it.multi_index
        old = x[i]
        x[i] = old + h
        fxph = f()
        x[i] = old - h
        fxmh = f()
        x[i] = old
        grad[i] = (fxph - fxmh) / (2 * h)
        it.iternext()
    return grad


@alternative("numerical_gradient", "flat_index")
def numerical_gradient_flat_index(f, x, h=1e-5):
    grad = np.empty(x.size)
    for i in range(x.size):
        saved = x.flat[i]
        x.flat[i] = saved + h
        plus = float(f())
        x.flat[i] = saved - h
        minus = float(f())
        x.flat[i] = saved
        grad[i] = (plus - minus) / (2 * h)
    return grad.reshape(x.shape)


# --- issue 10, item 4: arguments changed, state kept between calls ---


@bug("forward", "reshapes_params_biases", "params['b1'] = ... replaces an entry of the caller's params dict "
     "(here a 1-D bias made into a (1, n) row): forward must leave params as it found it; reshape into a "
     "local variable instead, b = params['b1'].reshape(1, -1)")
def forward_reshapes_params_biases(params, X):
    L = len(params) // 2
    A = X
    cache = {"A0": X}
    for k in range(1, L + 1):
        params[f"b{k}"] = params[f"b{k}"].reshape(1, -1)
        Z = A @ params[f"W{k}"] + params[f"b{k}"]
        A = relu(Z) if k < L else softmax(Z)
        cache[f"Z{k}"], cache[f"A{k}"] = Z, A
    return A, cache


def _backward_dict_cache(params, cache, labels, dZ):
    L = len(params) // 2
    grads = {}
    for k in range(L, 0, -1):
        grads[f"W{k}"] = cache[f"A{k - 1}"].T @ dZ
        grads[f"b{k}"] = dZ.sum(axis=0)
        if k > 1:
            dZ = (dZ @ params[f"W{k}"].T) * (cache[f"Z{k - 1}"] > 0)
    return grads


@bug("backward", "writes_into_cache", "dZ = cache['A2'] is not a copy: subtracting 1 from it and dividing it "
     "by N in place also changes the probabilities in the cache; start from a copy, "
     "dZ = cache['A2'].copy() (or probs - one_hot(labels, C))", also=DICT_CACHE)
def backward_writes_into_cache(params, cache, labels):
    L = len(params) // 2
    dZ = cache[f"A{L}"]
    n = len(labels)
    dZ[np.arange(n), labels] -= 1
    dZ /= n
    return _backward_dict_cache(params, cache, labels, dZ)


_LAST_CACHE = {}


def forward_remembering(params, X):
    """A correct forward that also keeps its cache in a global, for backward_uses_last_forward."""
    probs, cache = forward_layers_dict(params, X)
    _LAST_CACHE.clear()
    _LAST_CACHE.update(cache)
    return probs, cache


def forward_layers_dict(params, X):
    L = len(params) // 2
    A = X
    cache = {"A0": X}
    for k in range(1, L + 1):
        Z = A @ params[f"W{k}"] + params[f"b{k}"]
        A = relu(Z) if k < L else softmax(Z)
        cache[f"Z{k}"], cache[f"A{k}"] = Z, A
    return A, cache


@bug("backward", "uses_last_forward", "backward reads the activations of the LAST forward call (a global "
     "variable), not the cache it is given: after forward on another batch its gradients are for that "
     "batch; use only backward's own arguments, cache[...]", also={"forward": forward_remembering})
def backward_uses_last_forward(params, cache, labels):
    L = len(params) // 2
    n = len(labels)
    dZ = _LAST_CACHE[f"A{L}"] - one_hot(labels, _LAST_CACHE[f"A{L}"].shape[1])
    return _backward_dict_cache(params, _LAST_CACHE, labels, dZ / n)
