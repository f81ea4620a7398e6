"""``%kf dashboard`` in a kernel started by a JupyterLab with the extension."""

from __future__ import annotations

import pytest
from IPython.core.interactiveshell import InteractiveShell

from kernelflow.magics import dashboard


@pytest.fixture
def shell(tracking_uri):
    ip = InteractiveShell.instance()
    # The process-wide shell may be a terminal one (IPython's globalipapp, started by another
    # test), which formats only text/plain; a Lab kernel formats HTML too.
    active = ip.display_formatter.active_types
    ip.display_formatter.active_types = list(ip.display_formatter.formatters)
    ip.run_line_magic("load_ext", "kernelflow")
    yield ip
    ip.run_line_magic("unload_ext", "kernelflow")
    ip.display_formatter.active_types = active


@pytest.fixture
def in_lab(monkeypatch, tracking_uri):
    """The environment the Lab server extension gives its kernels."""
    monkeypatch.setenv("KERNELFLOW_LAB_DASHBOARD", "/user/ann/kernelflow/")
    monkeypatch.setenv("KERNELFLOW_LAB_STORE", tracking_uri)


def shown(shell, line: str, capsys) -> list:
    outputs = []
    shell.display_pub.publish = lambda data, **kw: outputs.append(data)
    shell.run_line_magic("kf", line)
    return outputs


def test_in_lab_it_links_to_the_same_origin_dashboard_and_starts_nothing(shell, in_lab, capsys):
    outputs = shown(shell, "dashboard", capsys)
    assert dashboard._processes == {}  # no server on another port
    link = outputs[0]["text/html"]
    assert 'href="/user/ann/kernelflow/"' in link and "data-kernelflow-lab" in link
    assert 'src="/user/ann/kernelflow/"' in outputs[1]["text/html"]  # the inline iframe


def test_no_iframe_shows_only_the_link(shell, in_lab, capsys):
    outputs = shown(shell, "dashboard --no-iframe", capsys)
    assert len(outputs) == 1 and "/user/ann/kernelflow/" in outputs[0]["text/html"]


def test_another_store_or_an_explicit_port_is_not_the_labs_dashboard(in_lab, monkeypatch,
                                                                     tmp_path, tracking_uri):
    assert dashboard.lab_dashboard() == "/user/ann/kernelflow/"
    assert dashboard.lab_dashboard(port=5005) is None
    assert dashboard.lab_dashboard(host="0.0.0.0") is None
    monkeypatch.setenv("KERNELFLOW_LAB_STORE", f"sqlite:///{tmp_path / 'other.db'}")
    assert dashboard.lab_dashboard() is None


def test_outside_lab_there_is_no_lab_dashboard(tracking_uri, monkeypatch):
    monkeypatch.delenv("KERNELFLOW_LAB_DASHBOARD", raising=False)
    assert dashboard.lab_dashboard() is None
