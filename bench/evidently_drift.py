"""The drift benchmark's comparison: what a user writes with Evidently to get the PSI of a capture window.

Usage: evidently_drift.py <baseline.json> <train.csv> <capture file>...

Reads the SageMaker capture files with json and pandas (each line's `captureData.endpointInput`,
CSV payloads, one record each, in the model's column order from baseline.json's `feature_order`),
reads the training data as the reference, and runs Evidently's PSI drift per column (ValueDrift,
method "psi"): numeric columns as numerical, categorical ones as categorical, as baseline.json types
them. Prints one JSON object: rows, seconds and CPU seconds (reading and drift, not the interpreter's
start and imports), peak RSS in MiB, and the PSI per feature.
"""

from __future__ import annotations

import io
import json
import resource
import sys
import time

import pandas as pd
from evidently import DataDefinition, Dataset, Report
from evidently.metrics import ValueDrift


def read_capture(files: list, names: list) -> pd.DataFrame:
    payloads = []
    for file in files:
        with open(file, encoding="utf-8") as lines:
            for line in lines:
                if not line.strip():
                    continue
                record = json.loads(line)
                endpoint_input = record["captureData"]["endpointInput"]
                if endpoint_input.get("encoding") == "CSV":
                    payloads.append(endpoint_input["data"])
    # One CSV parse of every payload: much faster than building a frame row by row.
    return pd.read_csv(io.StringIO("\n".join(payloads)), header=None, names=names)


def main(baseline_file: str, train_file: str, files: list) -> None:
    with open(baseline_file, encoding="utf-8") as f:
        baseline = json.load(f)
    names = baseline["feature_order"]
    numeric = [n for n in names if baseline["features"][n]["type"] == "numeric"]
    categorical = [n for n in names if baseline["features"][n]["type"] == "categorical"]
    started = time.perf_counter()
    cpu_started = time.process_time()
    current = read_capture(files, names)
    reference = pd.read_csv(train_file, usecols=names)
    definition = DataDefinition(numerical_columns=numeric, categorical_columns=categorical)
    report = Report([ValueDrift(column=name, method="psi") for name in names])
    snapshot = report.run(
        Dataset.from_pandas(current, data_definition=definition),
        Dataset.from_pandas(reference, data_definition=definition),
    )
    psi = {}
    for metric in snapshot.dict()["metrics"]:
        psi[metric["config"]["column"]] = float(metric["value"])
    seconds = time.perf_counter() - started
    cpu_seconds = time.process_time() - cpu_started
    # Linux reports ru_maxrss in KiB.
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"rows": int(len(current)), "seconds": seconds, "cpuSeconds": cpu_seconds, "peakMiB": peak, "psi": psi}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3:])
