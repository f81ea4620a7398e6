"""%%kf run in a real ipykernel: live updates sent from the chart thread, failures, interrupts."""

from __future__ import annotations

import queue
import time

import pytest
from jupyter_client.manager import start_new_kernel

import kernelflow as kf

pytestmark = pytest.mark.notebook


@pytest.fixture
def kernel(kernel_env):
    km, kc = start_new_kernel(kernel_name="python3")
    try:
        run(kc, "import kernelflow as kf\n%load_ext kernelflow")
        yield km, kc
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def run(kc, code, timeout=60):
    """Execute code; return (reply content, iopub messages of this execution)."""
    msg_id = kc.execute(code)
    messages = []
    deadline = time.monotonic() + timeout
    while True:
        try:
            msg = kc.get_iopub_msg(timeout=max(0.1, deadline - time.monotonic()))
        except queue.Empty:
            raise AssertionError(f"no idle status within {timeout} s") from None
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        messages.append(msg)
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            break
    return reply_to(kc, msg_id, timeout)["content"], messages


def wait_idle(kc, msg_id, timeout=60):
    """Wait for the kernel's ``idle`` status after ``msg_id``: its handler has fully returned.

    ipykernel 6 sends the reply of a failed cell *before* it starts aborting the queue
    (``_abort_queues``); a request sent on the reply alone can land in that window and be
    answered ``aborted``. After ``idle``, the abort is set up and its end is queued first.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            msg = kc.get_iopub_msg(timeout=max(0.1, deadline - time.monotonic()))
        except queue.Empty:
            raise AssertionError(f"no idle status within {timeout} s") from None
        if (msg["parent_header"].get("msg_id") == msg_id and msg["msg_type"] == "status"
                and msg["content"]["execution_state"] == "idle"):
            return


def reply_to(kc, msg_id, timeout=60):
    """The shell reply to ``msg_id`` (skipping stray kernel_info replies from startup)."""
    while True:
        reply = kc.get_shell_msg(timeout=timeout)
        if reply["parent_header"].get("msg_id") == msg_id:
            return reply


def live_updates(messages):
    return [m["content"]["data"]["state"]["value"] for m in messages
            if m["msg_type"] == "comm_msg" and "kf-live" in
            m["content"]["data"].get("state", {}).get("value", "")]


def by_name(name):
    return next(r for r in kf.search_runs(output_format="list") if r.info.run_name == name)


def test_live_chart_updates_while_the_cell_runs(kernel):
    _, kc = kernel
    reply, messages = run(kc, (
        "%%kf run --name live-kernel\n"
        "import time\n"
        "for i in range(30):\n"
        "    kf.log_metric('loss', 1 / (i + 1), step=i)\n"
        "    time.sleep(0.1)\n"
    ))
    assert reply["status"] == "ok"
    updates = live_updates(messages)
    # The chart thread redrew at least once mid-run (fewer than 30 points), then the final state.
    assert any('data-points="30"' not in u and "RUNNING" in u for u in updates), updates
    assert 'data-points="30"' in updates[-1] and "FINISHED" in updates[-1]
    assert by_name("live-kernel").info.status == "FINISHED"


def test_failing_cell_in_kernel_then_next_run_works(kernel):
    _, kc = kernel
    reply, _ = run(kc, "%%kf run --name fails --no-live\nkf.log_metric('x', 1.0)\nraise RuntimeError('nope')")
    assert reply["status"] == "error" and reply["ename"] == "RuntimeError"
    reply, _ = run(kc, "%%kf run --name fine --no-live\nkf.log_metric('x', 2.0)")
    assert reply["status"] == "ok"
    assert by_name("fails").info.status == "FAILED"
    assert by_name("fine").info.status == "FINISHED"


def test_interrupted_cell_in_kernel_ends_killed(kernel):
    km, kc = kernel
    msg_id = kc.execute(
        "%%kf run --name interrupted\nimport time\n"
        "for i in range(600):\n    kf.log_metric('x', float(i), step=i)\n    time.sleep(0.05)"
    )
    # interrupt only once the loop is running (a loaded machine may take a while to get there)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        found = [r for r in kf.search_runs(output_format="list") if r.info.run_name == "interrupted"]
        if found and found[0].data.metrics.get("x", 0) > 0:
            break
        time.sleep(0.2)
    km.interrupt_kernel()
    reply = reply_to(kc, msg_id, timeout=30)
    assert reply["content"]["status"] == "error" and reply["content"]["ename"] == "KeyboardInterrupt"
    wait_idle(kc, msg_id)
    run_ = by_name("interrupted")
    assert run_.info.status == "KILLED"
    assert 0 < run_.data.metrics["x"] < 599
    reply, _ = run(kc, "%%kf run --name after-interrupt --no-live\npass")
    assert reply["status"] == "ok"


def test_syntax_error_in_kernel_reads_like_a_plain_cell(kernel):
    _, kc = kernel
    reply, messages = run(kc, "%%kf run --name syn --no-live\nx = (")
    assert reply["status"] == "error" and reply["ename"] == "SyntaxError"
    [error] = [m["content"] for m in messages if m["msg_type"] == "error"]
    shown = "\n".join(error["traceback"])
    assert "was never closed" in shown
    assert not [f for f in ("tracking.py", "ast.py", "run_cell_magic", "interactiveshell")
                if f in shown], shown
    assert by_name("syn").info.status == "FAILED"
    reply, _ = run(kc, "%%kf run --name after-syntax --no-live\npass")
    assert reply["status"] == "ok"
