"""Evaluation step of the reference workload: scores the trained model on the test split.

Writes evaluation.json in the model-metrics layout the SageMaker model registry shows
(`regression_metrics.rmse.value`, `regression_metrics.mae.value`), which the pipeline's condition
step reads with JsonGet and which is attached to the model package as its model quality metrics.
The metrics are in the label's unit: minutes for the trip duration model, dollars for the fare.

With MLflow tracking on (see tracking.py), it also logs `rmse` and `mae`, the values evaluation.json
holds, as metrics, and the training hyperparameters the pipeline passes as repeated
`--hyperparameter key=value` flags (num_round, max_depth, eta, ...) as params, under their own names.

The model is SageMaker's built-in XGBoost: a model.tar.gz holding `xgboost-model`. Loading it needs
the xgboost library, which the evaluation container provides; the metric code takes any predictor,
so it is tested here without xgboost.
"""

from __future__ import annotations

import argparse
import glob
import json
import logging
import math
import os
import sys
import tarfile
import tempfile
from typing import Callable, List, Optional, Tuple

import numpy as np
import pandas as pd

import tracking

LOG = logging.getLogger("evaluate")

Predictor = Callable[[np.ndarray], np.ndarray]


class EvaluationRejected(Exception):
    """The evaluation cannot run on this input; the message says why and what to do."""


def read_test_split(path: str) -> tuple:
    """Label (first column) and features of the test split written by preprocess, headerless CSV."""
    files = [path] if os.path.isfile(path) else sorted(glob.glob(os.path.join(path, "*.csv")))
    if not files:
        raise EvaluationRejected(f"no test split (.csv) found at {path}; run preprocess first")
    data = pd.concat([pd.read_csv(f, header=None) for f in files], ignore_index=True)
    if data.shape[0] == 0 or data.shape[1] < 2:
        raise EvaluationRejected(
            f"the test split at {path} has {data.shape[0]} rows and {data.shape[1]} columns; "
            "expected the label then at least one feature per row"
        )
    values = data.apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    if not np.isfinite(values).all():
        raise EvaluationRejected(f"the test split at {path} contains non-numeric or missing values")
    return values[:, 0], values[:, 1:]


def regression_metrics(y_true: np.ndarray, y_pred: np.ndarray) -> dict:
    """RMSE and MAE (with the spread of absolute errors) in the model registry's layout."""
    if y_true.shape != y_pred.shape:
        raise EvaluationRejected(f"{len(y_pred)} predictions for {len(y_true)} labels")
    errors = y_pred - y_true
    squared = errors**2
    absolute = np.abs(errors)
    return {
        "regression_metrics": {
            # RMSE has no per-row spread; "NaN" is what the registry's model-metrics examples write.
            "rmse": {"value": float(math.sqrt(squared.mean())), "standard_deviation": "NaN"},
            "mae": {"value": float(absolute.mean()), "standard_deviation": float(absolute.std())},
        },
        "rows": int(len(y_true)),
    }


def evaluate(test_path: str, predictor: Predictor, output_dir: str) -> dict:
    y_true, features = read_test_split(test_path)
    report = regression_metrics(y_true, np.asarray(predictor(features), dtype=float).reshape(-1))
    os.makedirs(output_dir, exist_ok=True)
    with open(os.path.join(output_dir, "evaluation.json"), "w", encoding="utf-8") as f:
        json.dump(report, f, indent=2, sort_keys=True)
    LOG.info("rmse %.4f, mae %.4f on %d rows", report["regression_metrics"]["rmse"]["value"],
             report["regression_metrics"]["mae"]["value"], report["rows"])
    return report


def load_xgboost_predictor(model_dir: str) -> Predictor:  # pragma: no cover - needs the xgboost container
    """The predictor of the built-in XGBoost model in `model_dir` (its model.tar.gz)."""
    import xgboost  # provided by the evaluation container

    archive = os.path.join(model_dir, "model.tar.gz")
    if not os.path.exists(archive):
        raise EvaluationRejected(f"no model.tar.gz in {model_dir}; pass the training step's model artifacts")
    extracted = tempfile.mkdtemp()
    with tarfile.open(archive) as tar:
        tar.extractall(extracted)
    booster = xgboost.Booster()
    booster.load_model(os.path.join(extracted, "xgboost-model"))
    return lambda features: booster.predict(xgboost.DMatrix(features))


def hyperparameter(text: str) -> Tuple[str, str]:
    """A `--hyperparameter key=value` flag's pair."""
    key, separator, value = text.partition("=")
    if not separator or not key.strip():
        raise argparse.ArgumentTypeError(f"expected key=value, such as num_round=200; got {text!r}")
    return key.strip(), value


def main(argv: Optional[List[str]] = None, predictor: Optional[Predictor] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="/opt/ml/processing/model")
    parser.add_argument("--test", default="/opt/ml/processing/test")
    parser.add_argument("--output", default="/opt/ml/processing/evaluation")
    parser.add_argument(
        "--hyperparameter",
        type=hyperparameter,
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a hyperparameter the model was trained with, logged to MLflow as a param (repeatable)",
    )
    tracking.add_arguments(parser)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    with tracking.StepRun(tracking.settings(args), "evaluate") as mlflow_run:
        mlflow_run.log_params(dict(args.hyperparameter))
        try:
            report = evaluate(args.test, predictor or load_xgboost_predictor(args.model), args.output)
        except EvaluationRejected as rejected:
            LOG.error("evaluation rejected: %s", rejected)
            mlflow_run.fail()
            return 2
        mlflow_run.log_metrics({name: report["regression_metrics"][name]["value"] for name in ("rmse", "mae")})
    return 0


if __name__ == "__main__":
    sys.exit(main())
