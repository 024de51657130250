"""The worker's tuning: bounded concurrency, and the workflow modules' bytecode written once so the
sandbox's per-run import does not compile their source."""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path

import pytest

from waakvlam.worker import (
    MAX_ACTIVITIES,
    MAX_LOCAL_ACTIVITIES,
    MAX_WORKFLOW_TASKS,
    compile_workflow_modules,
)


def test_concurrency_is_bounded_well_below_the_sdk_defaults() -> None:
    assert MAX_WORKFLOW_TASKS <= 32 and MAX_LOCAL_ACTIVITIES <= 32 and MAX_ACTIVITIES <= 64


def test_the_bytecode_of_a_workflow_module_and_its_package_is_written_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "wvpkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "flows.py").write_text("class SomeWorkflow:\n    pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(sys, "dont_write_bytecode", True)  # as with PYTHONDONTWRITEBYTECODE=1
    module = importlib.import_module("wvpkg.flows")
    try:
        written = compile_workflow_modules([module.SomeWorkflow])
        assert sorted(p.name.split(".")[0] for p in written) == ["__init__", "flows"]
        assert all(p.exists() for p in written)
        assert compile_workflow_modules([module.SomeWorkflow]) == []  # up to date: nothing again
    finally:
        for name in ("wvpkg.flows", "wvpkg"):
            sys.modules.pop(name, None)


def test_a_cache_newer_than_its_source_but_of_another_version_is_written_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A copied tree (or an unpacked image) can hold a cache file newer than its source that
    records another source time: the import system would compile the source at every import."""
    source = tmp_path / "wvcopied.py"
    source.write_text("class Copied:\n    pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    module = importlib.import_module("wvcopied")
    try:
        [cache] = compile_workflow_modules([module.Copied])
        os.utime(source, (1_000_000_000, 1_000_000_000))  # the source as copied: another time
        assert cache.stat().st_mtime > source.stat().st_mtime
        assert compile_workflow_modules([module.Copied]) == [cache]
        assert compile_workflow_modules([module.Copied]) == []
    finally:
        sys.modules.pop("wvcopied", None)


def test_a_module_whose_cache_cannot_be_written_is_skipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "wvflat.py").write_text("class Flat:\n    pass\n")
    (tmp_path / "__pycache__").write_text("not a directory")  # the cache cannot go there
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    module = importlib.import_module("wvflat")
    try:
        assert compile_workflow_modules([module.Flat]) == []
    finally:
        sys.modules.pop("wvflat", None)


def test_only_the_trajectory_runs_outside_the_sandbox() -> None:
    """One trajectory per youth: the sandbox's import for each new run and its context around every
    activation cost a third of the worker's time per new trajectory (issue 8). The others are few
    and stay inside it; tests/workflows/test_determinism.py guards the trajectory."""
    from temporalio.workflow import _Definition

    from waakvlam.worker import workflows
    from workflows.trajectory import TrajectoryWorkflow

    sandboxed = {cls.__name__: _Definition.must_from_class(cls).sandboxed for cls in workflows()}
    assert sandboxed.pop(TrajectoryWorkflow.__name__) is False
    assert sandboxed and all(sandboxed.values())


async def test_the_sandbox_reloads_the_trajectory_module_but_passes_its_helpers_through(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """As the determinism tests run it: trajectory.py's own lines checked, its helpers shared."""
    from importlib._bootstrap_external import _LoaderBasics  # type: ignore[import-not-found]

    from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner
    from temporalio.workflow import _Definition

    from tests.workflows.sandboxed_trajectory import SandboxedTrajectoryWorkflow

    loaded: list[str] = []
    original = _LoaderBasics.exec_module

    def recording(self: object, module: object) -> None:
        loaded.append(getattr(module, "__name__", "?"))
        original(self, module)

    monkeypatch.setattr(_LoaderBasics, "exec_module", recording)
    SandboxedWorkflowRunner().prepare_workflow(
        _Definition.must_from_class(SandboxedTrajectoryWorkflow)
    )
    assert "workflows.trajectory" in loaded  # the workflow module itself: fresh for every run
    assert not {"workflows.agenda", "workflows.branches"} & set(loaded)
