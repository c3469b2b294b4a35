import json
import logging
import socket

import numpy as np
import pytest
from mlflow.tracking import MlflowClient

import evaluate
import preprocess
import tracking
from test_preprocess import trips, write

EXPERIMENT = "reference-workload-pipeline"
HYPERPARAMETERS = {"objective": "reg:squarederror", "num_round": "200", "max_depth": "6", "eta": "0.2"}


@pytest.fixture
def store(tmp_path, monkeypatch):
    """A local MLflow file store, named by the environment as the pipeline names the MLflow App."""
    uri = (tmp_path / "mlruns").as_uri()
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.setenv("MLFLOW_EXPERIMENT_NAME", EXPERIMENT)
    return uri


def runs_of(uri, experiment=EXPERIMENT):
    client = MlflowClient(tracking_uri=uri)
    found = client.get_experiment_by_name(experiment)
    return client.search_runs([found.experiment_id]) if found else []


def trips_with_a_bad_timestamp():
    df = trips(300)
    df.loc[0, "tpep_pickup_datetime"] = "not a date"
    return df


def run_preprocess(tmp_path, *flags, name="prep"):
    input_dir = write(trips_with_a_bad_timestamp(), tmp_path)
    return preprocess.main(["--input", input_dir, "--output", str(tmp_path / name), *flags])


def run_evaluate(tmp_path, *flags, test_dir=None):
    hyperparameter_flags = [flag for k, v in HYPERPARAMETERS.items() for flag in ("--hyperparameter", f"{k}={v}")]
    paths = ["--test", str(test_dir or tmp_path / "prep" / "test"), "--output", str(tmp_path / "eval")]
    # A constant prediction: what is logged must equal evaluation.json, whatever the model.
    return evaluate.main([*paths, *hyperparameter_flags, *flags], predictor=lambda features: np.full(len(features), 12.0))


def read_json(path):
    return json.loads(path.read_text())


def tracking_warnings(caplog):
    return [r.getMessage() for r in caplog.records if r.name == "tracking" and r.levelno == logging.WARNING]


def test_preprocess_and_evaluate_of_one_execution_log_what_they_wrote_to_one_run(tmp_path, store, monkeypatch):
    # GIVEN the environment the pipeline gives both steps of one execution
    monkeypatch.setenv("PIPELINE_EXECUTION_ID", "exec-1")
    # WHEN preprocess, then evaluate with the training step's hyperparameters, run
    assert run_preprocess(tmp_path, "--seed", "7") == 0
    assert run_evaluate(tmp_path) == 0
    # THEN one run of the pipeline's experiment, named and tagged after the execution, holds both
    (run,) = runs_of(store)
    assert run.data.tags[tracking.EXECUTION_TAG] == "exec-1"
    assert run.info.run_name == "exec-1"
    assert run.info.status == "FINISHED"
    # with the options and hyperparameters as params
    assert run.data.params == {
        "preprocess.min_duration_minutes": "1.0",
        "preprocess.max_duration_minutes": "60.0",
        "preprocess.max_trip_distance": "100.0",
        "preprocess.validation_fraction": "0.15",
        "preprocess.test_fraction": "0.15",
        "preprocess.seed": "7",
        "preprocess.target": "duration",
        **HYPERPARAMETERS,
    }
    # and as metrics exactly what preprocessing.json and evaluation.json hold; reasons that dropped
    # nothing are logged as 0
    report = read_json(tmp_path / "prep" / "report" / "preprocessing.json")
    evaluation = read_json(tmp_path / "eval" / "evaluation.json")["regression_metrics"]
    assert report["dropped"]["unparseable_timestamp"] == 1 and "negative_duration" not in report["dropped"]
    assert run.data.metrics == {
        "rows_read": report["rows_read"],
        "rows_kept": report["rows_kept"],
        "rows_dropped.unparseable_timestamp": 1,
        "rows_dropped.missing_or_non_numeric_value": report["dropped"].get("missing_or_non_numeric_value", 0),
        "rows_dropped.negative_duration": 0,
        "rows_dropped.duration_out_of_range": report["dropped"].get("duration_out_of_range", 0),
        "rows_dropped.trip_distance_out_of_range": report["dropped"].get("trip_distance_out_of_range", 0),
        "rows_train": report["splits"]["train"],
        "rows_validation": report["splits"]["validation"],
        "rows_test": report["splits"]["test"],
        "rmse": evaluation["rmse"]["value"],
        "mae": evaluation["mae"]["value"],
    }


def test_each_execution_gets_a_run_of_its_own_and_a_retried_step_logs_to_it_again(tmp_path, store, monkeypatch):
    # GIVEN preprocess runs for execution a, for execution b, then again for a (a retried execution)
    for execution in ["exec-a", "exec-b", "exec-a"]:
        monkeypatch.setenv("PIPELINE_EXECUTION_ID", execution)
        assert run_preprocess(tmp_path, name=execution) == 0
    # THEN there are two runs, one per execution id
    runs = {run.data.tags[tracking.EXECUTION_TAG]: run for run in runs_of(store)}
    assert sorted(runs) == ["exec-a", "exec-b"]
    # and the retry logged to a's run again rather than to a run of its own
    history = MlflowClient(tracking_uri=store).get_metric_history(runs["exec-a"].info.run_id, "rows_read")
    assert [m.value for m in history] == [300, 300]
    assert all(run.info.status == "FINISHED" for run in runs.values())


def test_flags_name_the_store_and_a_step_without_an_execution_id_logs_to_a_run_of_its_own(tmp_path):
    # GIVEN no tracking environment, only the step's flags (a step run by hand)
    uri = (tmp_path / "mlruns").as_uri()
    flags = ["--tracking-uri", uri, "--experiment-name", "by-hand"]
    # WHEN preprocess and evaluate run
    assert run_preprocess(tmp_path, *flags) == 0
    assert run_evaluate(tmp_path, *flags) == 0
    # THEN the flags' experiment has one untagged run per step
    runs = runs_of(uri, "by-hand")
    evaluate_run, preprocess_run = sorted(runs, key=lambda run: "rows_read" in run.data.metrics)
    assert set(evaluate_run.data.metrics) == {"rmse", "mae"}
    assert "rmse" not in preprocess_run.data.metrics and "rows_read" in preprocess_run.data.metrics
    assert not any(tracking.EXECUTION_TAG in run.data.tags for run in runs)


def test_flags_win_over_the_environment_and_an_empty_tracking_uri_means_no_tracking():
    environ = {
        "MLFLOW_TRACKING_URI": "arn:aws:sagemaker:eu-west-1:111122223333:mlflow-app/app-ABC123",
        "MLFLOW_EXPERIMENT_NAME": "reference-pipeline",
        "PIPELINE_EXECUTION_ID": "a1b2c3d4e5f6",
    }
    from_environment = tracking.settings_from_argv(["--input", "/data"], environ)
    assert from_environment == tracking.Settings(environ["MLFLOW_TRACKING_URI"], "reference-pipeline", "a1b2c3d4e5f6")
    flags = ["--input", "/data", "--tracking-uri", "file:/tmp/mlruns", "--experiment-name", "mine"]
    assert tracking.settings_from_argv(flags, environ) == tracking.Settings("file:/tmp/mlruns", "mine", "a1b2c3d4e5f6")
    assert not tracking.settings_from_argv(["--tracking-uri", ""], environ).enabled
    assert tracking.settings_from_argv([], {"MLFLOW_TRACKING_URI": " "}) == tracking.Settings(None, "reference-workload", None)


@pytest.mark.parametrize("uri", [None, "", "  "])
def test_without_a_tracking_uri_the_steps_never_touch_mlflow(tmp_path, monkeypatch, caplog, uri):
    # GIVEN no tracking URI (unset or empty), and an mlflow import that records being asked for
    if uri is not None:
        monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.setenv("PIPELINE_EXECUTION_ID", "exec-1")
    imported = []
    monkeypatch.setattr(tracking, "_import_mlflow", lambda: imported.append("mlflow"))
    # WHEN both steps run
    assert run_preprocess(tmp_path) == 0
    assert run_evaluate(tmp_path) == 0
    # THEN they wrote their outputs, without importing mlflow or warning
    assert (tmp_path / "eval" / "evaluation.json").exists()
    assert imported == []
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("kind", ["unreachable server", "unsupported scheme"])
def test_an_unreachable_or_unusable_tracking_uri_only_warns(tmp_path, monkeypatch, caplog, kind):
    # GIVEN a tracking URI no run can be logged to
    uri = f"http://127.0.0.1:{closed_port()}" if kind == "unreachable server" else "nosuchscheme://tracking"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.setenv("PIPELINE_EXECUTION_ID", "exec-1")
    # WHEN both steps run
    assert run_preprocess(tmp_path) == 0
    assert run_evaluate(tmp_path) == 0
    # THEN they succeed with their outputs, and each warns once that tracking is off
    assert (tmp_path / "prep" / "train" / "train.csv").exists()
    assert (tmp_path / "eval" / "evaluation.json").exists()
    warnings = tracking_warnings(caplog)
    assert len(warnings) == 2
    assert "off for the rest of the preprocess step: could not start the run" in warnings[0]
    assert "off for the rest of the evaluate step: could not start the run" in warnings[1]


def test_a_value_mlflow_refuses_midway_only_warns_and_the_step_still_succeeds(tmp_path, store, monkeypatch, caplog):
    # GIVEN an execution whose preprocess logged seed 1
    monkeypatch.setenv("PIPELINE_EXECUTION_ID", "exec-1")
    assert run_preprocess(tmp_path, "--seed", "1", name="first") == 0
    # WHEN a second preprocess of the same execution uses seed 2 (MLflow params cannot change in a run)
    assert run_preprocess(tmp_path, "--seed", "2", name="second") == 0
    # THEN it still wrote its outputs; tracking warned and stopped, leaving the first values in place
    assert (tmp_path / "second" / "report" / "preprocessing.json").exists()
    (warning,) = tracking_warnings(caplog)
    assert "could not log params" in warning
    (run,) = runs_of(store)
    assert run.data.params["preprocess.seed"] == "1"


def test_a_rejected_evaluation_exits_2_and_leaves_the_run_failed(tmp_path, store, monkeypatch):
    monkeypatch.setenv("PIPELINE_EXECUTION_ID", "exec-1")
    (tmp_path / "empty").mkdir()
    assert run_evaluate(tmp_path, test_dir=tmp_path / "empty") == 2
    (run,) = runs_of(store)
    assert run.info.status == "FAILED"
    assert run.data.params == HYPERPARAMETERS
    assert run.data.metrics == {}


@pytest.mark.parametrize("flag", ["num_round", "=200"])
def test_a_hyperparameter_flag_without_key_and_value_is_a_usage_error(tmp_path, flag, capsys):
    with pytest.raises(SystemExit) as exited:
        evaluate.main(["--test", str(tmp_path), "--hyperparameter", flag], predictor=lambda f: f[:, 0])
    assert exited.value.code == 2
    assert "expected key=value" in capsys.readouterr().err


def test_the_run_is_tagged_with_the_retrain_reason(tmp_path, store, monkeypatch):
    # GIVEN an execution the retrain trigger started, with its reason
    monkeypatch.setenv("PIPELINE_EXECUTION_ID", "exec-7")
    monkeypatch.setenv("RETRAIN_REASON", "alarm trip-duration-drift entered ALARM")
    assert run_preprocess(tmp_path) == 0
    (run,) = runs_of(store)
    assert run.data.tags[tracking.RETRAIN_REASON_TAG] == "alarm trip-duration-drift entered ALARM"
