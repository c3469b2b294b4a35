import ast
import logging
import os
import re
import shutil
import subprocess
import sys

import pytest

import evaluate
import preprocess
import run_step
import tracking
from test_preprocess import trips, write

ML = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
APP_ARN = "arn:aws:sagemaker:eu-west-1:111122223333:mlflow-app/app-ABC123"


@pytest.fixture
def events(monkeypatch):
    """What the launcher did, in order: pip runs (recorded, succeeding) and step calls (stubbed, exit 0)."""
    happened = []

    def pip(command, **options):
        happened.append(("pip", command, options))
        return subprocess.CompletedProcess(command, 0, "", "")

    monkeypatch.setattr(run_step.subprocess, "run", pip)
    for module in (preprocess, evaluate):
        monkeypatch.setattr(module, "main", lambda argv, name=module.__name__: happened.append((name, argv)) or 0)
    return happened


@pytest.mark.parametrize("step", ["preprocess", "evaluate"])
def test_the_step_gets_its_arguments_and_its_exit_code_is_the_launchers(monkeypatch, step):
    calls = []
    module = {"preprocess": preprocess, "evaluate": evaluate}[step]
    monkeypatch.setattr(module, "main", lambda argv: calls.append(argv) or 3)
    assert run_step.main([step, "--output", "/tmp/out", "--seed", "7"]) == 3
    assert calls == [["--output", "/tmp/out", "--seed", "7"]]


@pytest.mark.parametrize("argv, message", [(["train"], "unknown step 'train'"), ([], "no step given")])
def test_an_unknown_or_missing_step_exits_2_naming_the_steps(caplog, events, argv, message):
    assert run_step.main(argv) == 2
    assert message in caplog.text
    assert "run_step.py {preprocess,evaluate} [step arguments...]" in caplog.text
    assert events == []


def test_run_as_the_processing_jobs_run_it_from_the_extracted_code(tmp_path):
    # GIVEN ml/ as the code asset ships it (without tests), extracted elsewhere
    step_dir = tmp_path / "step"
    shutil.copytree(ML, step_dir, ignore=shutil.ignore_patterns("tests", "__pycache__", "*.pyc", ".pytest_cache"))
    launcher = [sys.executable, str(step_dir / "run_step.py")]
    # WHEN a step runs through the launcher, from another directory and without tracking
    done = subprocess.run(
        [*launcher, "preprocess", "--input", write(trips(100), tmp_path), "--output", str(tmp_path / "out")],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )
    # THEN it exits 0 with the step's outputs; an unknown step exits 2 with the message
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "out" / "train" / "train.csv").exists()
    unknown = subprocess.run([*launcher, "train"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert unknown.returncode == 2
    assert "unknown step 'train'" in unknown.stderr


@pytest.mark.parametrize("source", ["environment", "flag"])
def test_with_tracking_on_and_no_mlflow_the_pinned_client_is_installed_before_the_step(monkeypatch, events, source):
    # GIVEN a tracking URI and a Python without mlflow, as in the SageMaker images
    step_args = ["--input", "/data"]
    if source == "environment":
        monkeypatch.setenv("MLFLOW_TRACKING_URI", APP_ARN)
    else:
        step_args += ["--tracking-uri", APP_ARN]
    monkeypatch.setattr(run_step, "mlflow_importable", lambda: False)
    # WHEN the launcher runs preprocess
    assert run_step.main(["preprocess", *step_args]) == 0
    # THEN it first pip-installed requirements-step.txt into this Python, quietly and with a time limit
    (_, command, options), step = events
    assert command[:4] == [sys.executable, "-m", "pip", "install"]
    assert "--quiet" in command
    assert command[-2:] == ["-r", os.path.join(ML, "requirements-step.txt")]
    assert options["timeout"] == run_step.PIP_TIMEOUT_SECONDS and options["check"]
    assert step == ("preprocess", step_args)


@pytest.mark.parametrize("uri, importable", [(None, False), ("", False), (APP_ARN, True)])
def test_nothing_is_installed_without_tracking_or_when_mlflow_is_there(monkeypatch, events, uri, importable):
    if uri is not None:
        monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.setattr(run_step, "mlflow_importable", lambda: importable)
    assert run_step.main(["evaluate", "--test", "/test"]) == 0
    assert events == [("evaluate", ["--test", "/test"])]


@pytest.mark.parametrize("failure", ["missing requirements file", "timeout"])
def test_a_failed_install_warns_and_the_step_runs_without_tracking(tmp_path, monkeypatch, caplog, failure):
    # GIVEN tracking on, no mlflow in this Python, and a pip install that fails
    monkeypatch.setenv("MLFLOW_TRACKING_URI", (tmp_path / "mlruns").as_uri())
    monkeypatch.setattr(run_step, "mlflow_importable", lambda: False)

    def no_mlflow():
        raise ImportError("No module named 'mlflow'")

    monkeypatch.setattr(tracking, "_import_mlflow", no_mlflow)
    if failure == "missing requirements file":
        # the real pip, on a file that is not there: it fails at once, without the network
        monkeypatch.setattr(run_step, "REQUIREMENTS", str(tmp_path / "requirements-step.txt"))
    else:
        def too_slow(command, timeout, **options):
            raise subprocess.TimeoutExpired(command, timeout)

        monkeypatch.setattr(run_step.subprocess, "run", too_slow)
    # WHEN the launcher runs preprocess
    code = run_step.main(["preprocess", "--input", write(trips(100), tmp_path), "--output", str(tmp_path / "out")])
    # THEN the step succeeds with its outputs, after a warning for the install and one for tracking
    assert code == 0
    assert (tmp_path / "out" / "report" / "preprocessing.json").exists()
    warnings = [(r.name, r.getMessage()) for r in caplog.records if r.levelno == logging.WARNING]
    assert [name for name, _ in warnings] == ["run_step", "tracking"]
    reason = "pip exited with 1" if failure == "missing requirements file" else "pip did not finish within 300 s"
    assert reason in warnings[0][1] and "the step runs without tracking" in warnings[0][1]
    assert "No module named 'mlflow'" in warnings[1][1]


def test_the_containers_install_exact_pins_of_the_mlflow_client_and_the_sagemaker_plugin():
    with open(os.path.join(ML, "requirements-step.txt"), encoding="utf-8") as f:
        lines = [line.split("#")[0].strip() for line in f]
    pins = dict(line.split("==") for line in lines if line)
    assert set(pins) == {"mlflow-skinny", "sagemaker-mlflow"}
    assert all(re.fullmatch(r"\d+(\.\d+)+", version) for version in pins.values())


@pytest.mark.parametrize("name", ["run_step.py", "tracking.py", "preprocess.py", "evaluate.py"])
def test_the_step_code_parses_as_the_python_3_8_of_the_xgboost_image(name):
    with open(os.path.join(ML, name), encoding="utf-8") as f:
        source = f.read()
    ast.parse(source, feature_version=(3, 8))
    # Annotations such as list[str] would fail at import on 3.8 unless they stay unevaluated.
    assert "from __future__ import annotations" in source
