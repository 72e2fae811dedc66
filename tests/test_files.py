"""designer.model.files: input files are regular, bounded, UTF-8 and shallow, or one clear error."""

from __future__ import annotations

import os
import threading

import pytest

from designer.model.errors import InputError
from designer.model.files import MAX_BYTES, MAX_DEPTH, depth, read_json, read_text, read_toml


def test_reads_a_regular_utf8_file(tmp_path):
    p = tmp_path / "p.toml"
    p.write_text('[workload]\nmodel = "llama3.1-8b"  # µs, ü\n', encoding="utf-8")
    assert read_toml(p) == {"workload": {"model": "llama3.1-8b"}}


def test_a_utf8_byte_order_mark_is_read_past(tmp_path):
    p = tmp_path / "p.toml"
    p.write_bytes(b"\xef\xbb\xbfx = 1\n")
    assert read_toml(p) == {"x": 1}


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p.mkdir(), "is a folder"),
        (lambda p: os.mkfifo(p), "not a regular file"),
        (lambda p: os.symlink(p, p), "cannot open: Too many levels of symbolic links"),
        (lambda p: p.write_text("x = 1\n", encoding="utf-16"), "not UTF-8 text at byte 0"),
        (lambda p: p.write_bytes(b"x = 1\n\xff\xfe"), "not UTF-8 text at byte 6"),
        (lambda p: p.write_bytes(b"#" * (MAX_BYTES + 1)), "larger than 1 MiB"),
        (lambda p: None, "no such file"),
    ],
)
def test_special_files_are_one_line_errors(tmp_path, make, message):
    p = tmp_path / "p.toml"
    make(p)
    with pytest.raises(InputError) as info:
        read_toml(p, "a problem TOML")
    msg = str(info.value)
    assert msg.startswith(f"{p}: ") and message in msg and "(expected a problem TOML" in msg
    assert "\n" not in msg and info.value.exit_code == 2


def test_a_fifo_without_a_writer_does_not_block(tmp_path):
    p = tmp_path / "fifo"
    os.mkfifo(p)
    result = []
    t = threading.Thread(target=lambda: result.append(pytest.raises(InputError, read_text, p, "x")))
    t.start()
    t.join(5)
    assert not t.is_alive() and result


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/null"])
def test_devices_are_not_read(device):
    with pytest.raises(InputError, match=f"{device}: not a regular file"):
        read_text(device, "a problem TOML")


def test_a_nul_in_the_name_is_an_input_error():
    with pytest.raises(InputError, match="not a valid file name"):
        read_text("a\x00b.toml", "a problem TOML")


@pytest.mark.parametrize(
    "text",
    [
        "x = " + "[" * 100_000 + "]" * 100_000,  # tomllib recurses: RecursionError
        "x = " + "{a = " * 40 + "1" + "}" * 40,  # parses, then too deep
        ".".join(["a"] * 50_000) + " = 1",  # dotted keys: deep tables without brackets
    ],
)
def test_deep_toml_is_rejected(tmp_path, text):
    p = tmp_path / "deep.toml"
    p.write_text(text)
    with pytest.raises(InputError, match=f"nested more than {MAX_DEPTH} levels deep"):
        read_toml(p)


def test_an_integer_of_5000_digits_is_malformed_toml(tmp_path):
    p = tmp_path / "big.toml"
    p.write_text("x = " + "9" * 5000)
    with pytest.raises(InputError, match="malformed TOML"):
        read_toml(p)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"hidden_size": NaN}', "NaN is not a JSON number"),
        ('{"hidden_size": -Infinity}', "-Infinity is not a JSON number"),
        ("[" * 100_000 + "]" * 100_000, "nested more than"),
        ('{"a": ' * 40 + "1" + "}" * 40, "nested more than"),
        ('{"a": 1,}', "malformed JSON at line 1"),
    ],
)
def test_bad_json(tmp_path, text, message):
    p = tmp_path / "config.json"
    p.write_text(text)
    with pytest.raises(InputError, match=message):
        read_json(p)


def test_depth():
    assert depth(1) == 0
    assert depth({"a": [1, {"b": 2}]}) == 3
    assert depth([[[]]]) == 3
