"""Artifacts: files, folders, text, dicts, images, figures, tables; path safety."""

from __future__ import annotations

import json
import os

import pytest

import kernelflow as kf
from kernelflow.errors import InvalidParameterError, ResourceNotFoundError


def _run_dir(run_id):
    return kf.get_run(run_id).info.artifact_uri


def test_log_artifact_and_artifacts(tracking_uri, tmp_path):
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    (src / "a.txt").write_text("A")
    (src / "sub" / "b.txt").write_text("B")
    with kf.start_run() as run:
        kf.log_artifact(str(src / "a.txt"))
        kf.log_artifact(str(src / "a.txt"), "copies")
        kf.log_artifacts(str(src), "tree")
    c = kf.Client()
    names = [(f.path, f.is_dir) for f in c.list_artifacts(run.info.run_id)]
    assert names == [("copies", True), ("tree", True), ("a.txt", False)]
    assert [f.path for f in c.list_artifacts(run.info.run_id, "tree/sub")] == ["tree/sub/b.txt"]
    local = c.download_artifacts(run.info.run_id, "tree/sub/b.txt", str(tmp_path / "dl"))
    assert open(local).read() == "B"


def test_log_text_dict_table(tracking_uri):
    import pandas as pd
    with kf.start_run() as run:
        kf.log_text("hello", "notes/hello.txt")
        kf.log_dict({"a": 1}, "config.json")
        kf.log_dict({"a": 1}, "config.yaml")
        kf.log_table(pd.DataFrame({"x": [1, 2], "y": ["a", "b"]}), "table.json")
    root = _run_dir(run.info.run_id)
    assert open(os.path.join(root, "notes/hello.txt")).read() == "hello"
    assert json.load(open(os.path.join(root, "config.json"))) == {"a": 1}
    assert "a: 1" in open(os.path.join(root, "config.yaml")).read()
    assert json.load(open(os.path.join(root, "table.json"))) == {
        "columns": ["x", "y"], "data": [[1, "a"], [2, "b"]]}


def test_log_image_and_figure(tracking_uri):
    import numpy as np
    pytest.importorskip("PIL")
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ax.plot([1, 2, 3])
    with kf.start_run() as run:
        kf.log_image(np.zeros((8, 8, 3), dtype=np.uint8), "img/black.png")
        kf.log_image(np.ones((4, 4)) * 0.5, "img/grey.png")
        kf.log_figure(fig, "plot.png")
        with pytest.raises(InvalidParameterError, match="shape"):
            kf.log_image(np.zeros((2, 2, 7)), "bad.png")
        with pytest.raises(InvalidParameterError, match=r"\[0, 1\]"):
            kf.log_image(np.ones((2, 2)) * 3.0, "bad.png")
    root = _run_dir(run.info.run_id)
    for name in ("img/black.png", "img/grey.png", "plot.png"):
        assert open(os.path.join(root, name), "rb").read(4) == b"\x89PNG"


@pytest.mark.parametrize("bad", ["../escape", "/etc", "a/../../b"])
def test_artifact_paths_cannot_leave_the_run(tracking_uri, tmp_path, bad):
    f = tmp_path / "f.txt"
    f.write_text("x")
    with kf.start_run():
        with pytest.raises(InvalidParameterError, match="not allowed"):
            kf.log_artifact(str(f), bad)


def test_symlink_out_of_the_run_is_refused(tracking_uri, tmp_path):
    with kf.start_run() as run:
        kf.log_text("x", "inside.txt")
    root = _run_dir(run.info.run_id)
    os.symlink(tmp_path, os.path.join(root, "link"))
    with pytest.raises(InvalidParameterError, match="leaves"):
        kf.Client().download_artifacts(run.info.run_id, "link")


def test_missing_file_is_a_clear_error(tracking_uri):
    with kf.start_run():
        with pytest.raises(ResourceNotFoundError, match="no such file"):
            kf.log_artifact("/definitely/not/here.txt")


def test_unwritable_artifact_root_is_a_clear_error(tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the artifact root should be")
    monkeypatch.setenv("KERNELFLOW_ARTIFACT_ROOT", str(blocker))
    kf.set_tracking_uri(f"sqlite:///{tmp_path}/k.db")
    try:
        with kf.start_run() as run:
            kf.log_metric("m", 1.0)
            with pytest.raises(kf.StoreError, match="KERNELFLOW_ARTIFACT_ROOT"):
                kf.log_text("x", "a.txt")
        assert kf.get_run(run.info.run_id).data.metrics == {"m": 1.0}
    finally:
        import kernelflow.config as config

        config._tracking_uri = None
        kf.client.reset_default_client()


def test_empty_experiment_name_is_a_clear_error(tracking_uri):
    with pytest.raises(InvalidParameterError, match="name is empty"):
        kf.set_experiment("")
