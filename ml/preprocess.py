"""Preprocessing step of the reference workload: NYC taxi trips, for one of two regressions.

`--target duration` (the default) predicts the trip duration in minutes; `--target fare_amount`
predicts the fare in dollars (the TLC `fare_amount` column, then required), with the duration as
one more feature. Fares that are missing, not numeric, at most 0 or above `--max-fare` (500) are
dropped and counted (`missing_or_non_numeric_fare`, `fare_out_of_range`).

Reads TLC trip records (CSV, plain or gzipped; yellow `tpep_*` or green `lpep_*` timestamps), cleans
them, derives the trip duration in minutes, drops outliers, builds numeric features, splits
train/validation/test, and writes:

- train/validation/test CSVs in the built-in XGBoost layout: label first, no header;
- baseline/baseline.json: per-feature distributions of the training split, which the drift job
  compares captured inference data against, with `feature_order`, the model's input columns in
  order;
- report/preprocessing.json: rows read, kept and dropped per reason.

With MLflow tracking on (see tracking.py), it also logs its options as params (`preprocess.seed`,
`preprocess.min_duration_minutes`, ...: prefixed, as MLflow params cannot change within a run and
training's hyperparameters have a `seed` of their own) and the report as metrics: `rows_read`,
`rows_kept`, `rows_dropped.<reason>` for every reason (0 when none) and `rows_<split>`.

Malformed rows (unparseable timestamps, negative or out-of-range durations, missing values) are
dropped and counted, never fatal. Input that cannot be processed at all (missing required columns,
no rows left) is rejected with a clear message and exit code 2, without a traceback.
"""

from __future__ import annotations

import argparse
import glob
import json
import logging
import os
import sys
import warnings
from dataclasses import asdict, dataclass, field
from typing import Dict, List, Optional

import numpy as np
import pandas as pd

import tracking

LOG = logging.getLogger("preprocess")

LABEL = "duration"
NUMERIC_FEATURES = ["trip_distance", "pickup_hour", "pickup_weekday"]
CATEGORICAL_FEATURES = ["PULocationID", "DOLocationID"]
FEATURES = NUMERIC_FEATURES + CATEGORICAL_FEATURES
# The second model on the same trips: the fare, in dollars. The duration is one more feature: the
# fare is charged at drop-off, when the duration is known.
FARE_LABEL = "fare_amount"
FARE_NUMERIC_FEATURES = NUMERIC_FEATURES + [LABEL]
FARE_FEATURES = FARE_NUMERIC_FEATURES + CATEGORICAL_FEATURES
TARGETS = [LABEL, FARE_LABEL]
REQUIRED_COLUMNS = ["PULocationID", "DOLocationID", "trip_distance"]
# Written as whole numbers in the training data.
INTEGER_COLUMNS = ["pickup_hour", "pickup_weekday", "PULocationID", "DOLocationID"]
TIMESTAMP_PREFIXES = ["tpep", "lpep"]
# Why `clean` drops rows, in the order it checks.
DROP_REASONS = [
    "unparseable_timestamp",
    "missing_or_non_numeric_value",
    "negative_duration",
    "duration_out_of_range",
    "trip_distance_out_of_range",
]
# The fare target checks the fare after everything above.
FARE_DROP_REASONS = DROP_REASONS + ["missing_or_non_numeric_fare", "fare_out_of_range"]

BASELINE_SCHEMA_VERSION = 1
NUMERIC_BINS = 10
TOP_CATEGORIES = 50


class InputRejected(Exception):
    """The input as a whole cannot be processed; the message says why and what to do."""


@dataclass
class Options:
    min_duration_minutes: float = 1.0
    max_duration_minutes: float = 60.0
    max_trip_distance: float = 100.0
    validation_fraction: float = 0.15
    test_fraction: float = 0.15
    seed: int = 42
    target: str = LABEL
    max_fare: float = 500.0

    @property
    def label(self) -> str:
        return self.target

    @property
    def numeric_features(self) -> List[str]:
        return FARE_NUMERIC_FEATURES if self.target == FARE_LABEL else NUMERIC_FEATURES

    @property
    def features(self) -> List[str]:
        """The model's input columns, in order."""
        return FARE_FEATURES if self.target == FARE_LABEL else FEATURES

    @property
    def drop_reasons(self) -> List[str]:
        return FARE_DROP_REASONS if self.target == FARE_LABEL else DROP_REASONS

    def params(self) -> Dict[str, object]:
        """The options as MLflow params; the fare limit only for the fare target, which uses it."""
        params = asdict(self)
        if self.target != FARE_LABEL:
            del params["max_fare"]
        return params


@dataclass
class Report:
    rows_read: int = 0
    rows_kept: int = 0
    dropped: Dict[str, int] = field(default_factory=dict)
    splits: Dict[str, int] = field(default_factory=dict)
    # Of rows_read, how many came from the production data, and how many of those were kept.
    production_rows_read: int = 0
    production_rows_kept: int = 0

    def drop(self, reason: str, count: int) -> None:
        if count:
            self.dropped[reason] = self.dropped.get(reason, 0) + int(count)

    def as_json(self) -> dict:
        """The report; without production rows, exactly as before there was production data."""
        body = dict(self.__dict__)
        if not self.production_rows_read:
            del body["production_rows_read"], body["production_rows_kept"]
        return body


def timestamp_columns(columns: List[str]) -> tuple:
    """The pickup and dropoff column names for yellow (tpep) or green (lpep) trip records."""
    for prefix in TIMESTAMP_PREFIXES:
        pickup, dropoff = f"{prefix}_pickup_datetime", f"{prefix}_dropoff_datetime"
        if pickup in columns and dropoff in columns:
            return pickup, dropoff
    raise InputRejected(
        "missing pickup/dropoff timestamps: expected tpep_pickup_datetime and tpep_dropoff_datetime "
        "(yellow taxi) or lpep_pickup_datetime and lpep_dropoff_datetime (green taxi); "
        f"found columns {sorted(columns)}"
    )


def parse_timestamps(values: pd.Series) -> pd.Series:
    """TLC's `YYYY-MM-DD HH:MM:SS` first (fast, exact), then any other date format; else NaT."""
    parsed = pd.to_datetime(values, format="%Y-%m-%d %H:%M:%S", errors="coerce")
    rest = parsed.isna() & values.notna()
    if rest.any():
        with warnings.catch_warnings():
            # Per-element fallback parsing warns about the missing format; that is the point here.
            warnings.simplefilter("ignore")
            parsed[rest] = pd.to_datetime(values[rest], errors="coerce")
    return parsed


def clean(raw: pd.DataFrame, options: Options, report: Report) -> pd.DataFrame:
    """Derives the duration and features; drops malformed and outlier rows, counting each reason."""
    report.rows_read += len(raw)
    if options.target not in TARGETS:
        raise InputRejected(f"target {options.target!r} is unknown: use one of {TARGETS}")
    required = REQUIRED_COLUMNS + ([FARE_LABEL] if options.target == FARE_LABEL else [])
    missing = [c for c in required if c not in raw.columns]
    if missing:
        raise InputRejected(
            f"missing required columns {missing}: TLC trip records need {required} "
            "plus pickup/dropoff timestamps"
        )
    pickup_col, dropoff_col = timestamp_columns(list(raw.columns))

    df = pd.DataFrame(
        {
            "pickup": parse_timestamps(raw[pickup_col]),
            "dropoff": parse_timestamps(raw[dropoff_col]),
            "PULocationID": pd.to_numeric(raw["PULocationID"], errors="coerce"),
            "DOLocationID": pd.to_numeric(raw["DOLocationID"], errors="coerce"),
            "trip_distance": pd.to_numeric(raw["trip_distance"], errors="coerce"),
        }
    )

    bad_time = df["pickup"].isna() | df["dropoff"].isna()
    report.drop("unparseable_timestamp", bad_time.sum())
    df = df[~bad_time].copy()

    df[LABEL] = (df["dropoff"] - df["pickup"]).dt.total_seconds() / 60.0
    df["pickup_hour"] = df["pickup"].dt.hour
    df["pickup_weekday"] = df["pickup"].dt.weekday
    if options.target == FARE_LABEL:
        df[FARE_LABEL] = pd.to_numeric(raw.loc[df.index, FARE_LABEL], errors="coerce")
    return apply_rules(df, options, report)


def apply_rules(df: pd.DataFrame, options: Options, report: Report) -> pd.DataFrame:
    """The value rules every row goes through, trip records and production rows alike, in order.

    `df` holds the duration, the features and, for the fare target, the fare, as numbers (NaN where
    a value is missing or not numeric).
    """
    values = ["PULocationID", "DOLocationID", "trip_distance", "pickup_hour", "pickup_weekday", LABEL]
    bad_values = df[values].isna().any(axis=1)
    report.drop("missing_or_non_numeric_value", bad_values.sum())
    df = df[~bad_values]

    negative = df[LABEL] < 0
    report.drop("negative_duration", negative.sum())
    df = df[~negative]

    out_of_range = (df[LABEL] < options.min_duration_minutes) | (df[LABEL] > options.max_duration_minutes)
    report.drop("duration_out_of_range", out_of_range.sum())
    df = df[~out_of_range]

    bad_distance = (df["trip_distance"] < 0) | (df["trip_distance"] > options.max_trip_distance)
    report.drop("trip_distance_out_of_range", bad_distance.sum())
    df = df[~bad_distance]

    if options.target == FARE_LABEL:
        fare = df[FARE_LABEL]
        bad_fare = fare.isna()
        report.drop("missing_or_non_numeric_fare", bad_fare.sum())
        out_of_range = ~bad_fare & ((fare <= 0) | (fare > options.max_fare))
        report.drop("fare_out_of_range", out_of_range.sum())
        df = df[~(bad_fare | out_of_range)]

    df = df.copy()
    for column in INTEGER_COLUMNS:
        df[column] = df[column].astype(int)
    return df[[options.label] + options.features].reset_index(drop=True)


def clean_production(rows: pd.DataFrame, options: Options, report: Report) -> pd.DataFrame:
    """Production rows (captured requests joined with their labels, written by the platform's
    production-data step): already the training layout, the label then the features, with a header.
    The same value rules apply; hours, weekdays and location ids that are not whole numbers count as
    non-numeric values.
    """
    report.rows_read += len(rows)
    report.production_rows_read += len(rows)
    columns = [options.label] + options.features
    missing = [c for c in columns if c not in rows.columns]
    if missing:
        raise InputRejected(
            f"production data lacks columns {missing}: it must have the header {','.join(columns)} "
            "(the label, then the model's features), as the production-data step writes it"
        )
    df = pd.DataFrame({c: pd.to_numeric(rows[c], errors="coerce") for c in columns})
    for column in INTEGER_COLUMNS:
        df.loc[df[column] % 1 != 0, column] = np.nan
    kept = apply_rules(df, options, report)
    report.production_rows_kept = len(kept)
    return kept


def split(df: pd.DataFrame, options: Options) -> Dict[str, pd.DataFrame]:
    """A seeded random train/validation/test split."""
    order = np.random.RandomState(options.seed).permutation(len(df))
    n_test = int(round(len(df) * options.test_fraction))
    n_validation = int(round(len(df) * options.validation_fraction))
    test_idx = order[:n_test]
    validation_idx = order[n_test : n_test + n_validation]
    train_idx = order[n_test + n_validation :]
    return {
        "train": df.iloc[train_idx].reset_index(drop=True),
        "validation": df.iloc[validation_idx].reset_index(drop=True),
        "test": df.iloc[test_idx].reset_index(drop=True),
    }


def baseline(train: pd.DataFrame, options: Optional[Options] = None) -> dict:
    """Per-feature distributions of the training data.

    Numeric features: decile bin edges of the training data (open-ended first and last bins, so
    every later value falls in a bin) and the share of rows per bin. Categorical features: the
    share of the most frequent categories, the rest pooled as `__other__`.
    """
    options = options or Options()
    features = {}
    for name in options.numeric_features:
        values = train[name].astype(float).to_numpy()
        inner = np.unique(np.quantile(values, np.linspace(0, 1, NUMERIC_BINS + 1))[1:-1])
        edges = [-np.inf] + inner.tolist() + [np.inf]
        counts, _ = np.histogram(values, bins=edges)
        features[name] = {
            "type": "numeric",
            # JSON has no infinity: the open ends are written as null.
            "bin_edges": [None if np.isinf(e) else float(e) for e in edges],
            "proportions": (counts / counts.sum()).tolist(),
            "mean": float(values.mean()),
            "std": float(values.std()),
        }
    for name in CATEGORICAL_FEATURES:
        shares = train[name].astype(str).value_counts(normalize=True)
        top = shares.iloc[:TOP_CATEGORIES]
        features[name] = {
            "type": "categorical",
            "proportions": {str(k): float(v) for k, v in top.items()},
            "other": float(max(0.0, 1.0 - top.sum())),
        }
    # JSON objects are unordered (and written with sorted keys): the model's input order is a list,
    # which the drift job maps the columns of captured CSV requests with.
    return {
        "schema_version": BASELINE_SCHEMA_VERSION,
        "rows": int(len(train)),
        "label": options.label,
        "features": features,
        "feature_order": options.features,
    }


def csv_files(path: str) -> List[str]:
    return [path] if os.path.isfile(path) else sorted(
        glob.glob(os.path.join(path, "*.csv")) + glob.glob(os.path.join(path, "*.csv.gz"))
    )


def read_input(path: str) -> pd.DataFrame:
    """One file, or every .csv/.csv.gz file of a directory (SageMaker processing inputs are directories)."""
    files = csv_files(path)
    if not files:
        raise InputRejected(f"no .csv or .csv.gz files found at {path}; export the trip records as CSV")
    # As text first: malformed values are then dropped per row by the cleaning, not fatal at parse time.
    frames = [pd.read_csv(f, dtype=str) for f in files]
    return pd.concat(frames, ignore_index=True)


def read_production(path: str) -> pd.DataFrame:
    """The production data's CSV files at `path` (a header-only file: no rows); none at all: no rows."""
    files = csv_files(path)
    if not files:
        LOG.warning("no production data files at %s: training on the trip records alone", path)
        return pd.DataFrame()
    return pd.concat([pd.read_csv(f, dtype=str) for f in files], ignore_index=True)


def run(
    input_path: str, output_dir: str, options: Optional[Options] = None, production_path: Optional[str] = None
) -> Report:
    options = options or Options()
    report = Report()
    df = clean(read_input(input_path), options, report)
    production = read_production(production_path) if production_path else pd.DataFrame()
    if len(production) > 0:
        # After the trip records: with no production rows, the split is exactly the one without.
        df = pd.concat([df, clean_production(production, options, report)], ignore_index=True)
    if len(df) < 3:
        raise InputRejected(
            f"only {len(df)} usable rows remain after cleaning {report.rows_read} "
            f"(dropped: {report.dropped}); provide more data or check the input's format"
        )
    report.rows_kept = len(df)
    parts = split(df, options)
    for name, part in parts.items():
        os.makedirs(os.path.join(output_dir, name), exist_ok=True)
        part.to_csv(os.path.join(output_dir, name, f"{name}.csv"), header=False, index=False)
        report.splits[name] = len(part)
    write_json(os.path.join(output_dir, "baseline", "baseline.json"), baseline(parts["train"], options))
    write_json(os.path.join(output_dir, "report", "preprocessing.json"), report.as_json())
    LOG.info("kept %d of %d rows; dropped %s", report.rows_kept, report.rows_read, report.dropped)
    if report.production_rows_read:
        LOG.info("of them production rows: kept %d of %d", report.production_rows_kept, report.production_rows_read)
    return report


def tracked_metrics(report: Report, options: Optional[Options] = None) -> Dict[str, int]:
    """The report as MLflow metrics; every drop reason is logged, so that runs compare reason by reason."""
    reasons = (options or Options()).drop_reasons
    metrics = {"rows_read": report.rows_read, "rows_kept": report.rows_kept}
    metrics.update({f"rows_dropped.{reason}": report.dropped.get(reason, 0) for reason in reasons})
    metrics.update({f"rows_{name}": count for name, count in report.splits.items()})
    if report.production_rows_read:
        metrics["production_rows_read"] = report.production_rows_read
        metrics["production_rows_kept"] = report.production_rows_kept
    return metrics


def write_json(path: str, body: dict) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(body, f, indent=2, sort_keys=True)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input", default="/opt/ml/processing/input")
    parser.add_argument("--output", default="/opt/ml/processing/output")
    parser.add_argument("--min-duration-minutes", type=float, default=Options.min_duration_minutes)
    parser.add_argument("--max-duration-minutes", type=float, default=Options.max_duration_minutes)
    parser.add_argument("--seed", type=int, default=Options.seed)
    parser.add_argument("--target", choices=TARGETS, default=Options.target)
    parser.add_argument("--max-fare", type=float, default=Options.max_fare)
    parser.add_argument(
        "--production", default=None, help="production rows (label then features, with a header) to train on too"
    )
    tracking.add_arguments(parser)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    options = Options(
        min_duration_minutes=args.min_duration_minutes,
        max_duration_minutes=args.max_duration_minutes,
        seed=args.seed,
        target=args.target,
        max_fare=args.max_fare,
    )
    with tracking.StepRun(tracking.settings(args), "preprocess") as mlflow_run:
        mlflow_run.log_params({f"preprocess.{name}": value for name, value in options.params().items()})
        reason = os.environ.get(tracking.RETRAIN_REASON_ENV)
        if reason:
            LOG.info("retraining because: %s", reason)
        try:
            report = run(args.input, args.output, options, production_path=args.production)
        except InputRejected as rejected:
            LOG.error("input rejected: %s", rejected)
            mlflow_run.fail()
            return 2
        mlflow_run.log_metrics(tracked_metrics(report, options))
    return 0


if __name__ == "__main__":
    sys.exit(main())
