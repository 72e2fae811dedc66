"""The one TOML writer: whatever it writes, tomllib reads back as the same value."""

from __future__ import annotations

import math
import tomllib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from designer.model import toml_text

scalars = (
    st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


@given(st.dictionaries(st.text(), values, max_size=5))
def test_what_is_written_reads_back(table):
    text = "".join(f"{toml_text.key(k)} = {toml_text.value(v)}\n" for k, v in table.items())
    assert tomllib.loads(text) == table


@pytest.mark.parametrize("bad", [math.inf, -math.inf, math.nan])
def test_a_number_that_is_not_finite_is_refused(bad):
    with pytest.raises(ValueError, match="not a finite number"):
        toml_text.value([1.0, bad])


def test_fixed_decimals_where_a_file_wants_them():
    assert toml_text.value([0.5, 1 / 3], float_format="{:.4f}") == "[0.5000, 0.3333]"
