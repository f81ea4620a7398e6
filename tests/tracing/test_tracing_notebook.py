"""``%kf traces`` in a real IPython shell, and the span tree under the cell in a real kernel."""

from __future__ import annotations

import nbformat
import pytest

import kernelflow as kf

HOSTILE = '<img src=x onerror="alert(1)">'


@pytest.fixture
def shell(tracking_uri):
    from IPython.core.interactiveshell import InteractiveShell

    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "kernelflow")
    yield ip
    ip.run_line_magic("unload_ext", "kernelflow")


def _make_traces():
    @kf.trace(name=HOSTILE)
    def bad(x):
        with kf.start_span("child", span_type="TOOL") as s:
            s.set_outputs(HOSTILE)
        return x

    bad(1)
    with kf.start_span("good") as s:
        s.set_status("ERROR")
    kf.flush()


def test_kf_traces_lists_filters_and_shows_a_tree(shell):
    _make_traces()
    view = shell.run_line_magic("kf", "traces")
    assert len(view) == 2
    html = view._repr_html_()
    assert "&lt;img src=x" in html and "<img" not in html
    errors = shell.run_line_magic("kf", "traces --filter \"trace.status = 'ERROR'\"")
    assert [i.name for i in errors.infos] == ["good"]
    one = shell.run_line_magic("kf", "traces --max 1")
    assert len(one) == 1
    tree = shell.run_line_magic("kf", f"traces {kf.get_last_active_trace_id()}")
    assert "good" in repr(tree) and "kf-span" in tree._repr_html_()
    from IPython.core.error import UsageError

    with pytest.raises(UsageError, match="unknown trace attribute"):
        shell.run_line_magic("kf", "traces --filter \"trace.colour = 'x'\"")


def test_display_hook_is_on_after_load_ext_and_can_be_turned_off(shell):
    from kernelflow.tracing import notebook

    assert notebook.cell_display_enabled(shell)
    shell.run_line_magic("kf", "traces --display off")
    assert not notebook.cell_display_enabled(shell)
    shell.run_line_magic("kf", "traces --display on")
    assert notebook.cell_display_enabled(shell)


def test_trace_html_escapes_and_nests(tracking_uri):
    from kernelflow.tracing.display import span_order, trace_html

    _make_traces()
    trace = kf.search_traces(filter_string="trace.status = 'OK'", return_type="list")[0]
    html = trace_html([trace])
    assert HOSTILE not in html and "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in html
    assert [(s.name, d) for s, d in span_order(trace.data.spans)] == [(HOSTILE, 0), ("child", 1)]


@pytest.mark.notebook
def test_cell_shows_its_span_tree_under_it_in_a_real_kernel(tracking_uri, tmp_path, monkeypatch):
    from nbclient import NotebookClient

    monkeypatch.chdir(tmp_path)
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("%load_ext kernelflow\nimport kernelflow as kf"),
        nbformat.v4.new_code_cell(
            "@kf.trace(span_type='CHAIN')\n"
            f"def chain(q):\n    with kf.start_span({HOSTILE!r}, span_type='TOOL') as s:\n"
            "        s.set_inputs({'q': q})\n    return q * 2\n"
            "chain('ab')"),
        nbformat.v4.new_code_cell("1 + 1"),
    ]
    NotebookClient(nb, timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = nb.cells[1].outputs
    html = "".join(o.get("data", {}).get("text/html", "") for o in outputs)
    assert "kf-trace" in html and "chain" in html and "CHAIN" in html
    assert "&lt;img src=x" in html and HOSTILE not in html
    assert "&quot;q&quot;: &quot;ab&quot;" in html  # the inputs, inside the span's details
    assert not any("kf-trace" in o.get("data", {}).get("text/html", "")
                   for o in nb.cells[2].outputs)
    trace = kf.search_traces(return_type="list")[0]
    assert trace.info.trace_metadata["kernelflow.cell.execution_count"] == str(
        nb.cells[1].execution_count)


def test_a_trace_is_found_from_its_cell(shell):
    shell.run_cell("import kernelflow as kf\nwith kf.start_span('in-cell'): pass",
                   store_history=True, cell_id="cell-abc")
    count = shell.execution_count - 1
    kf.flush()
    [info] = kf.Client().search_traces(
        filter_string="metadata.`kernelflow.cell.id` = 'cell-abc'")
    assert info.name == "in-cell"
    assert info.trace_metadata["kernelflow.cell.execution_count"] == str(count)
