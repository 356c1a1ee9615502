"""Known mistakes and correct alternatives for 04_init.

Variants have their own Python names (`Variant.source()` renames them); `he_init` is the
reference's, as a learner's init_params would call its own. The checks match bugs on the
statistics of the weights, so a hint fits whatever order the learner draws in.
"""
import numpy as np

from autograder.catalog import alternative, bug
from solutions import he_init

# --- he_init ---


@bug("he_init", "transposed", "the weights are (fan_out, fan_in); this course multiplies A @ W, so W has "
     "one row per input: shape (fan_in, fan_out)")
def he_init_transposed(fan_in, fan_out, rng):
    return rng.standard_normal((fan_out, fan_in)) * np.sqrt(2 / fan_in)


@bug("he_init", "fan_out_variance", "the variance is 2 / fan_out; He scales by the number of inputs each "
     "unit sums over: np.sqrt(2 / fan_in)")
def he_init_fan_out_variance(fan_in, fan_out, rng):
    return rng.standard_normal((fan_in, fan_out)) * np.sqrt(2 / fan_out)


@bug("he_init", "lecun_variance", "variance 1 / fan_in is LeCun (or Xavier) initialisation; ReLU zeroes "
     "half of its inputs, so He doubles it: np.sqrt(2 / fan_in)")
def he_init_lecun_variance(fan_in, fan_out, rng):
    return rng.standard_normal((fan_in, fan_out)) * np.sqrt(1 / fan_in)


@bug("he_init", "xavier_variance", "variance 2 / (fan_in + fan_out) is Xavier/Glorot, made for tanh and "
     "sigmoid; He for ReLU uses 2 / fan_in")
def he_init_xavier_variance(fan_in, fan_out, rng):
    return rng.standard_normal((fan_in, fan_out)) * np.sqrt(2 / (fan_in + fan_out))


@bug("he_init", "std_not_variance", "2 / fan_in is the variance; a normal draw is scaled by the standard "
     "deviation, its square root: * np.sqrt(2 / fan_in)")
def he_init_std_not_variance(fan_in, fan_out, rng):
    return rng.standard_normal((fan_in, fan_out)) * (2 / fan_in)


@bug("he_init", "unscaled_normal", "a standard normal has variance 1; He weights need variance 2 / fan_in: "
     "multiply by np.sqrt(2 / fan_in)")
def he_init_unscaled_normal(fan_in, fan_out, rng):
    return rng.standard_normal((fan_in, fan_out))


@bug("he_init", "unscaled_uniform", "uniform on [-1, 1] has variance 1/3 whatever the layer; He uniform "
     "uses the limit np.sqrt(6 / fan_in) so the variance is 2 / fan_in")
def he_init_unscaled_uniform(fan_in, fan_out, rng):
    return rng.uniform(-1, 1, size=(fan_in, fan_out))


@bug("he_init", "random_not_normal", "rng.random draws uniformly from [0, 1), so every weight is positive: "
     "He normal is rng.standard_normal(...) * np.sqrt(2 / fan_in)")
def he_init_random_not_normal(fan_in, fan_out, rng):
    return rng.random((fan_in, fan_out)) * np.sqrt(2 / fan_in)


@bug("he_init", "global_random_state", "np.random.randn draws from NumPy's global generator, so the rng "
     "you are given is ignored and the same seed does not give the same weights: use "
     "rng.standard_normal((fan_in, fan_out))")
def he_init_global_random_state(fan_in, fan_out, rng):
    return np.random.randn(fan_in, fan_out) * np.sqrt(2 / fan_in)


@bug("he_init", "seeds_global_state", "np.random.seed(...) resets NumPy's global generator for everyone "
     "and ignores the rng argument: draw from rng itself, rng.standard_normal((fan_in, fan_out))")
def he_init_seeds_global_state(fan_in, fan_out, rng):
    np.random.seed(0)
    return np.random.randn(fan_in, fan_out) * np.sqrt(2 / fan_in)


@bug("he_init", "own_generator", "a new np.random.default_rng(...) inside the function gives the same "
     "weights for every rng passed in: draw from the rng argument")
def he_init_own_generator(fan_in, fan_out, rng):
    rng = np.random.default_rng(0)
    return rng.standard_normal((fan_in, fan_out)) * np.sqrt(2 / fan_in)


@alternative("he_init", "normal_scale")
def he_init_normal_scale(fan_in, fan_out, rng):
    return rng.normal(0.0, np.sqrt(2.0 / fan_in), size=(fan_in, fan_out))


@alternative("he_init", "he_uniform")
def he_init_he_uniform(fan_in, fan_out, rng):
    limit = np.sqrt(6.0 / fan_in)
    return rng.uniform(-limit, limit, size=(fan_in, fan_out))


@alternative("he_init", "float32_transposed_draw")
def he_init_float32_transposed_draw(fan_in, fan_out, rng):
    w = rng.standard_normal((fan_out, fan_in), dtype=np.float32).T
    return w * np.float32(np.sqrt(2.0 / fan_in))


# --- init_params ---


@bug("init_params", "zero_based_keys", "the keys count layers from 1: W1, b1 for the first layer, up to "
     "WL, bL for the last, not W0, b0")
def init_params_zero_based_keys(layer_sizes, rng):
    params = {}
    for k in range(len(layer_sizes) - 1):
        params[f"W{k}"] = he_init(layer_sizes[k], layer_sizes[k + 1], rng)
        params[f"b{k}"] = np.zeros(layer_sizes[k + 1])
    return params


@bug("init_params", "missing_last_layer", "layer_sizes [l0, l1, ..., lL] describes L layers, one for each "
     "consecutive pair: loop over range(1, len(layer_sizes)) so the output layer gets its W and b too")
def init_params_missing_last_layer(layer_sizes, rng):
    params = {}
    for k in range(1, len(layer_sizes) - 1):
        params[f"W{k}"] = he_init(layer_sizes[k - 1], layer_sizes[k], rng)
        params[f"b{k}"] = np.zeros(layer_sizes[k])
    return params


@bug("init_params", "transposed_weights", "W_k is (l_{k-1}, l_k), inputs by outputs, so that A @ W works: "
     "call he_init(layer_sizes[k - 1], layer_sizes[k], rng)")
def init_params_transposed_weights(layer_sizes, rng):
    params = {}
    for k in range(1, len(layer_sizes)):
        params[f"W{k}"] = he_init(layer_sizes[k], layer_sizes[k - 1], rng)
        params[f"b{k}"] = np.zeros(layer_sizes[k])
    return params


@bug("init_params", "bias_row", "the spec asks for 1-D biases, b_k of shape (l_k,): np.zeros(l_k); "
     "broadcasting adds it to every row of A @ W on its own")
def init_params_bias_row(layer_sizes, rng):
    params = {}
    for k in range(1, len(layer_sizes)):
        params[f"W{k}"] = he_init(layer_sizes[k - 1], layer_sizes[k], rng)
        params[f"b{k}"] = np.zeros((1, layer_sizes[k]))
    return params


@bug("init_params", "bias_column", "a (l_k, 1) column bias broadcasts against (N, l_k) the wrong way: "
     "biases are 1-D, np.zeros(l_k)")
def init_params_bias_column(layer_sizes, rng):
    params = {}
    for k in range(1, len(layer_sizes)):
        params[f"W{k}"] = he_init(layer_sizes[k - 1], layer_sizes[k], rng)
        params[f"b{k}"] = np.zeros((layer_sizes[k], 1))
    return params


@bug("init_params", "random_biases", "biases start at zero (np.zeros(l_k)); only the weights need to be "
     "random to break the symmetry between units")
def init_params_random_biases(layer_sizes, rng):
    params = {}
    for k in range(1, len(layer_sizes)):
        params[f"W{k}"] = he_init(layer_sizes[k - 1], layer_sizes[k], rng)
        params[f"b{k}"] = rng.standard_normal(layer_sizes[k]) * 0.01
    return params


@bug("init_params", "zero_weights", "all-zero weights make every unit of a layer identical (they all get "
     "the same gradient and stay identical): initialise W with he_init, only the biases with zeros")
def init_params_zero_weights(layer_sizes, rng):
    params = {}
    for k in range(1, len(layer_sizes)):
        params[f"W{k}"] = np.zeros((layer_sizes[k - 1], layer_sizes[k]))
        params[f"b{k}"] = np.zeros(layer_sizes[k])
    return params


@bug("init_params", "small_random_weights", "0.01 * a standard normal is the old 'small random' "
     "initialisation: in a deep ReLU network the signal shrinks layer by layer; He scales by "
     "np.sqrt(2 / fan_in): use he_init(fan_in, fan_out, rng)")
def init_params_small_random_weights(layer_sizes, rng):
    params = {}
    for k in range(1, len(layer_sizes)):
        params[f"W{k}"] = 0.01 * rng.standard_normal((layer_sizes[k - 1], layer_sizes[k]))
        params[f"b{k}"] = np.zeros(layer_sizes[k])
    return params


@bug("init_params", "global_random_state", "np.random.randn draws from NumPy's global generator, so the "
     "rng argument is ignored and the same seed does not rebuild the same network: use he_init(fan_in, "
     "fan_out, rng)")
def init_params_global_random_state(layer_sizes, rng):
    params = {}
    for k in range(1, len(layer_sizes)):
        fan_in, fan_out = layer_sizes[k - 1], layer_sizes[k]
        params[f"W{k}"] = np.random.randn(fan_in, fan_out) * np.sqrt(2 / fan_in)
        params[f"b{k}"] = np.zeros(fan_out)
    return params


@bug("init_params", "fresh_generator_per_layer", "a new np.random.default_rng(...) inside init_params "
     "ignores the rng you are given, so every seed builds the same network: pass rng itself to he_init")
def init_params_fresh_generator_per_layer(layer_sizes, rng):
    params = {}
    for k in range(1, len(layer_sizes)):
        params[f"W{k}"] = he_init(layer_sizes[k - 1], layer_sizes[k], np.random.default_rng(k))
        params[f"b{k}"] = np.zeros(layer_sizes[k])
    return params


@alternative("init_params", "zip_comprehension")
def init_params_zip_comprehension(layer_sizes, rng):
    pairs = list(zip(layer_sizes[:-1], layer_sizes[1:]))
    weights = {f"W{k}": he_init(a, b, rng) for k, (a, b) in enumerate(pairs, start=1)}
    biases = {f"b{k}": np.zeros(b) for k, (a, b) in enumerate(pairs, start=1)}
    return {**weights, **biases}


@alternative("init_params", "own_he_uniform_float32")
def init_params_own_he_uniform_float32(layer_sizes, rng):
    params = {}
    for k in range(len(layer_sizes) - 1, 0, -1):  # last layer first: any order of draws is fine
        fan_in, fan_out = layer_sizes[k - 1], layer_sizes[k]
        limit = np.sqrt(6 / fan_in)
        params[f"W{k}"] = rng.uniform(-limit, limit, size=(fan_in, fan_out)).astype(np.float32)
        params[f"b{k}"] = np.zeros(fan_out, dtype=np.float32)
    return params


# --- issue 10: statistics off by a factor ---


@bug("he_init", "uniform_with_normal_bound", "rng.uniform(-a, a) has variance a**2 / 3, so a = sqrt(2 / fan_in) "
     "gives a third of the He variance: He uniform uses a = sqrt(6 / fan_in)")
def he_init_uniform_with_normal_bound(fan_in, fan_out, rng):
    a = np.sqrt(2 / fan_in)
    return rng.uniform(-a, a, size=(fan_in, fan_out))


# --- issue 10, item 4: an argument changed ---


@bug("init_params", "consumes_layer_sizes", "layer_sizes.pop(0) empties the caller's list, so after "
     "init_params the caller has no layer sizes left: read it without changing it, "
     "for fan_in, fan_out in zip(layer_sizes[:-1], layer_sizes[1:])")
def init_params_consumes_layer_sizes(layer_sizes, rng):
    params = {}
    k = 1
    fan_in = layer_sizes.pop(0)
    while layer_sizes:
        fan_out = layer_sizes.pop(0)
        params[f"W{k}"] = he_init(fan_in, fan_out, rng)
        params[f"b{k}"] = np.zeros(fan_out)
        fan_in, k = fan_out, k + 1
    return params
