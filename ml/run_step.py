"""Launcher of the reference workload's steps in their SageMaker processing containers.

    python3 run_step.py {preprocess,evaluate} [step arguments...]

The pipeline ships this directory as one zip, extracts it to /tmp/step and runs this script with the
step's name and arguments; the step's exit code becomes the job's (2: the input was rejected, or the
step is unknown).

SageMaker's scikit-learn and XGBoost images have no mlflow. When MLflow tracking is on
(MLFLOW_TRACKING_URI, or the step's --tracking-uri) and mlflow is not importable, the client pinned
in requirements-step.txt is pip-installed into the container's Python first. Tracking must never
make a training run fail: if that install fails or times out, a warning is logged and the step runs
without tracking.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import os
import subprocess
import sys
import time
from typing import List, Optional

HERE = os.path.dirname(os.path.abspath(__file__))
# Run as a script this directory is on sys.path already; imported (as the tests do) it may not be.
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import tracking  # noqa: E402 - after the sys.path set-up above

LOG = logging.getLogger("run_step")

STEPS = ["preprocess", "evaluate"]
USAGE = f"python3 run_step.py {{{','.join(STEPS)}}} [step arguments...]"
REQUIREMENTS = os.path.join(HERE, "requirements-step.txt")
PIP_TIMEOUT_SECONDS = 300


def mlflow_importable() -> bool:
    return importlib.util.find_spec("mlflow") is not None


def install_tracking_client(requirements: str, timeout_seconds: float) -> bool:
    """pip-installs the MLflow client into this Python; on failure, warns and returns False."""
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--no-input", "--disable-pip-version-check"]
    command += ["-r", requirements]
    started = time.monotonic()
    try:
        subprocess.run(command, check=True, timeout=timeout_seconds, capture_output=True, text=True)
    except subprocess.CalledProcessError as failed:
        reason = f"pip exited with {failed.returncode}: {last_line(failed.stderr)}"
    except subprocess.TimeoutExpired:
        reason = f"pip did not finish within {timeout_seconds:.0f} s"
    except OSError as error:
        reason = f"pip could not run: {error}"
    else:
        # The import system caches directory listings; the new packages must be found in this process.
        importlib.invalidate_caches()
        LOG.info("installed the MLflow client from %s in %.0f s", requirements, time.monotonic() - started)
        return True
    LOG.warning(
        "could not install the MLflow client from %s (%s); the step runs without tracking", requirements, reason
    )
    return False


def last_line(output: Optional[str]) -> str:
    lines = [line.strip() for line in (output or "").splitlines() if line.strip()]
    return lines[-1] if lines else "no output"


def main(argv: Optional[List[str]] = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if not argv or argv[0] not in STEPS:
        given = f"unknown step {argv[0]!r}" if argv else "no step given"
        LOG.error("%s; usage: %s", given, USAGE)
        return 2
    step, step_args = argv[0], argv[1:]
    if tracking.settings_from_argv(step_args).enabled and not mlflow_importable():
        install_tracking_client(REQUIREMENTS, PIP_TIMEOUT_SECONDS)
    # Imported only now: a step's module imports pandas, which the unknown-step path does not need.
    return importlib.import_module(step).main(step_args)


if __name__ == "__main__":
    sys.exit(main())
