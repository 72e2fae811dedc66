"""`designer web` on the command line, without starting a server."""

from __future__ import annotations

import socket
import sys

import pytest

from designer.interface.cli import main, parser


def test_serves_loopback_unless_told_otherwise():
    args = parser().parse_args(["web"])
    assert (args.host, args.port) == ("127.0.0.1", 8765)
    args = parser().parse_args(["web", "--host", "0.0.0.0", "--port", "9000"])
    assert (args.host, args.port) == ("0.0.0.0", 9000)


def test_a_bad_port_is_bad_input(capsys):
    assert main(["web", "--port", "70000"]) == 2
    assert "--port" in capsys.readouterr().err


def test_without_the_web_extra_it_says_how_to_install_it(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "nicegui", None)  # import nicegui raises ImportError
    assert main(["web"]) == 2  # the design's codes: the command cannot run as asked (was 1)
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and 'pip install -e ".[web]"' in err


def test_a_port_in_use_is_bad_input(capsys):
    pytest.importorskip("nicegui")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["web", "--port", str(port)]) == 2
    err = capsys.readouterr().err
    assert f"cannot serve on 127.0.0.1:{port}" in err and err.count("\n") == 1


@pytest.mark.parametrize("host", ["999.1.1.1", "", "bad host", "-x"])
def test_a_bad_host_is_bad_input_with_or_without_the_extra(host, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "nicegui", None)
    assert main(["web", "--host", host]) == 2
    err = capsys.readouterr().err
    assert "--host" in err and err.count("\n") == 1
