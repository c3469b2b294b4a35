"""MLflow tracking of the reference workload's steps: one MLflow run per SageMaker pipeline execution.

The pipeline gives each processing job MLFLOW_TRACKING_URI (the SageMaker MLflow App's ARN, which
the sagemaker-mlflow plugin resolves and signs requests for), MLFLOW_EXPERIMENT_NAME (the pipeline's
name) and PIPELINE_EXECUTION_ID. A step's --tracking-uri and --experiment-name flags win over the
first two; an empty --tracking-uri turns tracking off.

The first step of an execution creates its run, named after the execution id and tagged with it
(`sagemaker.pipeline.execution_id`); later steps, and retries, find the run by that tag and log to
it. A step re-opens the run while it works and leaves it FINISHED, or FAILED when the step failed.
Without an execution id (a step run by hand) each step logs to a run of its own.

Without a tracking URI nothing here imports or calls MLflow. Tracking never fails a step: any error
(mlflow not installed, an unreachable or misconfigured server, a value MLflow refuses) is logged as
a warning and tracking stays off for the rest of the step, so an unreachable server costs one
bounded wait rather than one per call.
"""

from __future__ import annotations

import argparse
import logging
import os
import time
from dataclasses import dataclass
from typing import Callable, List, Mapping, Optional

LOG = logging.getLogger("tracking")

TRACKING_URI_ENV = "MLFLOW_TRACKING_URI"
EXPERIMENT_NAME_ENV = "MLFLOW_EXPERIMENT_NAME"
EXECUTION_ID_ENV = "PIPELINE_EXECUTION_ID"
# Why the execution runs (the pipeline's RetrainReason parameter): a tag of the run it creates.
RETRAIN_REASON_ENV = "RETRAIN_REASON"
RETRAIN_REASON_TAG = "retrain_reason"
EXECUTION_TAG = "sagemaker.pipeline.execution_id"
DEFAULT_EXPERIMENT = "reference-workload"

# MLflow waits up to 120 s per attempt, over five or more attempts with exponential backoff, so a
# server that does not answer could hold a step for over ten minutes. 30 s per attempt bounds that to
# about four and keeps the retries that ride out rate limiting. The environment still wins.
HTTP_DEFAULTS = {"MLFLOW_HTTP_REQUEST_TIMEOUT": "30"}


@dataclass(frozen=True)
class Settings:
    tracking_uri: Optional[str] = None
    experiment_name: str = DEFAULT_EXPERIMENT
    execution_id: Optional[str] = None

    @property
    def enabled(self) -> bool:
        return bool(self.tracking_uri)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The tracking flags every step takes."""
    parser.add_argument(
        "--tracking-uri",
        help=f"MLflow tracking URI or SageMaker MLflow ARN (default: ${TRACKING_URI_ENV}; empty: no tracking)",
    )
    parser.add_argument(
        "--experiment-name", help=f"MLflow experiment (default: ${EXPERIMENT_NAME_ENV}, else {DEFAULT_EXPERIMENT})"
    )


def settings(args: Optional[argparse.Namespace] = None, environ: Optional[Mapping[str, str]] = None) -> Settings:
    """The tracking settings: the step's flags where given, else the environment."""
    environ = os.environ if environ is None else environ

    def pick(flag: Optional[str], variable: str) -> Optional[str]:
        value = getattr(args, flag, None) if flag else None
        if value is None:
            value = environ.get(variable)
        return (value or "").strip() or None

    return Settings(
        tracking_uri=pick("tracking_uri", TRACKING_URI_ENV),
        experiment_name=pick("experiment_name", EXPERIMENT_NAME_ENV) or DEFAULT_EXPERIMENT,
        execution_id=pick(None, EXECUTION_ID_ENV),
    )


def settings_from_argv(argv: List[str], environ: Optional[Mapping[str, str]] = None) -> Settings:
    """The tracking settings of a step's command line, whatever its other arguments."""
    parser = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    add_arguments(parser)
    args, _ = parser.parse_known_args(argv)
    return settings(args, environ)


def _import_mlflow():
    """The mlflow package, imported only once tracking is on: the containers install it on demand."""
    import mlflow
    import mlflow.entities
    import mlflow.tracking

    return mlflow


class StepRun:
    """The execution's MLflow run as one step logs to it. Use it as a context manager; it never raises."""

    def __init__(self, settings: Settings, step: str) -> None:
        self.settings = settings
        self.step = step
        self.run_id: Optional[str] = None
        self._mlflow = None
        self._client = None
        self._failed = False

    @property
    def active(self) -> bool:
        """Whether this step's params and metrics still reach MLflow."""
        return self._client is not None

    def __enter__(self) -> "StepRun":
        if self.settings.enabled:
            try:
                self._start()
            except Exception as error:  # whatever MLflow raises: tracking never fails the step
                self._stop("start the run", error)
        return self

    def __exit__(self, exc_type, exc, traceback) -> None:
        status = "FAILED" if self._failed or exc_type is not None else "FINISHED"
        self._guard("end the run", lambda client, _: client.set_terminated(self.run_id, status=status))

    def fail(self) -> None:
        """The step failed: the run ends FAILED."""
        self._failed = True

    def log_params(self, params: Mapping[str, object]) -> None:
        def log(client, entities) -> None:
            client.log_batch(self.run_id, params=[entities.Param(k, str(v)) for k, v in params.items()])

        if params:
            self._guard("log params", log)

    def log_metrics(self, metrics: Mapping[str, float]) -> None:
        def log(client, entities) -> None:
            now = int(time.time() * 1000)
            client.log_batch(self.run_id, metrics=[entities.Metric(k, float(v), now, 0) for k, v in metrics.items()])

        if metrics:
            self._guard("log metrics", log)

    def _start(self) -> None:
        mlflow = _import_mlflow()
        for name, value in HTTP_DEFAULTS.items():
            os.environ.setdefault(name, value)
        # The sagemaker-mlflow plugin signs requests for the process-wide tracking URI, not the
        # client's, so a URI given by flag must become the process-wide one too.
        mlflow.set_tracking_uri(self.settings.tracking_uri)
        client = mlflow.tracking.MlflowClient(tracking_uri=self.settings.tracking_uri)
        experiment_id = _experiment_id(client, self.settings.experiment_name)
        execution_id = self.settings.execution_id
        run = _execution_run(client, experiment_id, execution_id) if execution_id else None
        if run is None:
            tags = {EXECUTION_TAG: execution_id} if execution_id else {}
            reason = os.environ.get(RETRAIN_REASON_ENV)
            if reason:
                tags[RETRAIN_REASON_TAG] = reason
            run = client.create_run(experiment_id, tags=tags, run_name=execution_id)
        else:
            client.update_run(run.info.run_id, status="RUNNING")
        self._mlflow, self._client, self.run_id = mlflow, client, run.info.run_id
        LOG.info("%s logs to MLflow run %s of experiment %r", self.step, self.run_id, self.settings.experiment_name)

    def _guard(self, what: str, action: Callable[[object, object], object]) -> None:
        if self._client is None:
            return
        try:
            action(self._client, self._mlflow.entities)
        except Exception as error:  # whatever MLflow raises: tracking never fails the step
            self._stop(what, error)

    def _stop(self, what: str, error: Exception) -> None:
        LOG.warning("MLflow tracking is off for the rest of the %s step: could not %s: %s", self.step, what, error)
        self._client = None


def _experiment_id(client, name: str) -> str:
    experiment = client.get_experiment_by_name(name)
    return experiment.experiment_id if experiment is not None else client.create_experiment(name)


def _execution_run(client, experiment_id: str, execution_id: str):
    """The run of the execution, if an earlier step (or an earlier try of this one) created it."""
    runs = client.search_runs(
        [experiment_id],
        filter_string=f"tags.`{EXECUTION_TAG}` = '{execution_id}'",
        max_results=1,
        order_by=["attributes.start_time ASC"],
    )
    return runs[0] if runs else None
