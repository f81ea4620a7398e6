"""Reproducibility capture: git state, packages, notebook path, run annotations."""

from __future__ import annotations

import subprocess
import sys

import pytest

import kernelflow as kf
from kernelflow import capture


def git(cwd, *args):
    subprocess.run(["git", "-C", str(cwd), *args], check=True, capture_output=True)


@pytest.fixture
def repo(tmp_path):
    path = tmp_path / "repo"
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    git(path, "config", "user.email", "t@example.com")
    git(path, "config", "user.name", "t")
    (path / "train.py").write_text("print(1)\n")
    git(path, "add", "train.py")
    git(path, "commit", "-qm", "first")
    return path


def test_git_info_clean_then_dirty(repo):
    info = capture.git_info(str(repo))
    head = subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True,
                          text=True).stdout.strip()
    assert info[capture.GIT_COMMIT] == head
    assert info[capture.GIT_DIRTY] == "false"
    assert info[capture.GIT_BRANCH] == "main"
    (repo / "train.py").write_text("print(2)\n")
    assert capture.git_info(str(repo))[capture.GIT_DIRTY] == "true"


def test_git_info_outside_repo_is_empty(tmp_path):
    assert capture.git_info(str(tmp_path)) == {}


def test_installed_packages_is_cached_and_lists_this_environment():
    first = capture.installed_packages()
    assert any(line.lower().startswith("ipython==") for line in first)
    assert first == sorted(first, key=lambda line: line.split("==")[0].lower())
    assert capture.installed_packages() is first  # nothing changed on sys.path


def test_notebook_path_sources(monkeypatch, shell):
    monkeypatch.delenv(capture.NOTEBOOK_PATH_ENV, raising=False)
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    shell.user_ns.pop("__vsc_ipynb_file__", None)
    shell.user_ns.pop("__session__", None)
    assert capture.notebook_path(shell) is None
    monkeypatch.setenv("JPY_SESSION_NAME", "/work/a.ipynb")
    assert capture.notebook_path(shell) == "/work/a.ipynb"
    shell.user_ns["__vsc_ipynb_file__"] = "/vs/b.ipynb"
    assert capture.notebook_path(shell) == "/vs/b.ipynb"
    monkeypatch.setenv(capture.NOTEBOOK_PATH_ENV, "/runs/c.ipynb")
    assert capture.notebook_path(shell) == "/runs/c.ipynb"
    shell.user_ns.pop("__vsc_ipynb_file__")


def test_capture_run_records_everything(shell, repo, monkeypatch):
    nb = repo / "analysis.ipynb"
    nb.write_text("{}")
    monkeypatch.setenv(capture.NOTEBOOK_PATH_ENV, str(nb))
    shell.run_cell("a = 1", store_history=True)
    with kf.start_run() as run:
        tags = capture.capture_run(run.info.run_id, "a = 2", 7, shell)
    got = kf.get_run(run.info.run_id)
    for key in (capture.SOURCE_NAME, capture.GIT_COMMIT, capture.GIT_DIRTY, capture.PYTHON_VERSION,
                capture.EXECUTION_COUNT):
        assert got.data.tags[key] == tags[key]
    assert tags[capture.SOURCE_NAME] == str(nb)
    assert tags[capture.GIT_DIRTY] == "false"  # untracked files (the notebook) do not count
    assert tags[capture.PYTHON_VERSION] == ".".join(map(str, sys.version_info[:3]))
    assert tags[capture.EXECUTION_COUNT] == "7"
    client = kf.Client()
    names = {f.path for f in client.list_artifacts(run.info.run_id, "code")}
    assert names == {"code/cell.py"}  # the session's history only when asked for


def test_capture_run_records_session_history_when_asked(shell):
    shell.run_cell("a = 1", store_history=True)
    with kf.start_run() as run:
        capture.capture_run(run.info.run_id, "a = 2", 7, shell, history=True)
    history = open(kf.Client().download_artifacts(run.info.run_id, "code/history.py")).read()
    assert "a = 1" in history and "# In[" in history


def _code_artifacts(run_id):
    return {f.path for f in kf.Client().list_artifacts(run_id, "code")}


def _last_run():
    return kf.search_runs(output_format="list")[0]


def test_run_cell_records_its_cell_not_the_session_by_default(shell):
    shell.run_cell("secret = 'earlier cell'", store_history=True)
    shell.run_cell("%%kf run --no-live\nx = 1", store_history=True)
    assert _code_artifacts(_last_run().info.run_id) == {"code/cell.py"}


def test_run_cell_history_flag_records_the_session(shell):
    shell.run_cell("earlier = 1", store_history=True)
    shell.run_cell("%%kf run --no-live --history\nx = 1", store_history=True)
    run_id = _last_run().info.run_id
    history = open(kf.Client().download_artifacts(run_id, "code/history.py")).read()
    assert "earlier = 1" in history


def test_capture_history_on_then_off(shell, capsys):
    shell.run_line_magic("kf", "capture history on")
    assert "history capture is on" in capsys.readouterr().out
    shell.run_cell("%%kf run --no-live\nx = 1", store_history=True)
    assert "code/history.py" in _code_artifacts(_last_run().info.run_id)
    shell.run_line_magic("kf", "capture history off")
    shell.run_cell("%%kf run --no-live\nx = 2", store_history=True)
    assert _code_artifacts(_last_run().info.run_id) == {"code/cell.py"}
    shell.run_line_magic("kf", "capture on")  # the cell hook keeps its short form
    assert "cell capture is on" in capsys.readouterr().out
    shell.run_line_magic("kf", "status")
    assert "history capture: off" in capsys.readouterr().out


@pytest.mark.parametrize("url, clean", [
    ("https://user:token@github.com/org/repo.git", "https://github.com/org/repo.git"),
    ("https://ghp_abc123@github.com/org/repo.git", "https://github.com/org/repo.git"),
    ("ssh://git:pw@host:2222/repo.git", "ssh://host:2222/repo.git"),
    ("https://github.com/org/repo.git", "https://github.com/org/repo.git"),
    ("git@github.com:org/repo.git", "git@github.com:org/repo.git"),
])
def test_redact_url(url, clean):
    assert capture.redact_url(url) == clean


def test_git_remote_url_is_stored_without_credentials(repo):
    git(repo, "remote", "add", "origin", "https://ana:s3cr3t@example.com/org/repo.git")
    info = capture.git_info(str(repo))
    assert info[capture.GIT_REPO_URL] == "https://example.com/org/repo.git"
    assert "s3cr3t" not in "".join(info.values())


def test_capture_in_plain_python_is_local(monkeypatch):
    monkeypatch.delenv(capture.NOTEBOOK_PATH_ENV, raising=False)
    monkeypatch.setattr(capture, "_shell", lambda shell=None: None)
    tags = capture.source_tags()
    assert tags[capture.SOURCE_TYPE] == "LOCAL"
