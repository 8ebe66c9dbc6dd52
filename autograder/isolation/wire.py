"""Encode values that cross between the grader and a submission's process, without pickle.

Only plain data crosses by value: None, bool, int, float, complex, str, bytes, lists,
tuples, dicts, NumPy arrays and scalars of numeric or boolean dtype, dtypes, and NumPy
random generators (as their bit generator's state). A message is a JSON header followed by
raw blobs (array and bytes contents), so decoding never runs code chosen by the sender, and
the receiver rebuilds real `list`, `dict`, `float` and `ndarray` objects: a subclass that
lies about its shape, type or equality arrives as the plain value it really holds (dict
subclasses as dicts, namedtuples as tuples, NumPy booleans as `bool`; lone surrogates in
strings as `\\udXXX` text). Anything else is replaced by a `Handle` the receiver can use
to refer back to it.

The decoder runs on bytes a hostile sender chose. Whatever it receives, it returns a value
or raises `WireError`; it parses at most `MAX_NODES` header values, uses each blob once,
and refuses to materialise more than a budget (by default the message's own size).

Layout: `<u64 n> header (n bytes of UTF-8 JSON) <u64 count> (<u64 size> blob){count}`.
JSON null, booleans, numbers, strings and arrays stand for None, bool, int, float, str and
list; every other value is an object with one tag key (`~tuple`, `~dict`, `~int`, ...).
"""

from __future__ import annotations

import json
import math
import re
import struct
import sys
from array import array
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

MAX_DEPTH = 64
MAX_NODES = 1 << 18  # values in one header: each costs 50-200 bytes once parsed
MAX_HEADER_BYTES = 4 * 2**20
MAX_ITEMSIZE = 32  # the widest numeric dtype (complex long double)
MAX_NDIM = 64
MAX_SAME_HASH = 16  # keys of one dict that may share a hash
BUDGET_SLACK = 1 << 16  # bytes `decode` may materialise beyond the message's own size
NUMERIC_KINDS = "biufc"
BIT_GENERATORS = ("PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64")
_LEN = struct.Struct("<Q")
_DTYPE_TEXT = re.compile(r"[<>|=]?[biufc][0-9]{1,2}\Z")
_HEX_INT = re.compile(r"-?[0-9a-f]+\Z")
_SURROGATE = re.compile("[\ud800-\udfff]")
_STRUCTURAL = str.maketrans({",": "\\u002c", ":": "\\u003a", "[": "\\u005b", "{": "\\u007b"})
_INT_BARE = 2**63  # ints at least this large travel as hex under `~int`


class WireError(ValueError):
    """A message is malformed or holds something that may not cross."""


@dataclass(frozen=True)
class Handle:
    """A reference to an object that lives in the other process."""

    id: int
    type: str
    text: str = ""

    def __repr__(self) -> str:
        return f"Handle({self.id}, {self.type})"


def _valid_text(text: str) -> str:
    """Return `text` with lone surrogates written as `\\udXXX`, so it can be encoded as UTF-8."""
    if text.isascii() or not _SURROGATE.search(text):
        return text
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def _node_bound(header: str) -> int:
    """Return an upper bound on the values JSON `header` holds: each follows one of `,:[{`."""
    return header.count(",") + header.count(":") + header.count("[") + header.count("{") + 1


def _numeric_dtype(dtype: Any) -> np.dtype:
    """Return `dtype` if it is a plain numeric or boolean dtype that may cross; raise otherwise."""
    if type(dtype) is str:
        if not _DTYPE_TEXT.match(dtype):
            raise WireError(f"refusing dtype {dtype[:40]!r}: only numeric or boolean dtypes cross")
        dtype = np.dtype(dtype)
    if not isinstance(dtype, np.dtype) or dtype.kind not in NUMERIC_KINDS or dtype.fields is not None:
        raise WireError(f"refusing dtype {dtype!s:.40}: only numeric or boolean dtypes cross")
    if dtype.subdtype is not None or dtype.itemsize > MAX_ITEMSIZE:
        raise WireError(f"refusing dtype {dtype!s:.40}: only numeric or boolean dtypes cross")
    return dtype


def _is_numeric_dtype(obj: Any) -> bool:
    """Return True for a numeric or boolean dtype, or the scalar type of one (`np.float32`)."""
    if isinstance(obj, type) and issubclass(obj, np.generic):
        obj = np.dtype(obj)
    return isinstance(obj, np.dtype) and obj.kind in NUMERIC_KINDS and obj.fields is None and obj.subdtype is None


class _Encoder:
    """Write one value as JSON text pieces plus blobs; refuse what may not cross."""

    def __init__(self, to_handle: Callable[[Any], Handle] | None) -> None:
        self.to_handle = to_handle
        self.parts: list[str] = []
        self.blobs: list[bytes] = []
        self.nodes = 0

    def blob(self, data: bytes) -> int:
        self.blobs.append(data)
        return len(self.blobs) - 1

    def text(self, value: str) -> None:
        # `,:[{` are escaped too, so that counting them bounds a header's values (`_node_bound`)
        self.parts.append(json.encoder.encode_basestring_ascii(_valid_text(value)).translate(_STRUCTURAL))

    def number(self, value: Any) -> None:
        if type(value) is int:
            self.parts.append(int.__repr__(value) if -_INT_BARE < value < _INT_BARE else f'{{"~int":"{value:x}"}}')
        elif math.isfinite(value):
            self.parts.append(float.__repr__(value))
        else:
            self.parts.append("NaN" if value != value else "Infinity" if value > 0 else "-Infinity")

    def items(self, values: Any, depth: int) -> None:
        """Write a JSON array of the values in iterable `values`."""
        self.parts.append("[")
        for i, item in enumerate(values):
            if i:
                self.parts.append(",")
            self.value(item, depth + 1)
        self.parts.append("]")

    def tagged(self, tag: str, fields: str = "") -> None:
        """Open a tagged object; its first field's value comes next, then `close`."""
        self.parts.append(f'{{"{tag}":' if not fields else f'{{"{tag}":{fields},')

    def close(self) -> None:
        self.parts.append("}")

    def array(self, arr: np.ndarray, tag: str = "~nd") -> None:
        arr = np.asarray(arr)
        dtype = _numeric_dtype(arr.dtype)
        index = self.blob(np.ndarray.tobytes(arr, order="C"))
        self.parts.append(f'{{"{tag}":{index},"dtype":"{dtype.str}","shape":[{",".join(map(str, arr.shape))}]}}')

    def tensor(self, value: Any) -> None:
        """Write a torch tensor by value: dtype, shape and a CPU copy of its data (gradient history stays behind)."""
        t = value.detach()
        if t.layout is not sys.modules["torch"].strided:
            raise WireError(f"a {t.layout} tensor cannot cross; send tensor.to_dense()")
        if t.dtype is sys.modules["torch"].bfloat16:
            raise WireError("a bfloat16 tensor cannot cross; send tensor.float()")
        self.array(t.cpu().numpy(), "~tensor")

    def scalar(self, value: np.generic) -> None:
        dtype = _numeric_dtype(value.dtype)
        index = self.blob(np.ndarray.tobytes(np.asarray(value)))
        self.parts.append(f'{{"~np":{index},"dtype":"{dtype.str}"}}')

    def generator(self, rng: np.random.Generator, depth: int) -> None:
        name = type(rng.bit_generator).__name__
        if name not in BIT_GENERATORS:
            raise WireError(f"a generator driven by {name} cannot cross; use one of {', '.join(BIT_GENERATORS)}")
        self.tagged("~rng", json.dumps(name))
        self.parts.append('"state":')
        self.value(rng.bit_generator.state, depth + 1)
        self.close()

    def handle(self, handle: Handle) -> None:
        self.parts.append('{"~handle":')
        self.number(int(handle.id))
        self.parts.append(',"type":')
        self.text(str(handle.type))
        self.parts.append(',"text":')
        self.text(str(handle.text))
        self.close()

    def dtype(self, obj: Any) -> None:
        dtype = _numeric_dtype(np.dtype(obj))
        self.parts.append(f'{{"~dtype":"{dtype.str}","type":{"true" if isinstance(obj, type) else "false"}}}')

    def mapping(self, obj: dict, depth: int) -> None:
        self.parts.append('{"~dict":[')
        for i, (key, item) in enumerate(dict.items(obj)):
            if i:
                self.parts.append(",")
            self.value(key, depth + 1)
            self.parts.append(",")
            self.value(item, depth + 1)
        self.parts.append("]}")

    def value(self, obj: Any, depth: int) -> None:
        """Write `obj`: plain data by value, anything else as a handle (or refuse it)."""
        self.nodes += 1
        if depth > MAX_DEPTH:
            raise WireError(f"value nested deeper than {MAX_DEPTH} levels")
        if self.nodes > MAX_NODES:
            raise WireError(f"a value of more than {MAX_NODES} items cannot cross; send large data as NumPy arrays")
        if obj is None or isinstance(obj, bool | np.bool_):
            self.parts.append("null" if obj is None else "true" if obj else "false")
        elif isinstance(obj, np.generic) and obj.dtype.kind in NUMERIC_KINDS:
            self.scalar(obj)
        elif isinstance(obj, int | float) and not isinstance(obj, np.generic):
            self.number(int.__index__(obj) if isinstance(obj, int) else float.__float__(obj))
        elif not self.container(obj, depth):
            self.other(obj, depth)

    def container(self, obj: Any, depth: int) -> bool:
        """Write strings, bytes, lists, tuples and dicts (subclasses as their base type); False if `obj` is none."""
        if isinstance(obj, str):
            self.text(str.__str__(obj))
        elif isinstance(obj, bytes | bytearray):
            self.parts.append(f'{{"~bytes":{self.blob(bytes(obj))}}}')
        elif isinstance(obj, list):
            self.items(list.__iter__(obj), depth)
        elif isinstance(obj, tuple):
            self.tagged("~tuple")
            self.items(tuple.__iter__(obj), depth)
            self.close()
        elif isinstance(obj, dict):
            self.mapping(obj, depth)
        else:
            return False
        return True

    def other(self, obj: Any, depth: int) -> None:
        """Write complex numbers, arrays, handles, generators and dtypes, or a handle for anything else."""
        if isinstance(obj, complex):
            value = complex.__complex__(obj)
            self.tagged("~complex")
            self.parts.append("[")
            self.number(value.real)
            self.parts.append(",")
            self.number(value.imag)
            self.parts.append("]}")
        elif isinstance(obj, np.ndarray) and obj.dtype.kind in NUMERIC_KINDS:
            self.array(obj)
        elif isinstance(obj, Handle):
            self.handle(obj)
        elif _is_tensor(obj):
            self.tensor(obj)
        elif isinstance(obj, np.random.Generator):
            self.generator(obj, depth)
        elif _is_numeric_dtype(obj):
            self.dtype(obj)
        elif self.to_handle is not None:
            self.handle(self.to_handle(obj))
        else:
            raise WireError(f"a {type(obj).__name__} cannot be sent to the other process; send plain values or arrays")


def _is_tensor(obj: Any) -> bool:
    """Return whether `obj` is a torch tensor, without importing torch where nothing has."""
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(obj, torch.Tensor)


def encode(obj: Any, to_handle: Callable[[Any], Handle] | None = None) -> bytes:
    """Serialize `obj`; objects that are not plain data become handles via `to_handle`."""
    encoder = _Encoder(to_handle)
    encoder.value(obj, 0)
    text = "".join(encoder.parts)
    if len(text) > MAX_HEADER_BYTES or _node_bound(text) > MAX_NODES:
        raise WireError(f"a value whose description takes {len(text)} bytes cannot cross; send large data as NumPy arrays")
    header = text.encode("ascii")
    parts = [_LEN.pack(len(header)), header, _LEN.pack(len(encoder.blobs))]
    for blob in encoder.blobs:
        parts += [_LEN.pack(len(blob)), blob]
    return b"".join(parts)


def _parse_int(text: str) -> int:
    """Parse a bare JSON integer; longer ones travel as `~int`."""
    if len(text) > 20:
        raise WireError(f"an integer literal of {len(text)} digits; large integers travel as ~int")
    return int(text)


_JSON = json.JSONDecoder(parse_int=_parse_int)


class _Blobs:
    """The blob section of a message: each blob may be taken once, and all must be taken."""

    def __init__(self, view: memoryview, offset: int, limit: int) -> None:
        count = _read_len(view, offset)
        offset += _LEN.size
        if count > limit or count > (len(view) - offset) // _LEN.size:
            raise WireError(f"a message claiming {count} blobs in {len(view) - offset} bytes")
        self.view, self.starts, self.sizes = view, array("Q"), array("Q")
        for _ in range(count):
            size = _read_len(view, offset)
            offset += _LEN.size
            if size > len(view) - offset:
                raise WireError(f"a blob of {size} bytes where {len(view) - offset} remain")
            self.starts.append(offset)
            self.sizes.append(size)
            offset += size
        if offset != len(view):
            raise WireError(f"{len(view) - offset} bytes after the last blob")
        self.taken = bytearray(count)

    def take(self, index: Any) -> memoryview:
        if type(index) is not int or not 0 <= index < len(self.taken):
            raise WireError(f"a reference to blob {str(index)[:40]}; the message has {len(self.taken)}")
        if self.taken[index]:
            raise WireError(f"blob {index} is used twice")
        self.taken[index] = 1
        start = self.starts[index]
        return self.view[start : start + self.sizes[index]]

    def check_all_taken(self) -> None:
        if self.taken.count(0):
            raise WireError(f"{self.taken.count(0)} blobs are never used")


def _read_len(view: memoryview, offset: int) -> int:
    if offset + _LEN.size > len(view):
        raise WireError("message truncated")
    return _LEN.unpack_from(view, offset)[0]


def _shape(shape: Any, dtype: np.dtype) -> tuple[int, ...]:
    """Return `shape` as a tuple if it is a plausible array shape; raise otherwise."""
    if type(shape) is not list or len(shape) > MAX_NDIM or any(type(n) is not int or n < 0 for n in shape):
        raise WireError(f"refusing array shape {str(shape)[:80]}")
    if math.prod(max(n, 1) for n in shape) * dtype.itemsize >= 2**62:
        raise WireError(f"refusing array shape {shape}: too large")
    return tuple(shape)


def _from_blob(blob: memoryview, dtype: np.dtype, shape: tuple[int, ...]) -> np.ndarray:
    """Copy `blob` into a new array; booleans are normalised to 0 and 1."""
    if math.prod(shape) * dtype.itemsize != len(blob):
        raise WireError(f"array of shape {shape} and dtype {dtype} does not match its {len(blob)} bytes")
    if dtype.kind == "b":
        return np.frombuffer(blob, np.uint8).reshape(shape).astype(bool)
    return np.frombuffer(blob, dtype).reshape(shape).copy()


def _key_hash(key: Any) -> int:
    try:
        return hash(key)
    except TypeError:
        raise WireError(f"a dict key must be hashable, got a {type(key).__name__}") from None


def _float(value: Any) -> float:
    if type(value) is not float:
        raise WireError(f"expected a float, got {str(value)[:40]}")
    return value


def _rng(name: Any, state: Any) -> np.random.Generator:
    """Rebuild a NumPy Generator from its bit generator's name and state (a plain dict)."""
    if name not in BIT_GENERATORS:
        raise WireError(f"unknown bit generator {str(name)[:40]!r}")
    bitgen = getattr(np.random, name)()
    try:
        bitgen.state = state
    except Exception as exc:  # noqa: BLE001  # NumPy's setters raise many kinds of error
        raise WireError(f"invalid state for {name}: {type(exc).__name__}") from None
    return np.random.Generator(bitgen)


TAGS = {
    "~tuple": {"~tuple"},
    "~dict": {"~dict"},
    "~int": {"~int"},
    "~complex": {"~complex"},
    "~bytes": {"~bytes"},
    "~nd": {"~nd", "dtype", "shape"},
    "~tensor": {"~tensor", "dtype", "shape"},
    "~np": {"~np", "dtype"},
    "~dtype": {"~dtype", "type"},
    "~handle": {"~handle", "type", "text"},
    "~rng": {"~rng", "state"},
}


class _Decoder:
    """Rebuild values from a parsed header and its blobs, within a budget of bytes."""

    def __init__(self, blobs: _Blobs, budget: int) -> None:
        self.blobs, self.left = blobs, budget

    def charge(self, size: int) -> None:
        self.left -= size
        if self.left < 0:
            raise WireError("the message would take more memory than its size allows")

    def text(self, value: Any) -> str:
        if type(value) is not str:
            raise WireError(f"expected a string, got {str(value)[:40]}")
        self.charge(len(value))
        return _valid_text(value)

    def value(self, node: Any, depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise WireError(f"value nested deeper than {MAX_DEPTH} levels")
        kind = type(node)
        if node is None or kind is bool or kind is int or kind is float:
            return node
        if kind is str:
            return self.text(node)
        if kind is list:
            return [self.value(item, depth + 1) for item in node]
        tag = next(iter(node), None)
        if tag not in TAGS or node.keys() != TAGS[tag]:
            raise WireError(f"unexpected object in message with keys {str(list(node))[:80]}")
        return getattr(self, "tag_" + tag[1:])(node, depth)

    def tag_tuple(self, node: dict, depth: int) -> tuple:
        if type(node["~tuple"]) is not list:
            raise WireError("a ~tuple holds a list")
        return tuple(self.value(item, depth + 1) for item in node["~tuple"])

    def tag_dict(self, node: dict, depth: int) -> dict:
        items = node["~dict"]
        if type(items) is not list or len(items) % 2:
            raise WireError("a ~dict holds a list of keys and values, alternating")
        out: dict[Any, Any] = {}
        shared: dict[int, int] = {}  # keys per hash: crafted integers that all collide make inserts quadratic
        for i in range(0, len(items), 2):
            key = self.value(items[i], depth + 1)
            code = _key_hash(key)
            shared[code] = shared.get(code, 0) + 1
            if shared[code] > MAX_SAME_HASH:
                raise WireError(f"more than {MAX_SAME_HASH} keys of one dict share a hash")
            out[key] = self.value(items[i + 1], depth + 1)
        return out

    def tag_int(self, node: dict, depth: int) -> int:
        digits = node["~int"]
        if type(digits) is not str or not _HEX_INT.match(digits):
            raise WireError(f"a ~int holds hexadecimal digits, got {str(digits)[:40]}")
        self.charge(len(digits) // 2)
        return int(digits, 16)

    def tag_complex(self, node: dict, depth: int) -> complex:
        parts = node["~complex"]
        if type(parts) is not list or len(parts) != 2:
            raise WireError("a ~complex holds [real, imag]")
        return complex(_float(parts[0]), _float(parts[1]))

    def tag_bytes(self, node: dict, depth: int) -> bytes:
        blob = self.blobs.take(node["~bytes"])
        self.charge(len(blob))
        return bytes(blob)

    def _array(self, node: dict, tag: str) -> np.ndarray:
        dtype = _numeric_dtype(node["dtype"])
        shape = _shape(node["shape"], dtype)
        blob = self.blobs.take(node[tag])
        self.charge(len(blob))
        return _from_blob(blob, dtype, shape)

    def tag_nd(self, node: dict, depth: int) -> np.ndarray:
        return self._array(node, "~nd")

    def tag_tensor(self, node: dict, depth: int) -> Any:
        """Rebuild a tensor where torch is loaded; a process without torch gets the same values as an ndarray."""
        arr = self._array(node, "~tensor")  # torch.from_numpy shares its memory: the bytes are paid once
        torch = sys.modules.get("torch")
        return torch.from_numpy(arr) if torch is not None else arr

    def tag_np(self, node: dict, depth: int) -> np.generic:
        dtype = _numeric_dtype(node["dtype"])
        blob = self.blobs.take(node["~np"])
        self.charge(len(blob))
        return _from_blob(blob, dtype, ())[()]

    def tag_dtype(self, node: dict, depth: int) -> Any:
        dtype = _numeric_dtype(node["~dtype"])
        if type(node["type"]) is not bool:
            raise WireError("a ~dtype's type is true or false")
        return dtype.type if node["type"] else dtype

    def tag_handle(self, node: dict, depth: int) -> Handle:
        ident = self.value(node["~handle"], depth + 1)
        if type(ident) is not int:
            raise WireError("a ~handle holds an integer id")
        return Handle(ident, self.text(node["type"]), self.text(node["text"]))

    def tag_rng(self, node: dict, depth: int) -> np.random.Generator:
        return _rng(node["~rng"], self.value(node["state"], depth + 1))


def _parse_header(view: memoryview, size: int) -> tuple[Any, int]:
    """Parse the JSON header after refusing one that could hold too many values; return it and that bound."""
    if size > MAX_HEADER_BYTES:
        raise WireError(f"message header of {size} bytes; at most {MAX_HEADER_BYTES} are accepted")
    if _LEN.size + size > len(view):
        raise WireError("message truncated")
    text = str(view[_LEN.size : _LEN.size + size], "utf-8")
    bound = _node_bound(text)
    if bound > MAX_NODES:
        raise WireError(f"message header with more than {MAX_NODES} values")
    return _JSON.decode(text), bound


def _decode(view: memoryview, max_bytes: int) -> Any:
    size = _read_len(view, 0)
    header, bound = _parse_header(view, size)
    blobs = _Blobs(view, _LEN.size + size, bound)  # each blob takes a value to refer to it
    value = _Decoder(blobs, max_bytes).value(header, 0)
    blobs.check_all_taken()
    return value


def decode(data: bytes, max_bytes: int | None = None) -> Any:
    """Rebuild a value from `encode`'s bytes; raise `WireError` on anything malformed.

    At most `max_bytes` (by default the message's size plus `BUDGET_SLACK`) of arrays,
    bytes, strings and integers are materialised.
    """
    try:
        view = memoryview(data).cast("B")
        return _decode(view, len(view) + BUDGET_SLACK if max_bytes is None else max_bytes)
    except WireError:
        raise
    except Exception as exc:  # noqa: BLE001  # whatever the bytes hold, the caller gets a WireError
        raise WireError(f"malformed message ({type(exc).__name__}: {str(exc)[:200]})") from None


def send_frame(sock: Any, payload: bytes) -> None:
    """Send one length-prefixed message on a stream socket."""
    sock.sendall(_LEN.pack(len(payload)))
    sock.sendall(payload)


def _recv_exact(sock: Any, n: int) -> bytearray | None:
    """Receive exactly `n` bytes, growing the buffer only as they arrive; None if the peer closed."""
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(min(n - len(buf), 1 << 20))
        if not chunk:
            return None
        buf += chunk
    return buf


def recv_frame(sock: Any, limit: int | None = None) -> bytearray | None:
    """Receive one length-prefixed message; None when the peer closed; `WireError` over `limit` bytes."""
    head = _recv_exact(sock, _LEN.size)
    if head is None:
        return None
    (n,) = _LEN.unpack(head)
    if limit is not None and n > limit:
        raise WireError(f"a message of {n} bytes; at most {limit} are accepted")
    return _recv_exact(sock, n)
