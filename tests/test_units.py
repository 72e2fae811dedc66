"""designer.model.units: pint parsing with information as its own dimension."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from designer.model.errors import InputError
from designer.model.units import (
    KINDS,
    MAX_MAGNITUDE,
    MIN_MAGNITUDE,
    format_quantity,
    parse,
    registry,
)


@pytest.mark.parametrize(
    ("text", "kind", "expected"),
    [
        # decimal vs binary prefixes
        ("3.35 TB/s", "bandwidth", 3.35e12),
        ("4 TiB/s", "bandwidth", 4 * 2**40),
        ("8TiB/s", "bandwidth", 8 * 2**40),
        ("819 GB/s", "bandwidth", 819e9),
        ("80 GB", "information", 80e9),
        ("96 GiB", "information", 96 * 2**30),
        ("512 MiB", "information", 512 * 2**20),
        ("230 MB", "information", 230e6),
        # bits vs bytes
        ("1.8 Tb/s", "bandwidth", 225e9),
        ("100 Gbit/s", "bandwidth", 12.5e9),
        ("1 Gb", "information", 125e6),
        ("8 bit", "information", 1.0),
        # time
        ("0.2 us", "time", 0.2e-6),
        ("0.2 µs", "time", 0.2e-6),  # micro sign U+00B5
        ("0.2 μs", "time", 0.2e-6),  # Greek mu U+03BC
        ("2.25 us", "time", 2.25e-6),
        ("5 ns", "time", 5e-9),
        ("2 ms", "time", 2e-3),
        # compute
        ("2.25 PFLOPS", "compute", 2.25e15),
        ("989 TFLOPS", "compute", 989e12),
        ("989 TFLOP/s", "compute", 989e12),
        ("393 TOPS", "compute", 393e12),
        # energy per information: J/B
        ("4 pJ/bit", "energy_per_information", 32e-12),
        ("0.7 pJ/bit", "energy_per_information", 5.6e-12),
        # power, area, power density
        ("700 W", "power", 700.0),
        ("23 kW", "power", 23e3),
        ("1 MW", "power", 1e6),
        ("814 mm^2", "area", 814e-6),
        ("1 W/mm^2", "power_density", 1e6),
        # dimensionless: bare numbers and strings
        ("0.9", "dimensionless", 0.9),
        (0.9, "dimensionless", 0.9),
        (3, "dimensionless", 3.0),
    ],
)
def test_parse_values(text, kind, expected):
    assert parse(text, kind) == pytest.approx(expected, rel=1e-12)


def test_decimal_and_binary_terabytes_differ():
    dec = parse("4 TB/s", "bandwidth")
    binary = parse("4 TiB/s", "bandwidth")
    assert binary / dec == pytest.approx(2**40 / 1e12, rel=1e-12)
    assert binary - dec == pytest.approx(4 * (2**40 - 1e12), rel=1e-12)


def test_bit_is_one_eighth_of_a_byte():
    assert parse("8 Tb/s", "bandwidth") == pytest.approx(parse("1 TB/s", "bandwidth"), rel=1e-12)
    assert parse("1 B", "information") == 1.0


@pytest.mark.parametrize(
    ("text", "kind", "dimension"),
    [
        ("3.35 GB", "bandwidth", "[information]"),
        ("4 TB", "bandwidth", "[information]"),
        ("5 s", "bandwidth", "[time]"),
        ("2 GB/s/s", "bandwidth", "[information] / [time] ** 2"),
        ("3 TFLOPS", "bandwidth", "[compute] / [time]"),
        ("5 m", "time", "[length]"),
        ("96 GiB/s", "information", "[information] / [time]"),
        ("700 W", "compute", "[length]"),
    ],
)
def test_wrong_dimension_names_file_and_key(text, kind, dimension):
    with pytest.raises(InputError) as info:
        parse(text, kind, where="catalogs/chips.toml", key="h100-sxm.memory_bandwidth")
    msg = str(info.value)
    assert msg.startswith("catalogs/chips.toml: h100-sxm.memory_bandwidth: ")
    assert f"expected a {KINDS[kind].noun}" in msg  # 'a memory size', not 'a information'
    assert repr(text) in msg
    assert "[" in msg  # the dimension found is reported
    assert info.value.where == "catalogs/chips.toml"
    assert info.value.key == "h100-sxm.memory_bandwidth"
    assert info.value.exit_code == 2


@pytest.mark.parametrize("kind", ["bandwidth", "information", "time", "compute", "power"])
@pytest.mark.parametrize("value", [5, 3.35, 0])
def test_bare_number_for_dimensioned_kind_is_an_error(kind, value):
    with pytest.raises(InputError, match="bare number") as info:
        parse(value, kind, where="p.toml", key="limits.max_power")
    assert str(info.value).startswith("p.toml: limits.max_power: ")
    assert KINDS[kind].example in str(info.value)


@pytest.mark.parametrize("value", ["3.35 TB/ss", "abc", "", "4 TiB/s/", "4 TB/s)", "GB"])
def test_malformed_string_is_an_error(value):
    with pytest.raises(InputError) as info:
        parse(value, "bandwidth", where="chips.toml", key="x.memory_bandwidth")
    assert str(info.value).startswith("chips.toml: x.memory_bandwidth: ")


@pytest.mark.parametrize("value", ["4,5 TB/s", "1..2 TB/s", "4 4 TB/s"])
def test_ambiguous_number_is_an_error(value):
    with pytest.raises(InputError):
        parse(value, "bandwidth", where="chips.toml", key="x.memory_bandwidth")


@pytest.mark.parametrize("value", [True, False, None, [1, "TB/s"], {"v": 1}])
def test_non_string_non_number_is_an_error(value):
    with pytest.raises(InputError, match="expected a bandwidth"):
        parse(value, "bandwidth", key="k")


def test_bool_is_not_a_dimensionless_number():
    with pytest.raises(InputError):
        parse(True, "dimensionless")


def test_where_only_and_key_only_prefixes():
    with pytest.raises(InputError) as a:
        parse("1 s", "bandwidth", where="f.toml")
    assert str(a.value).startswith("f.toml: expected")
    with pytest.raises(InputError) as b:
        parse("1 s", "bandwidth", key="--set x")
    assert str(b.value).startswith("--set x: expected")


@pytest.mark.parametrize(("value", "kind"), [("nan TB/s", "bandwidth"), ("1e400 B", "information")])
def test_non_finite_quantity_is_an_error(value, kind):
    with pytest.raises(InputError):
        parse(value, kind, where="chips.toml", key="x.memory_bandwidth")


def test_format_quantity_round_trip():
    assert format_quantity(4 * 2**40, "B/s", "TiB/s") == "4 TiB/s"
    assert format_quantity(3.35e12, "B/s", "TB/s") == "3.35 TB/s"


@given(st.floats(min_value=1e-6, max_value=1e9, allow_nan=False, allow_infinity=False))
def test_gigabytes_property(x):
    assert math.isclose(parse(f"{x} GB", "information"), x * 1e9, rel_tol=1e-12)
    assert math.isclose(parse(f"{x} GiB", "information"), x * 2**30, rel_tol=1e-12)
    assert math.isclose(parse(f"{x} Gb/s", "bandwidth"), x * 1e9 / 8, rel_tol=1e-12)


# ---- issue 7: exactly a number and a unit, checked before pint evaluates anything -------------
@pytest.mark.parametrize(
    "value",
    [
        "1 us * 9**9**9",  # pint would evaluate this power tower forever
        "1 W % 2",  # pint: 0.02 W
        "114 us # x",  # pint: 114 µs, the comment dropped
        "2**10 B",
        "1 W^9",
        "(1 us",
        "1 us)",
        "0x10 W",
        "1_000 W",
        "1 W; import os",
        "__import__('os')",
        "1 " + "k" * 3000 + "W",
        "9" * 400 + " W",
        "½ W",
    ],
)
def test_expressions_are_not_quantities(value):
    with pytest.raises(InputError, match="expected one number and a unit") as info:
        parse(value, "power", where="p.toml", key="limits.max_power")
    assert len(str(info.value)) < 200  # a short excerpt of a long value


@pytest.mark.parametrize(
    ("value", "expected"),
    [("1e999 W", "finite"), ("1e31 W", "between"), ("1e-400 W", "between"), ("1e-31 s", "between")],
)
def test_magnitudes_are_bounded(value, expected):
    with pytest.raises(InputError, match=expected):
        parse(value, "power" if value.endswith("W") else "time", key="k")


@pytest.mark.parametrize(
    ("value", "message"),
    [(math.nan, "finite"), (math.inf, "finite"), (1e300, "between"), (10**400, "finite")],
)
def test_bare_dimensionless_numbers_are_bounded(value, message):
    with pytest.raises(InputError, match=f"expected a {message}|dimensionless between"):
        parse(value, "dimensionless", key="k")


@pytest.mark.parametrize(
    ("text", "kind", "expected"),
    [
        ("1 W / mm^2", "power_density", 1e6),
        ("0 W", "power", 0.0),
        ("-0.5 us", "time", -0.5e-6),
        ("1e30 W", "power", 1e30),
        ("100 Gbit / s", "bandwidth", 12.5e9),
        ("5 kW", "power", 5e3),
    ],
)
def test_plain_quantities_still_parse(text, kind, expected):
    assert parse(text, kind) == pytest.approx(expected, rel=1e-12)


@given(st.text(alphabet="0123456789.eE+-*/%#^() usWkMGTBbiflopsa_", max_size=30))
def test_any_short_text_parses_or_is_an_input_error(text):
    try:
        value = parse(text, "power")
    except InputError:
        return
    assert math.isfinite(value)


@given(
    st.sampled_from([k for k in KINDS.values() if "*" not in k.unit]),
    st.floats(allow_nan=False, allow_infinity=False),
)
def test_a_number_in_its_kinds_own_unit_is_pints_number(kind, x):
    """'<x> <the kind's unit>' (what catalog.scale_value writes) is parsed without pint: the
    number pint's conversion gives, since that conversion is the identity."""
    assert float(registry().Quantity(x, kind.unit).to(kind.unit).magnitude) == x
    text = f"{x!r} {kind.unit}".strip()
    if x == 0 or MIN_MAGNITUDE <= abs(x) <= MAX_MAGNITUDE:
        assert parse(text, kind.name) == x
    else:
        with pytest.raises(InputError, match="between"):
            parse(text, kind.name)
