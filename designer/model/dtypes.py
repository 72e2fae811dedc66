"""Storage data types: bytes per element, and the names a model's native dtype may be given in.

>>> dtype_bytes("mxfp4")
0.53125
>>> native_weight_dtype("bfloat16"), native_weight_dtype("fp8"), native_weight_dtype("float8_e5m2")
('bf16', 'fp8', None)
"""

from __future__ import annotations

from designer.model.errors import unknown

DTYPE_BYTES = {
    "fp32": 4.0,
    "bf16": 2.0,
    "fp16": 2.0,
    "fp8": 1.0,
    "int8": 1.0,
    "fp4": 0.5,
    "int4": 0.5,
    "mxfp4": 4.25 / 8,
}


def dtype_bytes(dtype: str, *, where: str | None = None, key: str | None = None) -> float:
    """Bytes per element of a storage dtype (mxfp4 counts its shared scales: 4.25 bits)."""
    if dtype not in DTYPE_BYTES:
        raise unknown("dtype", dtype, DTYPE_BYTES, where=where, key=key)
    return DTYPE_BYTES[dtype]


# a Hugging Face config's `torch_dtype` → the dtype of that name here (`native_dtype`)
NATIVE_DTYPES = {"bfloat16": "bf16", "float16": "fp16", "float32": "fp32", "float8_e4m3fn": "fp8"}


def native_weight_dtype(value: str) -> str | None:
    """The dtype a model's `native_dtype` (ours, or a `torch_dtype`) names; None for another
    word (a Hugging Face config's `torch_dtype` designer does not model, such as float64)."""
    name = NATIVE_DTYPES.get(value, value)
    return name if name in DTYPE_BYTES else None
