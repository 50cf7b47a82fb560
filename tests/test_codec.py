"""The one codec of the Python side (codec.py): non-finite numbers as the strings of the design."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest

from gradtrace.codec import decode, decode_number, encode, encode_number


@pytest.mark.parametrize("value", [
    0.0, -1.5, math.inf, -math.inf, math.nan, [1.0, math.inf], [[math.nan, 2.0], [-math.inf, 0.0]],
])
def test_encode_decode_round_trip(value: Any) -> None:
    a = np.asarray(value, dtype=np.float64)
    data = encode(a)
    text = json.dumps(data, allow_nan=False)
    back = decode(json.loads(text))
    np.testing.assert_array_equal(back, a)  # NaN == NaN for assert_array_equal


def test_encode_uses_the_strings_of_the_design() -> None:
    assert encode(np.asarray([math.inf, -math.inf, math.nan])) == ["Infinity", "-Infinity", "NaN"]
    assert encode(None) is None


@pytest.mark.parametrize(("x", "text"), [
    (1.5, 1.5), (math.inf, "Infinity"), (-math.inf, "-Infinity"), (math.nan, "NaN")])
def test_numbers_round_trip(x: float, text: Any) -> None:
    assert encode_number(x) == text
    back = decode_number(text)
    assert back == x or (math.isnan(back) and math.isnan(x))


def test_an_unknown_spelling_is_refused() -> None:
    with pytest.raises(KeyError):
        decode_number("inf")
