"""autolog() before the framework is imported: patched on import, nothing imported early."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from kernelflow.autolog.hooks import when_imported


def test_callback_runs_now_for_an_imported_module():
    seen = []
    when_imported("json", lambda m: seen.append(m.__name__))
    assert seen == ["json"]


def test_callback_runs_after_a_later_import(tmp_path, monkeypatch):
    (tmp_path / "kf_later_mod.py").write_text("VALUE = 41\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    seen = []
    when_imported("kf_later_mod", lambda m: seen.append(m.VALUE + 1))
    assert seen == []
    import kf_later_mod  # noqa: F401

    assert seen == [42]
    monkeypatch.delitem(sys.modules, "kf_later_mod")


def test_autolog_first_then_import_sklearn(tmp_path):
    pytest.importorskip("sklearn")
    script = textwrap.dedent(
        f"""
        import sys, kernelflow
        kernelflow.set_tracking_uri({f"sqlite:///{tmp_path / 'k.db'}"!r})
        kernelflow.autolog(log_models=False)
        assert "sklearn" not in sys.modules
        from sklearn.datasets import load_iris
        from sklearn.tree import DecisionTreeClassifier
        DecisionTreeClassifier(max_depth=2).fit(*load_iris(return_X_y=True))
        run = kernelflow.last_active_run()
        print(kernelflow.get_run(run.info.run_id).data.params["max_depth"])
        """
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "2"


def test_patch_wraps_once_and_unpatch_restores_own_and_inherited_methods():
    from kernelflow.autolog.hooks import patch, unpatch

    class Base:
        def fit(self):
            return "base"

    class Own(Base):
        def fit(self):
            return "own"

    class Inherits(Base):
        pass

    saved: dict = {}
    calls = []

    def wrap(original):
        def fit(self):
            calls.append(type(self).__name__)
            return original(self)

        return fit

    for cls in (Own, Inherits, Own):
        patch(cls, wrap, saved)
    assert Own().fit() == "own" and Inherits().fit() == "base"
    assert calls == ["Own", "Inherits"]  # wrapped once each
    unpatch(saved)
    assert "fit" not in Inherits.__dict__ and Own.fit.__name__ == "fit"
    assert Own().fit() == "own" and Inherits().fit() == "base" and len(calls) == 2
    assert saved == {}
