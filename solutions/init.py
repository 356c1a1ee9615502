"""04 initialisation: starting weights that keep ReLU activations of a stable size."""
from __future__ import annotations

import numpy as np

__all__ = ["he_init", "init_params"]


def he_init(fan_in, fan_out, rng, dtype=np.float64):
    """(fan_in, fan_out) He-normal weights: mean 0, variance 2 / fan_in.

    ReLU zeroes half its inputs, so variance 2 / fan_in (not 1 / fan_in) keeps the variance of the
    activations constant from layer to layer. The draw is always float64 and then cast, so the same
    rng gives the same weights (up to rounding) whatever `dtype` is asked for.
    """
    w = rng.standard_normal((fan_in, fan_out)) * np.sqrt(2.0 / fan_in)
    return w.astype(dtype, copy=False)


def init_params(layer_sizes, rng, dtype=np.float64):
    """{"W1": (l0, l1), "b1": (l1,), ..., "WL", "bL"}: He weights, zero biases.

    Weights are drawn in layer order W1, W2, ..., WL from `rng` (one he_init call each, nothing
    else drawn), so the same seed and sizes reproduce the same network exactly.
    """
    sizes = [int(s) for s in layer_sizes]
    if len(sizes) < 2 or min(sizes) < 1:
        raise ValueError(f"layer_sizes needs at least two positive sizes [inputs, ..., classes], "
                         f"got {list(layer_sizes)!r}")
    params = {}
    for k, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
        params[f"W{k}"] = he_init(fan_in, fan_out, rng, dtype=dtype)
        params[f"b{k}"] = np.zeros(fan_out, dtype=dtype)
    return params
