"""Known mistakes and correct alternatives for 07_capstone's functions, written as a learner would
(NumPy, pickle and the API's own names only), so `Variant.source()` can be pasted as it is.

Each variant is named `<function>_<variant>` (`Variant.source()` renames it to the API name), so
the module-level `forward` and `relu` its variants call stay the reference's."""
import pickle

import numpy as np

from autograder.catalog import alternative, bug
from solutions.activations import relu
from solutions.backprop import forward

# --- predict: bugs ---


@bug("predict", "returns_probabilities", "predict returns the probabilities themselves; the prediction is "
     "the class with the highest probability in each row: np.argmax(probs, axis=1)")
def predict_returns_probabilities(params, X):
    probs, cache = forward(params, X)
    return probs


@bug("predict", "max_not_argmax", "np.max gives the highest probability, not WHICH class has it: "
     "np.argmax(probs, axis=1) gives the class index")
def predict_max_not_argmax(params, X):
    probs, _ = forward(params, X)
    return np.max(probs, axis=1)


@bug("predict", "argmax_over_batch", "argmax over axis=0 picks, for each class, the sample that scores it "
     "highest; the prediction of each sample is the argmax along its row, axis=1")
def predict_argmax_over_batch(params, X):
    probs, _ = forward(params, X)
    return np.argmax(probs, axis=0)


@bug("predict", "flat_argmax", "np.argmax without an axis flattens the whole (N, C) array and returns one "
     "number: use np.argmax(probs, axis=1) for one class per sample")
def predict_flat_argmax(params, X):
    probs, _ = forward(params, X)
    return np.argmax(probs)


@bug("predict", "one_hot_predictions", "the predictions come back one-hot, (N, C); predict returns class "
     "indices of shape (N,): np.argmax(probs, axis=1)")
def predict_one_hot_predictions(params, X):
    probs, _ = forward(params, X)
    return (probs == probs.max(axis=1, keepdims=True)).astype(int)


# --- predict: alternatives ---


@alternative("predict", "argmax_of_logits")
def predict_argmax_of_logits(params, X):
    L = len(params) // 2
    A = X
    for k in range(1, L):
        A = relu(A @ params[f"W{k}"] + params[f"b{k}"])
    logits = A @ params[f"W{L}"] + params[f"b{L}"]
    return logits.argmax(axis=1)  # softmax keeps the order of each row, so the argmax is the same


# --- save_params: bugs ---


@bug("save_params", "np_save_of_dict", "np.save pickles the whole dict into one object array and adds "
     "'.npy' to the name: use np.savez(path, **params), which writes a .npz with one named array per key")
def save_params_np_save_of_dict(params, path):
    np.save(path, params)


@bug("save_params", "pickle_dump", "pickle writes Python objects, not a .npz of arrays (and loading a pickle "
     "can run code): use np.savez(path, **params)")
def save_params_pickle_dump(params, path):
    with open(path, "wb") as f:
        pickle.dump(params, f)


@bug("save_params", "dict_as_one_array", "np.savez(path, params) stores the dict as ONE pickled object array "
     "named 'arr_0': unpack it into named arrays with np.savez(path, **params)")
def save_params_dict_as_one_array(params, path):
    np.savez(path, params)


@bug("save_params", "arrays_without_names", "np.savez(path, *params.values()) saves the arrays as arr_0, "
     "arr_1, ...: their names are lost; pass them as keywords, np.savez(path, **params)")
def save_params_arrays_without_names(params, path):
    np.savez(path, *params.values())


@bug("save_params", "cast_to_float32", "the weights are cast to float32 when saved, so a float64 network "
     "does not come back exactly: save each array as it is")
def save_params_cast_to_float32(params, path):
    np.savez(path, **{name: value.astype(np.float32) for name, value in params.items()})


@bug("save_params", "cast_to_float16", "casting to float16 to save space rounds every weight to about 3 "
     "digits: save each array as it is (np.savez_compressed if size matters)")
def save_params_cast_to_float16(params, path):
    np.savez(path, **{name: value.astype(np.float16) for name, value in params.items()})


# --- save_params: alternatives ---


@alternative("save_params", "savez_compressed")
def save_params_savez_compressed(params, path):
    np.savez_compressed(path, **params)


@alternative("save_params", "savez_appends_suffix")
def save_params_savez_appends_suffix(params, path):
    np.savez(str(path), **{name: np.asarray(value) for name, value in params.items()})


# --- load_params: bugs ---


@bug("load_params", "returns_npzfile", "np.load of a .npz gives a lazy NpzFile (an open file, closed by a "
     "`with` block), not a dict: copy the arrays out, {k: data[k] for k in data.files}")
def load_params_returns_npzfile(path):
    return np.load(path)


@bug("load_params", "list_of_arrays", "a list of arrays loses the names W1, b1, ...: return a dict, "
     "{k: data[k] for k in data.files}")
def load_params_list_of_arrays(path):
    data = np.load(path)
    return [data[k] for k in data.files]


@bug("load_params", "cast_to_float32", "the arrays are cast to float32 when loaded, so a float64 network "
     "does not come back exactly: return the arrays as they were saved")
def load_params_cast_to_float32(path):
    with np.load(path) as data:
        return {k: data[k].astype(np.float32) for k in data.files}


@bug("load_params", "unpickles_item", "np.load(...).item() is how a dict pickled with np.save comes back; "
     "save_params writes a .npz of named arrays, so read it with np.load(path) and copy out data[k] for "
     "each k in data.files")
def load_params_unpickles_item(path):
    return np.load(path, allow_pickle=True).item()


# --- load_params: alternatives ---


@alternative("load_params", "dict_of_npzfile")
def load_params_dict_of_npzfile(path):
    return dict(np.load(path))


@alternative("load_params", "items_with_copy")
def load_params_items_with_copy(path):
    params = {}
    with np.load(path, allow_pickle=False) as archive:
        for name, array in archive.items():
            params[name] = array.copy()
    return params


# --- issue 10: an off-by-one ---


@bug("predict", "classes_from_one", "the classes are numbered from 0 (digit 0 is class 0): return "
     "np.argmax(probs, axis=1) as it is, without + 1")
def predict_classes_from_one(params, X):
    probs, _ = forward(params, X)
    return np.argmax(probs, axis=1) + 1
