"""Plain data across the sandbox boundary: values as tagged JSON plus NumPy `.npy` blobs.

Both sides use this module (it imports only the standard library and NumPy, so it can run inside
the sandbox). Nothing here executes, imports or unpickles what it reads: arrays are parsed with
`allow_pickle=False`, only numeric and boolean dtypes are accepted, and every size is capped.
Rebuilt values are base-class `ndarray`s, NumPy scalars of a numeric dtype, and the built-in
`None`, `bool`, `int`, `float`, `complex`, `str`, `list`, `tuple` and `dict`: objects a learner
cannot have taught to lie in a comparison.

A frame on a pipe: 8-byte little-endian length, then the payload: 4-byte length of a UTF-8 JSON
header, the header, then the blobs it refers to by (offset, length).
"""
from __future__ import annotations

import io
import json
import os
import struct
from dataclasses import dataclass, field

import numpy as np

MAX_FRAME = 512 * 2**20          # bytes of one frame from the judge (the capstone's test images fit)
MAX_LEARNER_FRAME = 160 * 2**20  # bytes of one frame the sandbox may send back
MAX_NODES = 200_000              # values in one message
MAX_DEPTH = 32                   # nesting of lists, tuples and dicts
MAX_STR = 20_000                 # characters of one string
MAX_INT_DIGITS = 400             # digits of one Python int
ARRAY_KINDS = "biufc"            # bool, signed, unsigned, float, complex
RNG_BIT_GENERATORS = ("PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64")


class WireError(ValueError):
    """A message that is malformed, too large, or holds something plain data cannot carry."""


@dataclass(frozen=True)
class Opaque:
    """A value that stays on the sandbox side (a learner object plain data cannot carry, such as
    a cache holding a class instance); it can be handed back to the sandbox, never looked into."""

    handle: int
    type_name: str

    def __repr__(self) -> str:
        return f"<{self.type_name} kept in the sandbox>"


@dataclass(frozen=True)
class Remote:
    """A callable that lives on the other side; calling its stand-in sends a callback request."""

    handle: int


@dataclass(frozen=True)
class Materialised:
    """What a generator or iterator yielded, read to the end (or to the cap) on the side it ran."""

    items: tuple
    error: tuple | None = None   # (type name, base name, message, line) if iterating raised
    endless: bool = False        # it yielded more items than the cap allows


# ---------------------------------------------------------------------------------------------
# encoding


@dataclass
class Encoder:
    """Turns a value into a JSON-able tree and a list of blobs. `keep` is called for a value plain
    data cannot carry (returns an Opaque or raises WireError); `callable_handle` for a callable
    when callables may cross (judge side: functions handed to numerical_gradient)."""

    keep: object = None
    callable_handle: object = None
    arguments: dict = field(default_factory=dict)   # id(obj) -> path of an argument, for identity
    blobs: list = field(default_factory=list)
    nodes: int = 0
    max_items: int = 10_000

    def encode(self, value, depth: int = 0):
        self.nodes += 1
        if self.nodes > MAX_NODES or depth > MAX_DEPTH:
            raise WireError("the value is too large or too deeply nested to send")
        if id(value) in self.arguments and isinstance(value, (dict, list, np.ndarray)):
            return ["arg", self.arguments[id(value)]]
        if value is None:
            return ["none"]
        if isinstance(value, (bool, np.bool_)) and type(value) in (bool, np.bool_):
            return ["bool", bool(value)] if type(value) is bool else ["npscalar", self._blob(np.asarray(value))]
        if type(value) is int:
            text = str(value) if abs(value) < 10 ** MAX_INT_DIGITS else None
            if text is None:
                raise WireError("an integer with too many digits")
            return ["int", text]
        if type(value) is float:
            return ["float", repr(value)]
        if type(value) is complex:
            return ["complex", repr(value.real), repr(value.imag)]
        if type(value) is str:
            return ["str", value[:MAX_STR]]
        if isinstance(value, np.generic) and type(value).__module__ == "numpy":
            if np.dtype(type(value)).kind in ARRAY_KINDS:
                return ["npscalar", self._blob(np.asarray(value))]
        if isinstance(value, np.ndarray):
            if (value.dtype.kind not in ARRAY_KINDS or value.dtype.fields is not None) and self.keep is not None:
                return self.encode(self.keep(value), depth)
            return ["array", self._blob(value), bool(value.flags.writeable)]
        if isinstance(value, np.dtype) and value.kind in ARRAY_KINDS and value.fields is None:
            return ["dtype", value.str]
        if isinstance(value, type) and (issubclass(value, np.generic) or value in (bool, int, float, complex)):
            if value in (bool, int, float, complex):
                return ["pytype", value.__name__]
            if np.dtype(value).kind in ARRAY_KINDS:
                return ["nptype", np.dtype(value).str]
        if isinstance(value, np.random.Generator):
            return ["rng", type(value.bit_generator).__name__, _plain_state(value.bit_generator.state)]
        if type(value) is Opaque:
            return ["handle", value.handle, value.type_name]
        if type(value) is Materialised:
            return ["iter", [self.encode(v, depth + 1) for v in value.items], list(value.error or ()),
                    value.endless]
        if type(value) in (list, tuple):
            return ["list" if type(value) is list else "tuple", [self.encode(v, depth + 1) for v in value]]
        if type(value) is dict:
            return ["dict", [[self.encode(k, depth + 1), self.encode(v, depth + 1)] for k, v in value.items()]]
        if callable(value) and self.callable_handle is not None:
            return ["callable", self.callable_handle(value)]
        if self.keep is not None:
            kept = self.keep(value)
            return self.encode(kept, depth)
        raise WireError(f"a {type(value).__name__} cannot be sent as plain data")

    def _blob(self, array: np.ndarray) -> int:
        buffer = io.BytesIO()
        if array.dtype.kind not in ARRAY_KINDS or array.dtype.fields is not None:
            raise WireError(f"an array of dtype {array.dtype} cannot be sent as plain data")
        # a subclass or a view is written as plain bytes of a base-class array
        np.lib.format.write_array(buffer, np.asarray(array).view(np.ndarray), allow_pickle=False)
        self.blobs.append(buffer.getvalue())
        return len(self.blobs) - 1


def _plain_state(state):
    """A bit generator's state as JSON-able data (its arrays become lists of ints)."""
    if isinstance(state, dict):
        return {str(k): _plain_state(v) for k, v in state.items()}
    if isinstance(state, np.ndarray):
        return {"__array__": state.dtype.str, "values": [int(x) for x in state.ravel()]}
    if isinstance(state, (np.integer, int)):
        return int(state)
    if isinstance(state, (np.floating, float)):
        return float(state)
    return state


# ---------------------------------------------------------------------------------------------
# decoding


@dataclass
class Decoder:
    """Rebuilds a tree from `Encoder` with the blobs it names. `resolve_handle` maps a handle back
    to the kept object (sandbox side), `remote` makes a stand-in for a Remote callable, `argument`
    maps an argument path back to the caller's own object."""

    blobs: list
    resolve_handle: object = None
    remote: object = None
    argument: object = None
    nodes: int = 0
    max_cells: int = 40_000_000     # array entries in one message

    def decode(self, tree, depth: int = 0):
        self.nodes += 1
        if self.nodes > MAX_NODES or depth > MAX_DEPTH:
            raise WireError("the message is too large or too deeply nested")
        if not isinstance(tree, list) or not tree or not isinstance(tree[0], str):
            raise WireError("a malformed value")
        tag, rest = tree[0], tree[1:]
        try:
            return self._decode(tag, rest, depth)
        except WireError:
            raise
        except (TypeError, ValueError, IndexError, KeyError, OverflowError) as exc:
            raise WireError(f"a malformed {tag!r} value ({type(exc).__name__})") from None

    def _decode(self, tag, rest, depth):
        if tag == "none":
            return None
        if tag == "bool":
            return _expect(rest[0], bool)
        if tag == "int":
            text = _expect(rest[0], str)
            if len(text) > MAX_INT_DIGITS + 1:
                raise WireError("an integer with too many digits")
            return int(text)
        if tag == "float":
            return float(_expect(rest[0], str))
        if tag == "complex":
            return complex(float(_expect(rest[0], str)), float(_expect(rest[1], str)))
        if tag == "str":
            text = _expect(rest[0], str)
            if len(text) > MAX_STR:
                raise WireError("a string that is too long")
            return text
        if tag == "npscalar":
            array = self._array(rest[0])
            if array.ndim != 0:
                raise WireError("a NumPy scalar that is not 0-d")
            return array[()]
        if tag == "array":
            array = self._array(rest[0])
            if not _expect(rest[1], bool):
                array.flags.writeable = False
            return array
        if tag in ("dtype", "nptype"):
            dtype = np.dtype(_expect(rest[0], str))
            if dtype.kind not in ARRAY_KINDS or dtype.fields is not None:
                raise WireError(f"a dtype {dtype} that is not plain numbers")
            return dtype if tag == "dtype" else dtype.type
        if tag == "pytype":
            kinds = {"bool": bool, "int": int, "float": float, "complex": complex}
            return kinds[_expect(rest[0], str)]
        if tag == "rng":
            name = _expect(rest[0], str)
            if name not in RNG_BIT_GENERATORS:
                raise WireError(f"an unknown random generator {name!r}")
            bit_generator = getattr(np.random, name)()
            bit_generator.state = _numpy_state(_expect(rest[1], dict))
            return np.random.Generator(bit_generator)
        if tag == "handle":
            handle, type_name = _expect(rest[0], int), _expect(rest[1], str)[:200]
            if self.resolve_handle is not None:
                return self.resolve_handle(handle)
            return Opaque(handle, type_name)
        if tag == "callable":
            handle = _expect(rest[0], int)
            if self.remote is None:
                raise WireError("a function cannot be sent here")
            return self.remote(handle)
        if tag == "iter":
            items = tuple(self.decode(v, depth + 1) for v in _expect(rest[0], list))
            error = _expect(rest[1], list)
            if error and not (len(error) == 4 and all(isinstance(e, str) for e in error)):
                raise WireError("a malformed iterator error")
            return Materialised(items, tuple(error) or None, _expect(rest[2], bool))
        if tag in ("list", "tuple"):
            items = [self.decode(v, depth + 1) for v in _expect(rest[0], list)]
            return items if tag == "list" else tuple(items)
        if tag == "dict":
            out = {}
            for pair in _expect(rest[0], list):
                if not isinstance(pair, list) or len(pair) != 2:
                    raise WireError("a malformed dict entry")
                key = self.decode(pair[0], depth + 1)
                if not isinstance(key, (str, int, float, bool, tuple, type(None))) or isinstance(key, np.generic):
                    raise WireError("a dict key that is not a plain value")
                try:
                    out[key] = self.decode(pair[1], depth + 1)
                except TypeError:
                    raise WireError("a dict key that cannot be hashed") from None
            return out
        if tag == "arg":
            if self.argument is None:
                raise WireError("a reference to an argument where there are none")
            return self.argument(_expect(rest[0], list))
        raise WireError(f"an unknown kind of value {tag!r}")

    def _array(self, index) -> np.ndarray:
        index = _expect(index, int)
        if not 0 <= index < len(self.blobs):
            raise WireError("a reference to a missing array")
        array = read_npy(self.blobs[index])
        self.max_cells -= array.size
        if self.max_cells < 0:
            raise WireError("the arrays in this message are too large")
        return array


def read_npy(blob: bytes) -> np.ndarray:
    """A base-class array of a numeric dtype from `.npy` bytes; never unpickles."""
    stream = io.BytesIO(blob)
    try:
        version = np.lib.format.read_magic(stream)
        read_header = {(1, 0): np.lib.format.read_array_header_1_0,
                       (2, 0): np.lib.format.read_array_header_2_0}.get(version)
        if read_header is None:
            raise WireError(f"an .npy version {version} array")
        shape, fortran, dtype = read_header(stream)  # the header only: the data is read below
    except WireError:
        raise
    except Exception as exc:
        raise WireError(f"an array that is not valid .npy data ({type(exc).__name__})") from None
    if dtype.kind not in ARRAY_KINDS or dtype.fields is not None or dtype.subdtype is not None:
        raise WireError(f"an array of dtype {dtype}, which is not plain numbers")
    count = 1
    for n in shape:
        count *= n
    if count * dtype.itemsize != len(blob) - stream.tell():
        raise WireError("an array whose data does not match its shape")
    data = np.frombuffer(blob, dtype=dtype, count=count, offset=stream.tell())
    array = data.reshape(shape, order="F" if fortran else "C").copy(order="K")
    return np.asarray(array).view(np.ndarray)


def _expect(value, kind):
    if kind is int and isinstance(value, bool):
        raise WireError("a malformed message")
    if not isinstance(value, kind):
        raise WireError("a malformed message")
    return value


def _numpy_state(state):
    if isinstance(state, dict):
        if set(state) == {"__array__", "values"}:
            dtype = np.dtype(_expect(state["__array__"], str))
            if dtype.kind not in "iu":
                raise WireError("a malformed random state")
            return np.array(_expect(state["values"], list), dtype=dtype)
        return {str(k): _numpy_state(v) for k, v in state.items()}
    return state


# ---------------------------------------------------------------------------------------------
# messages and frames


def pack(header: dict, blobs: list[bytes]) -> bytes:
    """One message: a JSON header (which holds the blob table) and its blobs."""
    offsets, position = [], 0
    for blob in blobs:
        offsets.append([position, len(blob)])
        position += len(blob)
    head = json.dumps({**header, "_blobs": offsets}, allow_nan=False, separators=(",", ":")).encode()
    return struct.pack("<I", len(head)) + head + b"".join(blobs)


def unpack(payload: bytes) -> tuple[dict, list[bytes]]:
    if len(payload) < 4:
        raise WireError("a truncated message")
    (size,) = struct.unpack_from("<I", payload)
    if size > len(payload) - 4:
        raise WireError("a truncated message")
    try:
        header = json.loads(payload[4:4 + size].decode("utf-8"), parse_constant=_no_constants)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise WireError(f"a message that is not valid JSON ({type(exc).__name__})") from None
    if not isinstance(header, dict):
        raise WireError("a message that is not a JSON object")
    table = header.pop("_blobs", [])
    body = memoryview(payload)[4 + size:]
    blobs = []
    if not isinstance(table, list):
        raise WireError("a malformed blob table")
    for entry in table:
        if not (isinstance(entry, list) and len(entry) == 2 and all(type(x) is int for x in entry)):
            raise WireError("a malformed blob table")
        start, length = entry
        if start < 0 or length < 0 or start + length > len(body):
            raise WireError("a blob outside the message")
        blobs.append(bytes(body[start:start + length]))
    return header, blobs


def _no_constants(name):
    raise WireError(f"a message with a bare {name}")


def message(kind: str, fields: dict | None = None, values: dict | None = None, encoder: Encoder | None = None) -> bytes:
    """Pack `fields` (JSON-able) and `values` (encoded with `encoder`) under `kind`."""
    encoder = encoder or Encoder()
    encoded = {name: encoder.encode(v) for name, v in (values or {}).items()}
    return pack({"kind": kind, **(fields or {}), "values": encoded}, encoder.blobs)


def write_frame(fd: int, payload: bytes) -> None:
    data = struct.pack("<Q", len(payload)) + payload
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def read_exactly(fd: int, n: int, deadline=None) -> bytes:
    """`n` bytes from `fd`; EOFError if the other side closed first. `deadline` (a callable that
    returns the seconds left, or raises) lets the caller give up on a silent peer."""
    chunks, missing = [], n
    while missing:
        if deadline is not None:
            deadline(fd)
        chunk = os.read(fd, min(missing, 1 << 20))
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        missing -= len(chunk)
    return b"".join(chunks)


def read_frame(fd: int, limit: int = MAX_FRAME, deadline=None) -> bytes:
    (size,) = struct.unpack("<Q", read_exactly(fd, 8, deadline))
    if size > limit:
        raise WireError(f"a message of {size:,} bytes (at most {limit:,} may be sent)")
    return read_exactly(fd, size, deadline)


# ---------------------------------------------------------------------------------------------
# arguments changed in place, on both sides


def argument_paths(args, kwargs) -> dict:
    """id(obj) -> [0, position] or [1, keyword] for a call's arrays, dicts and lists, so a returned
    value that IS one of the arguments (sgd_step returns its `params`) travels as a reference to it."""
    paths = {}
    for i, value in enumerate(args):
        if isinstance(value, (dict, list, np.ndarray)):
            paths.setdefault(id(value), [0, i])
    for key, value in kwargs.items():
        if isinstance(value, (dict, list, np.ndarray)):
            paths.setdefault(id(value), [1, key])
    return paths


def sync(mine, theirs, *, even_read_only: bool = False) -> None:
    """Make `mine` (the arguments on this side) hold what `theirs` (the same arguments after the other
    side ran) holds: arrays overwritten in place, dict entries replaced, added and removed, generator
    states copied. `even_read_only`: the judge's own read-only copies follow too (their flag is put back)."""
    if isinstance(mine, np.random.Generator) and isinstance(theirs, np.random.Generator):
        try:
            mine.bit_generator.state = theirs.bit_generator.state
        except (TypeError, ValueError):
            pass
        return
    if isinstance(mine, np.ndarray) and isinstance(theirs, np.ndarray):
        if mine.shape != theirs.shape and mine.size == theirs.size and mine.dtype == theirs.dtype:
            _reshape(mine, theirs.shape)  # `images.shape = ...` changed the caller's array too
        same_layout = mine.shape == theirs.shape and mine.dtype == theirs.dtype
        if same_layout and not np.array_equal(mine, theirs, equal_nan=True):
            _overwrite(mine, theirs, even_read_only)
        return
    if isinstance(mine, dict) and isinstance(theirs, dict):
        for key in [k for k in mine if k not in theirs]:
            del mine[key]
        for key, value in theirs.items():
            old = mine.get(key)
            if isinstance(old, (np.ndarray, dict, list, np.random.Generator)) and type(old) is type(value) \
                    and _same_layout(old, value):
                sync(old, value, even_read_only=even_read_only)
            elif not (key in mine and old is value):
                mine[key] = value  # an entry replaced, by an array of another shape or dtype too
        return
    if isinstance(mine, list) and isinstance(theirs, (list, tuple)) and len(mine) != len(theirs):
        mine[:] = theirs  # items appended or popped
        return
    if isinstance(mine, (list, tuple)) and isinstance(theirs, (list, tuple)) and len(mine) == len(theirs):
        for i, (a, b) in enumerate(zip(mine, theirs)):
            if isinstance(a, (np.ndarray, dict, list, np.random.Generator)):
                sync(a, b, even_read_only=even_read_only)
            elif isinstance(mine, list) and a is not b:
                mine[i] = b


def _same_layout(old, new) -> bool:
    """Whether `new` can be written into `old` (arrays: the same shape and dtype)."""
    return not isinstance(old, np.ndarray) or (old.shape == new.shape and old.dtype == new.dtype)


def _reshape(mine: np.ndarray, shape) -> None:
    try:
        mine.shape = shape
    except (AttributeError, ValueError):  # a view that cannot take that shape in place: left as it was
        pass


def _overwrite(mine: np.ndarray, theirs: np.ndarray, even_read_only: bool) -> None:
    if mine.flags.writeable:
        np.copyto(mine, theirs)
        return
    if not even_read_only:
        return
    try:
        mine.flags.writeable = True
        np.copyto(mine, theirs)
    except ValueError:
        pass
    finally:
        try:
            mine.flags.writeable = False
        except ValueError:
            pass
