"""The pickle-free wire format: legitimate values cross intact; hostile bytes only ever raise WireError."""

from __future__ import annotations

import json
import math
import os
import socket
import struct
import sys
import tracemalloc
from collections import Counter, OrderedDict, defaultdict, namedtuple
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as nps

from autograder.isolation import wire
from autograder.isolation.wire import Handle, WireError, decode, encode

MB = 2**20
FUZZ = settings(
    max_examples=int(os.environ.get("WIRE_FUZZ_EXAMPLES", "300")),
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def frame(header: Any = None, blobs: list[bytes] | tuple[bytes, ...] = (), raw: bytes | None = None) -> bytes:
    """Lay out a message by hand: a JSON header (or `raw` bytes) and blobs."""
    head = raw if raw is not None else json.dumps(header).encode()
    parts = [struct.pack("<Q", len(head)), head, struct.pack("<Q", len(blobs))]
    for blob in blobs:
        parts += [struct.pack("<Q", len(blob)), blob]
    return b"".join(parts)


def decode_peak(data: bytes, **kwargs: Any) -> tuple[Any, int]:
    """Decode `data`; return the value (or the WireError) and the peak bytes allocated meanwhile."""
    tracemalloc.start()
    try:
        try:
            value = decode(data, **kwargs)
        except WireError as exc:
            value = exc
        return value, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def assert_refused(data: bytes, peak_mb: float = 1.0, **kwargs: Any) -> WireError:
    value, peak = decode_peak(data, **kwargs)
    assert isinstance(value, WireError), f"decoded {type(value).__name__} instead of refusing"
    assert peak < peak_mb * MB, f"refusing took {peak} bytes"
    return value


def same(a: Any, b: Any) -> bool:
    """Whether `a` and `b` are the same value of the same type, NaN and -0.0 included."""
    if type(a) is not type(b):
        return False
    if isinstance(a, np.ndarray | np.generic):
        return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()
    if isinstance(a, float):
        return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) == math.copysign(1, b))
    if isinstance(a, complex):
        return same(a.real, b.real) and same(a.imag, b.imag)
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return len(a) == len(b) and all(
            same(ka, kb) and same(va, vb) for (ka, va), (kb, vb) in zip(a.items(), b.items(), strict=True)
        )
    if isinstance(a, np.random.Generator):
        return same(a.bit_generator.state, b.bit_generator.state)
    return a == b


def round_trip(value: Any, **kwargs: Any) -> Any:
    return decode(encode(value, **kwargs))


def assert_valid_text(value: Any) -> None:
    """Every string inside a decoded value can be written as UTF-8."""
    if isinstance(value, str):
        value.encode("utf-8")
    elif isinstance(value, Handle):
        (value.type + value.text).encode("utf-8")
    elif isinstance(value, list | tuple):
        for item in value:
            assert_valid_text(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            assert_valid_text(key)
            assert_valid_text(item)


# --- legitimate values cross intact ---


@pytest.mark.parametrize(
    "value",
    [
        None,
        True,
        False,
        0,
        -7,
        2**63,
        -(2**63) - 1,
        3**5000,
        10**5000,
        1.5,
        -0.0,
        math.inf,
        -math.inf,
        math.nan,
        1e-320,
        complex(1, -2),
        complex(math.nan, -0.0),
        "",
        "plain",
        'a,b:[c]{d}"\\\n',
        "é😀\u2028",
        b"",
        b"\x00\xff" * 10,
        [],
        (),
        {},
        [1, [2, (3, {"k": [None]})]],
        (1,),
        {"a": 1, 2: "b", (3, "c"): [4], None: 5, b"k": 6.0, 1.5: 7},
    ],
    ids=lambda v: type(v).__name__,
)
def test_plain_values_round_trip(value: Any) -> None:
    assert same(round_trip(value), value)


def test_zero_d_array_keeps_shape() -> None:
    for dtype in (np.float64, np.int32, np.bool_, np.complex64):
        back = round_trip(np.array(1, dtype=dtype))
        assert back.shape == () and back.dtype == np.dtype(dtype) and back[()] == 1


def _layouts() -> list[np.ndarray]:
    base = np.arange(24, dtype=np.float64).reshape(2, 3, 4)
    return [
        np.asfortranarray(base),
        base[:, ::2, 1:3],
        base[::-1, :, ::-2],
        base.transpose(2, 0, 1),
        base.astype(">f8"),
        base.astype(">i2")[:, ::-1],
        np.zeros((0, 5), dtype=np.int8),
        np.zeros((3, 0, 2), dtype=">c16"),
        np.array([True, False, True])[::-1],
        np.arange(6, dtype=np.float16).reshape(3, 2).T,
        np.arange(4, dtype=np.longdouble) / 3,
        (np.arange(4) * (1 + 1j)).astype(np.clongdouble),
        np.broadcast_to(np.arange(3), (4, 3)),
    ]


@pytest.mark.parametrize("arr", _layouts(), ids=lambda a: f"{a.dtype.str}{a.shape}")
def test_any_array_layout_crosses_with_same_values_shape_and_dtype(arr: np.ndarray) -> None:
    back = round_trip(arr)
    assert type(back) is np.ndarray and back.dtype == arr.dtype and back.shape == arr.shape
    assert back.tobytes() == arr.tobytes() and back.flags.writeable


def test_numpy_scalars_and_dtypes_cross_exactly() -> None:
    for scalar in (
        np.float32(1.25),
        np.int8(-3),
        np.uint64(2**64 - 1),
        np.longdouble(1) / 3,
        np.complex64(1 - 2j),
        np.float16(np.nan),
    ):
        assert same(round_trip(scalar), scalar)
    assert round_trip(np.bool_(True)) is True  # NumPy booleans arrive as Python booleans
    assert round_trip(np.dtype(">f4")) == np.dtype(">f4")
    assert round_trip(np.int16) is np.int16


def test_subclasses_cross_as_their_plain_base_type() -> None:
    point = namedtuple("Point", "x y")(1, [2])

    class Tagged(list):
        pass

    class Text(str):
        pass

    values = [
        OrderedDict(a=1, b=2),
        defaultdict(list, {"a": [1]}),
        Counter("aab"),
        point,
        Tagged([1, 2]),
        Text("t"),
        bytearray(b"ab"),
    ]
    expected = [{"a": 1, "b": 2}, {"a": [1]}, {"a": 2, "b": 1}, (1, [2]), [1, 2], "t", b"ab"]
    for value, want in zip(values, expected, strict=True):
        for to_handle in (None, lambda obj: Handle(1, "x")):
            assert same(round_trip(value, to_handle=to_handle), want)


def test_lone_surrogates_arrive_as_valid_escaped_text() -> None:
    back = round_trip({"\udce9key": ["a\ud800b", Handle(1, "T\udfff", "x")]})
    assert back == {"\\udce9key": ["a\\ud800b", Handle(1, "T\\udfff", "x")]}
    assert_valid_text(back)
    assert decode(frame("\ud800")) == "\\ud800"  # a sender's own JSON escapes too


@pytest.mark.parametrize("name", wire.BIT_GENERATORS)
def test_generators_cross_with_their_state(name: str) -> None:
    rng = np.random.Generator(getattr(np.random, name)(7))
    rng.random(3)
    back = round_trip(rng)
    assert type(back.bit_generator).__name__ == name
    assert np.array_equal(back.random(5), rng.random(5))


def test_handles_and_unknown_objects() -> None:
    assert round_trip(object(), to_handle=lambda obj: Handle(42, "object", "<object>")) == Handle(42, "object", "<object>")
    assert round_trip(np.array(["s"]), to_handle=lambda obj: Handle(1, "ndarray")) == Handle(1, "ndarray")
    with pytest.raises(WireError, match="cannot be sent"):
        encode(object())


def test_encoder_refuses_what_cannot_cross() -> None:
    deep: list[Any] = []
    deep.append(deep)
    with pytest.raises(WireError, match="nested deeper"):
        encode(deep)
    with pytest.raises(WireError, match="more than"):
        encode(list(range(wire.MAX_NODES + 1)))

    class Custom(np.random.PCG64):
        pass

    with pytest.raises(WireError, match="Custom"):
        encode(np.random.Generator(Custom()))


def test_default_budget_accepts_every_encoded_message() -> None:
    value = {"x": [np.ones((64, 64))] * 20, "s": "é" * 50_000, "b": [b"x" * 1000] * 30, "i": 7**9000}
    data = encode(value)
    assert same(decode(data), value)
    assert same(decode(data, max_bytes=len(data)), value)


# --- hostile messages: WireError, with bounded memory ---


@pytest.mark.parametrize(
    "dtype",
    [
        "V2000000000",
        "V8",
        "S2000000000",
        "U500000000",
        "O",
        "M8[ns]",
        "m8",
        "<M8",
        "f8,f8",
        "(1000000000,)f8",
        "<f64",
        "<i3",
        "b1 ",
        "float64",
        "?",
        7,
        None,
        ["<f8"],
    ],
)
def test_only_numeric_dtypes_are_accepted(dtype: Any) -> None:
    assert_refused(frame({"~np": 0, "dtype": dtype}, [bytes(8)]))
    assert_refused(frame({"~nd": 0, "dtype": dtype, "shape": [1]}, [bytes(8)]))
    assert_refused(frame({"~dtype": dtype, "type": False}))


def test_old_count_allocating_scalar_is_refused() -> None:
    assert_refused(frame({"~np": "V8", "v": 2_000_000_000}))
    assert_refused(frame({"~np": "V2000000000", "v": 1}))


@pytest.mark.parametrize("tag", ["~nd", "~bytes", "~np"])
def test_a_blob_is_used_at_most_once(tag: str) -> None:
    blob = bytes(4 * MB)
    entry = (
        {"~nd": 0, "dtype": "<f8", "shape": [MB // 2]}
        if tag == "~nd"
        else {"~np": 0, "dtype": "<f8"}
        if tag == "~np"
        else {"~bytes": 0}
    )
    error = assert_refused(frame([entry] * 100, [blob]), peak_mb=4 + 1)
    assert "blob 0" in str(error) or "does not match" in str(error)


def test_unused_and_out_of_range_blobs_are_refused() -> None:
    assert_refused(frame(None, [b"x"]))
    for index in (-1, 1, True, 0.0, "0", 2**70, None):
        assert_refused(frame({"~bytes": index}, [b"x"]))


def test_a_huge_integer_is_parsed_in_linear_time_and_memory() -> None:
    data = frame({"~int": "f" * 10**6})
    value, peak = decode_peak(data)
    assert value == 16 ** (10**6) - 1 and peak < 2.5 * len(data)
    assert_refused(frame({"~int": "f" * 10**6 + "g"}), peak_mb=2.5)


def test_budget_bounds_the_bytes_materialised() -> None:
    data = encode([np.ones(MB // 8), b"x" * MB])
    assert_refused(data, peak_mb=1.5, max_bytes=MB)
    assert_refused(encode("s" * 10_000), max_bytes=1000)
    assert_refused(encode(2**80_000), max_bytes=1000)


@pytest.mark.parametrize(
    "shape", [[2**63, 2**63], [10**30], [2**32, 2**32, 0], [-1], [True], ["3"], [1.0], [1] * 65, 3, None, [[1]]]
)
def test_implausible_shapes_are_refused(shape: Any) -> None:
    assert_refused(frame({"~nd": 0, "dtype": "<f8", "shape": shape}, [b""]))


def test_shape_must_match_blob() -> None:
    assert_refused(frame({"~nd": 0, "dtype": "<f8", "shape": [3]}, [bytes(16)]))
    assert_refused(frame({"~np": 0, "dtype": "<f8"}, [bytes(4)]))


def test_length_prefixes_are_checked() -> None:
    good = encode([b"abc", np.ones(3)])
    q = struct.Struct("<Q").pack
    cases = [
        b"",
        b"\x01",
        q(2**64 - 1),
        q(2**63) + b"null",
        q(100) + b"null",
        q(4) + b"null",
        q(4) + b"null" + q(2**64 - 1),
        q(4) + b"null" + q(1) + q(2**63),
        q(4) + b"null" + q(1) + q(10) + b"abc",
        good + b"\x00",
        good[:-1],
        good[:20],
    ]
    for data in cases:
        assert_refused(data)


def test_many_empty_blobs_are_refused_before_they_are_listed() -> None:
    assert_refused(frame(None, [b""] * MB), peak_mb=0.1)
    assert_refused(frame([{"~bytes": i} for i in range(3)], [b""] * 100_000), peak_mb=0.1)


def test_node_count_is_limited_before_parsing() -> None:
    assert_refused(frame(None, raw=b"[" + b",".join([b"0"] * (wire.MAX_NODES + 1)) + b"]"), peak_mb=3)
    assert_refused(frame(None, raw=b"[" + b"{}," * 1_000_000 + b"0]"), peak_mb=4)


def test_largest_accepted_header_stays_within_tens_of_megabytes() -> None:
    lists = frame(None, raw=b"[" + b",".join([b"[]"] * (wire.MAX_NODES // 2 - 1)) + b"]")
    value, peak = decode_peak(lists)
    assert isinstance(value, list) and peak < 40 * MB


@pytest.mark.parametrize(
    "header",
    [
        {"~int": "1" * 1000 + "g"},
        {"~int": 12},
        {"~int": " 12"},
        {"~int": "1_0"},
        {"~complex": [10**400, 0]},
        {"~complex": [1, 2]},
        {"~complex": [1.0]},
        {"~complex": "1+2j"},
        {"~tuple": 5},
        {"~dict": [1]},
        {"~dict": 5},
        {"~dict": [{"~tuple": [[]]}, 1]},
        {"~dict": [[1], 1]},
        {"~dict": [{"~dict": []}, 1]},
        {"~list": []},
        {"~float": "1e999999"},
        {"~handle": "1", "type": "x", "text": ""},
        {"~handle": 1, "type": 5, "text": ""},
        {"~handle": 1, "type": "x"},
        {"~dtype": "<f8", "type": 1},
        {"~nd": 0},
        {"~tuple": [], "extra": 1},
        {},
        {"x": 1},
        10**25,
        -(10**21),
        {"~rng": "PCG64", "state": 5},
        {"~rng": "Nope", "state": {}},
        {"~rng": "MT19937", "state": {"bit_generator": "MT19937"}},
        {
            "~rng": "PCG64",
            "state": {
                "~dict": [
                    "bit_generator",
                    "PCG64",
                    "state",
                    {"~dict": ["state", {"~int": "f" * 100}, "inc", 1]},
                    "has_uint32",
                    0,
                    "uinteger",
                    0,
                ]
            },
        },
        {"~rng": "MT19937", "state": {"~dict": ["bit_generator", "MT19937", "state", {"~dict": ["key", [1, 2], "pos", 0]}]}},
    ],
    ids=lambda h: str(h)[:50],
)
def test_malformed_entries_are_refused(header: Any) -> None:
    assert_refused(frame(header))


def test_unhashable_keys_are_refused() -> None:
    for key in (
        [],
        {"~dict": []},
        {"~tuple": [[1]]},
        {"~nd": 0, "dtype": "<f8", "shape": [0]},
        {"~tuple": [{"~nd": 0, "dtype": "<f8", "shape": [0]}]},
    ):
        blobs = [b""] if "~nd" in json.dumps(key) else []
        assert_refused(frame({"~dict": [key, 1]}, blobs))


def test_colliding_dict_keys_are_refused_in_linear_time() -> None:
    modulus = 2**61 - 1  # every multiple of it hashes to 0
    keys = [{"~int": f"{i * modulus:x}"} for i in range(1, 50_000)]
    header = {"~dict": [part for key in keys for part in (key, 0)]}
    error = assert_refused(frame(header), peak_mb=30)
    assert "share a hash" in str(error)
    assert round_trip({i * modulus: i for i in range(wire.MAX_SAME_HASH)}) == {i * modulus: i for i in range(wire.MAX_SAME_HASH)}


def test_nan_is_a_value_never_a_crash() -> None:
    assert same(decode(frame(None, raw=b'{"~dict":[NaN,[NaN,-Infinity]]}')), {math.nan: [math.nan, -math.inf]})
    assert_refused(frame(None, raw=b'{"~nd":NaN,"dtype":"<f8","shape":[0]}'))
    assert_refused(frame(None, raw=b'{"~nd":0,"dtype":"<f8","shape":[NaN]}'))


def test_deep_nesting_is_refused() -> None:
    assert_refused(frame(None, raw=b"[" * 100_000 + b"]" * 100_000))
    assert_refused(frame(None, raw=b"[" * 200 + b"]" * 200))
    assert_refused(frame(None, raw=b'{"~tuple":' * 70 + b"[]" + b"}" * 70))


def test_headers_that_are_not_utf8_json_are_refused() -> None:
    for raw in (b"\xff\xfe", '"a"'.encode("utf-16"), b'"\x01"', b"nul", b"[1,]", b"1 2", b"\x00"):
        assert_refused(frame(None, raw=raw))


def test_decode_refuses_non_bytes() -> None:
    for data in ("text", None, 5, np.ones(3)):
        with pytest.raises(WireError):
            decode(data)  # type: ignore[arg-type]


# --- framing ---


def test_frames_cross_a_socket() -> None:
    left, right = socket.socketpair()
    with left, right:
        payload = encode({"x": np.arange(10)})
        wire.send_frame(left, payload)
        assert bytes(wire.recv_frame(right)) == payload
        wire.send_frame(left, b"x" * 100)
        with pytest.raises(WireError, match="at most 10"):
            wire.recv_frame(right, limit=10)
    left, right = socket.socketpair()
    with right:
        left.sendall(struct.pack("<Q", 100) + b"short")
        left.close()
        assert wire.recv_frame(right) is None


# --- property-based fuzzing ---


DTYPE_TEXTS = [
    "<f8",
    ">f8",
    "|b1",
    "<i4",
    "<u2",
    "<c16",
    "<f16",
    "<c32",
    "<f2",
    "V8",
    "S5",
    "U3",
    "O",
    "M8",
    "m8",
    "f8,f8",
    "(2,)f8",
    "|V0",
]
KEYS = st.sampled_from([*wire.TAGS, "dtype", "shape", "type", "text", "state", "v"]) | st.text(max_size=3)
SCALAR_JSON = (
    st.none()
    | st.booleans()
    | st.integers(-3, 3)
    | st.integers()
    | st.floats()
    | st.text(max_size=6)
    | st.sampled_from(DTYPE_TEXTS)
    | st.sampled_from(list(wire.BIT_GENERATORS))
)


def _tagged(inner: st.SearchStrategy) -> st.SearchStrategy:
    """Objects with one tag's exact keys and arbitrary values: they reach each tag's own checks."""
    return st.sampled_from(sorted(wire.TAGS)).flatmap(
        lambda tag: st.fixed_dictionaries({key: inner for key in sorted(wire.TAGS[tag])})
    )


JSON_VALUES = st.recursive(
    SCALAR_JSON,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=4) | _tagged(inner),
    max_leaves=16,
)


@FUZZ
@given(st.binary(max_size=200))
def test_arbitrary_bytes_only_raise_wire_error(data: bytes) -> None:
    try:
        assert_valid_text(decode(data))
    except WireError:
        pass


@FUZZ
@given(JSON_VALUES, st.lists(st.binary(max_size=40), max_size=4))
def test_arbitrary_headers_and_blobs_only_raise_wire_error(header: Any, blobs: list[bytes]) -> None:
    try:
        assert_valid_text(decode(frame(None, blobs, raw=json.dumps(header).encode())))
    except WireError:
        pass


NUMERIC_DTYPES = (
    nps.boolean_dtypes()
    | nps.integer_dtypes(endianness="?")
    | nps.unsigned_integer_dtypes(endianness="?")
    | nps.floating_dtypes(endianness="?")
    | nps.complex_number_dtypes(endianness="?")
)
LAYOUTS = [
    lambda a: a,
    np.transpose,
    np.asfortranarray,
    lambda a: a[::-1],
    lambda a: a[..., ::2],
    lambda a: a[..., ::-3],
    lambda a: a.T[::-1],
]
ARRAYS = st.builds(
    lambda arr, layout: layout(arr) if arr.ndim else arr,
    nps.arrays(NUMERIC_DTYPES, nps.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4)),
    st.sampled_from(LAYOUTS),
)
SCALARS = nps.arrays(NUMERIC_DTYPES, ()).map(lambda a: a[()]).filter(lambda x: not isinstance(x, np.bool_))
KEYS_PLAIN = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.text(max_size=5)
    | st.binary(max_size=5)
    | st.tuples(st.integers(), st.text(max_size=3))
)
LEAVES = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.complex_numbers()
    | st.text()
    | st.binary(max_size=20)
    | ARRAYS
    | SCALARS
    | st.builds(Handle, st.integers(0, 2**64), st.text(max_size=5), st.text(max_size=5))
)
VALUES = st.recursive(
    LEAVES,
    lambda inner: (
        st.lists(inner, max_size=4) | st.lists(inner, max_size=4).map(tuple) | st.dictionaries(KEYS_PLAIN, inner, max_size=4)
    ),
    max_leaves=12,
)


@FUZZ
@given(VALUES)
def test_generated_values_round_trip_exactly(value: Any) -> None:
    assert same(round_trip(value), value)


@FUZZ
@given(VALUES, st.data())
def test_corrupted_messages_only_raise_wire_error(value: Any, data: st.DataObject) -> None:
    raw = bytearray(encode(value))
    for _ in range(data.draw(st.integers(1, 3))):
        at = data.draw(st.integers(0, len(raw) - 1))
        action = data.draw(st.sampled_from(["flip", "cut", "insert"]))
        if action == "flip":
            raw[at] ^= data.draw(st.integers(1, 255))
        elif action == "cut":
            del raw[at : at + data.draw(st.integers(1, 8))]
        else:
            raw[at:at] = data.draw(st.binary(min_size=1, max_size=8))
        if not raw:
            raw = bytearray(b"\x00")
    try:
        assert_valid_text(decode(bytes(raw)))
    except WireError:
        pass


# ---------------------------------------------------------------- torch tensors cross by value

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("make", [
    lambda: torch.arange(12.0, dtype=torch.float64).reshape(3, 4).T,  # not contiguous
    lambda: torch.tensor(3),                                           # 0-d
    lambda: torch.zeros(0, 5, dtype=torch.int64),
    lambda: torch.tensor([True, False, True]),
    lambda: torch.randn(2, 3, dtype=torch.complex64),
    lambda: torch.randn(4, dtype=torch.float16),
    lambda: torch.nn.Parameter(torch.randn(2, 2)),                     # a parameter crosses as its values
    lambda: torch.randn(3, requires_grad=True) * 2,                    # gradient history stays behind
])  # fmt: skip
def test_tensors_cross_by_value_with_dtype_and_shape(make):
    sent = make()
    got = decode(encode(sent))
    assert type(got) is torch.Tensor and got.dtype == sent.dtype and got.shape == sent.shape
    assert torch.equal(got, sent.detach()) and not got.requires_grad and got.device.type == "cpu"


def test_large_tensors_and_state_dicts_cross_like_arrays_of_the_same_size():
    batch = torch.randn(8, 3, 32, 32)  # 98 KiB, over the decoder's slack
    state = torch.nn.Sequential(torch.nn.Conv2d(3, 32, 3), torch.nn.Conv2d(32, 64, 3)).state_dict()
    assert torch.equal(decode(encode(batch)), batch)
    got = decode(encode(state))
    assert list(got) == list(state) and all(torch.equal(got[k], state[k]) for k in state)


def test_tensors_inside_containers_and_beside_arrays():
    got = decode(encode({"w": torch.ones(2), "x": np.ones(2), "pair": (torch.zeros(1), 1.5)}))
    assert type(got["w"]) is torch.Tensor and type(got["x"]) is np.ndarray and type(got["pair"][0]) is torch.Tensor


def test_a_process_without_torch_gets_the_values_as_an_array(monkeypatch):
    message = encode(torch.arange(4, dtype=torch.int32))
    monkeypatch.delitem(sys.modules, "torch")
    got = decode(message)
    assert type(got) is np.ndarray and got.dtype == np.int32 and got.tolist() == [0, 1, 2, 3]


@pytest.mark.parametrize(("make", "message"), [
    (lambda: torch.ones(2, dtype=torch.bfloat16), "tensor.float()"),
    (lambda: torch.eye(3).to_sparse(), "tensor.to_dense()"),
])  # fmt: skip
def test_tensors_that_cannot_cross_say_what_to_send(make, message):
    with pytest.raises(WireError, match=message.replace("(", r"\(").replace(")", r"\)")):
        encode(make())


def test_a_forged_tensor_is_checked_like_an_array():
    good = encode(torch.ones(2, 2))
    forged = good.replace(b'"shape":[2,2]', b'"shape":[3,3]')
    with pytest.raises(WireError):
        decode(forged)
