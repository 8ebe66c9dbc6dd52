"""Encode values that cross between the grader and a submission's process, without pickle.

Only plain data crosses by value: None, bool, int, float, complex, str, bytes, lists,
tuples, dicts, NumPy arrays and scalars of numeric or boolean dtype, dtypes, and NumPy
random generators (as their bit generator's state). Arrays travel as
raw bytes after a JSON header, so decoding never runs code chosen by the sender, and the
receiver rebuilds real `list`, `dict`, `float` and `ndarray` objects: a subclass that lies
about its shape, type or equality arrives as the plain value it really holds. Anything
else is replaced by a `Handle` the receiver can use to refer back to it.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

MAX_DEPTH = 64
MAX_HEADER_BYTES = 4 * 2**20  # JSON expands in memory (~25x); arrays travel outside it
_LEN = struct.Struct("<Q")
NUMERIC_KINDS = "biufc"


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


def _array_entry(arr: np.ndarray, blobs: list[bytes]) -> dict[str, Any]:
    arr = np.ascontiguousarray(np.asarray(arr))
    if arr.dtype.kind not in NUMERIC_KINDS or arr.dtype.fields is not None:
        raise WireError(f"an array of dtype {arr.dtype} cannot cross; use a numeric dtype")
    blobs.append(arr.tobytes())
    return {"~nd": len(blobs) - 1, "dtype": arr.dtype.str, "shape": list(arr.shape)}


def _scalar_entry(value: np.generic) -> dict[str, Any]:
    kind = value.dtype.kind
    if kind == "b":
        return {"~np": value.dtype.str, "v": bool(value)}
    if kind in "iu":
        return {"~np": value.dtype.str, "v": int(value)}
    if kind == "f":
        return {"~np": value.dtype.str, "v": float(value)}
    if kind == "c":
        return {"~np": value.dtype.str, "v": [float(value.real), float(value.imag)]}
    raise WireError(f"a NumPy scalar of dtype {value.dtype} cannot cross")


def _encode(obj: Any, blobs: list[bytes], to_handle: Callable[[Any], Handle] | None, depth: int) -> Any:
    if depth > MAX_DEPTH:
        raise WireError(f"value nested deeper than {MAX_DEPTH} levels")
    if obj is None or type(obj) in (bool, str):
        return obj
    if isinstance(obj, bool | np.bool_):
        return bool(obj)
    if isinstance(obj, np.generic):
        return _scalar_entry(obj)
    if isinstance(obj, int):
        return {"~int": str(int.__index__(obj))}
    if isinstance(obj, float):
        return {"~float": float.__repr__(float(obj))}
    if isinstance(obj, complex):
        return {"~complex": [float(obj.real), float(obj.imag)]}
    if isinstance(obj, str):
        return str.__str__(obj)
    if isinstance(obj, bytes | bytearray):
        blobs.append(bytes(obj))
        return {"~bytes": len(blobs) - 1}
    if isinstance(obj, np.ndarray) and obj.dtype.kind in NUMERIC_KINDS:
        return _array_entry(obj, blobs)
    if isinstance(obj, Handle):
        return {"~handle": obj.id, "type": obj.type, "text": obj.text}
    if isinstance(obj, np.random.Generator):
        bitgen = obj.bit_generator
        return {"~rng": type(bitgen).__name__, "state": _encode(bitgen.state, blobs, None, depth + 1)}
    if isinstance(obj, np.dtype) or (isinstance(obj, type) and issubclass(obj, np.generic)):
        return {"~dtype": np.dtype(obj).str, "type": isinstance(obj, type)}
    if isinstance(obj, list | tuple) and to_handle is None or type(obj) in (list, tuple):
        items = [_encode(x, blobs, to_handle, depth + 1) for x in obj]
        return {"~tuple": items} if isinstance(obj, tuple) else {"~list": items}
    if isinstance(obj, dict) and (to_handle is None or type(obj) is dict):
        return {"~dict": [[_encode(k, blobs, to_handle, depth + 1), _encode(v, blobs, to_handle, depth + 1)] for k, v in dict.items(obj)]}
    if to_handle is not None:
        return _encode(to_handle(obj), blobs, None, depth)
    raise WireError(f"a {type(obj).__name__} cannot be sent to the other process; send plain values or arrays")


def encode(obj: Any, to_handle: Callable[[Any], Handle] | None = None) -> bytes:
    """Serialize `obj`; objects that are not plain data become handles via `to_handle`."""
    blobs: list[bytes] = []
    header = json.dumps(_encode(obj, blobs, to_handle, 0), allow_nan=True).encode()
    parts = [_LEN.pack(len(header)), header, _LEN.pack(len(blobs))]
    for blob in blobs:
        parts += [_LEN.pack(len(blob)), blob]
    return b"".join(parts)


def _read_blobs(data: memoryview, offset: int) -> list[memoryview]:
    (count,) = _LEN.unpack_from(data, offset)
    offset += _LEN.size
    blobs = []
    for _ in range(count):
        (n,) = _LEN.unpack_from(data, offset)
        offset += _LEN.size
        if offset + n > len(data):
            raise WireError("message truncated")
        blobs.append(data[offset : offset + n])
        offset += n
    return blobs


def _decode_array(entry: dict[str, Any], blobs: list[memoryview]) -> np.ndarray:
    dtype = np.dtype(entry["dtype"])
    shape = tuple(int(s) for s in entry["shape"])
    if dtype.kind not in NUMERIC_KINDS or dtype.fields is not None or any(s < 0 for s in shape):
        raise WireError(f"refusing array of dtype {dtype} and shape {shape}")
    blob = blobs[int(entry["~nd"])]
    if int(np.prod(shape, dtype=np.int64)) * dtype.itemsize != len(blob):
        raise WireError(f"array of shape {shape} and dtype {dtype} does not match its {len(blob)} bytes")
    return np.frombuffer(blob, dtype=dtype).reshape(shape).copy()


def _decode(node: Any, blobs: list[memoryview], depth: int) -> Any:
    if depth > MAX_DEPTH:
        raise WireError(f"value nested deeper than {MAX_DEPTH} levels")
    if node is None or isinstance(node, bool | str | int | float):
        return node
    if isinstance(node, dict) and len(node) >= 1:
        tag = next(iter(node))
        if tag == "~int":
            return int(node["~int"])
        if tag == "~float":
            return float(node["~float"])
        if tag == "~complex":
            return complex(*node["~complex"])
        if tag == "~bytes":
            return bytes(blobs[int(node["~bytes"])])
        if tag == "~nd":
            return _decode_array(node, blobs)
        if tag == "~np":
            dtype = np.dtype(node["~np"])
            value = complex(*node["v"]) if dtype.kind == "c" else node["v"]
            return dtype.type(value)
        if tag == "~rng":
            return _decode_rng(str(node["~rng"]), _decode(node["state"], blobs, depth + 1))
        if tag == "~dtype":
            dtype = np.dtype(str(node["~dtype"]))
            return dtype.type if node.get("type") else dtype
        if tag == "~handle":
            return Handle(int(node["~handle"]), str(node["type"]), str(node.get("text", "")))
        if tag == "~list":
            return [_decode(x, blobs, depth + 1) for x in node["~list"]]
        if tag == "~tuple":
            return tuple(_decode(x, blobs, depth + 1) for x in node["~tuple"])
        if tag == "~dict":
            return {_hashable(_decode(k, blobs, depth + 1)): _decode(v, blobs, depth + 1) for k, v in node["~dict"]}
    raise WireError(f"unexpected value in message: {str(node)[:80]}")


BIT_GENERATORS = ("PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64")


def _decode_rng(name: str, state: Any) -> np.random.Generator:
    """Rebuild a NumPy Generator from its bit generator's name and state (a plain dict)."""
    if name not in BIT_GENERATORS:
        raise WireError(f"unknown bit generator {name!r}")
    bitgen = getattr(np.random, name)()
    bitgen.state = state
    return np.random.Generator(bitgen)


def send_frame(sock: Any, payload: bytes) -> None:
    """Send one length-prefixed message on a stream socket."""
    sock.sendall(_LEN.pack(len(payload)) + payload)


def _recv_exact(sock: Any, n: int) -> bytes | None:
    chunks, left = [], n
    while left:
        chunk = sock.recv(min(left, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def recv_frame(sock: Any, limit: int | None = None) -> bytes | None:
    """Receive one length-prefixed message; None when the peer closed; `WireError` over `limit` bytes."""
    head = _recv_exact(sock, _LEN.size)
    if head is None:
        return None
    (n,) = _LEN.unpack(head)
    if limit is not None and n > limit:
        raise WireError(f"a message of {n} bytes; at most {limit} are accepted")
    return _recv_exact(sock, n)


def _hashable(key: Any) -> Any:
    if isinstance(key, list | dict | np.ndarray):
        raise WireError("a dict key must be hashable")
    return key


def decode(data: bytes) -> Any:
    """Rebuild a value from `encode`'s bytes; raise `WireError` on anything malformed."""
    view = memoryview(data)
    try:
        (n,) = _LEN.unpack_from(view, 0)
        if n > MAX_HEADER_BYTES:
            raise WireError(f"message header of {n} bytes; at most {MAX_HEADER_BYTES} are accepted")
        header = json.loads(bytes(view[_LEN.size : _LEN.size + n]))
        blobs = _read_blobs(view, _LEN.size + n)
        return _decode(header, blobs, 0)
    except WireError:
        raise
    except (ValueError, TypeError, KeyError, IndexError, struct.error, RecursionError) as exc:
        raise WireError(f"malformed message ({type(exc).__name__}: {exc})") from None
