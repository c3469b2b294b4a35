"""Reference model quality numbers with numpy, for test/quality/reference.test.ts.

Usage: reference.py <output directory>

Writes, from seeded random data, per window (regression, binary) a folder `capture/` of SageMaker
data capture files and a folder `ground-truth/` of label files (JSON Lines, one of each gzipped,
every encoding, duplicates, late labels, malformed lines), and expected.json: per window the
LastModified the test must give each ground-truth file, the counters and the metrics, computed
here from the generated records (not by parsing the files), independently of the TypeScript engine.
"""

from __future__ import annotations

import base64
import gzip
import json
import os
import sys
from datetime import datetime, timedelta, timezone

import numpy as np

BASE = datetime(2026, 12, 1, 9, 0, 0, tzinfo=timezone.utc)
ALLOWANCE = timedelta(seconds=86400)
THRESHOLD = 0.5


def iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def encode(text: str, style: int) -> tuple[str, str, str]:
    """A payload in one of SageMaker's capture encodings: (data, encoding, content type)."""
    if style == 0:
        return text, "CSV", "text/csv"
    if style == 1:
        return json.dumps(json.loads(text)), "JSON", "application/json"
    if style == 2:
        return base64.b64encode(text.encode()).decode(), "BASE64", "text/csv"
    if style == 3:
        # The built-in algorithms' JSON answer.
        return json.dumps({"predictions": [{"score": json.loads(text)}]}), "JSON", "application/json"
    return base64.b64encode(json.dumps([json.loads(text)]).encode()).decode(), "BASE64", "application/json"


def capture_line(record: dict) -> str:
    data, encoding, content_type = encode(record["text"], record["style"])
    metadata = {"eventId": record["id"], "inferenceTime": iso(record["time"])}
    if record["inference_id"]:
        metadata = {"eventId": f"evt-{record['id']}", "inferenceId": record["id"], "inferenceTime": iso(record["time"])}
    return json.dumps(
        {
            "captureData": {
                "endpointInput": {"observedContentType": "text/csv", "mode": "INPUT", "data": "1,2,3", "encoding": "CSV"},
                "endpointOutput": {"observedContentType": content_type, "mode": "OUTPUT", "data": data, "encoding": encoding},
            },
            "eventMetadata": metadata,
            "eventVersion": "0",
        }
    )


def label_line(record: dict) -> str:
    style = record["style"]
    if style == 0:
        truth = {"data": record["text"], "encoding": "CSV"}
    elif style == 1:
        truth = {"data": record["text"], "encoding": "JSON"}
    else:
        truth = {"data": base64.b64encode(record["text"].encode()).decode(), "encoding": "BASE64"}
    metadata = {"eventId": record["id"]}
    if record.get("label_time") is not None:
        metadata["labelTime"] = iso(record["label_time"])
    return json.dumps({"groundTruthData": truth, "eventMetadata": metadata, "eventVersion": "0"})


def insert_after(rng: np.random.RandomState, items: list, original: int, item) -> None:
    items.insert(rng.randint(original + 1, len(items) + 1), item)


def write_parts(folder: str, lines: list[str]) -> list[str]:
    """Three files, the middle one gzipped; returns their names in reading (sorted) order."""
    os.makedirs(folder, exist_ok=True)
    third = len(lines) // 3
    names = ["part-0.jsonl", "part-1.jsonl.gz", "part-2.jsonl"]
    with open(os.path.join(folder, names[0]), "w") as f:
        f.write("\n".join(lines[:third]) + "\n")
    with gzip.open(os.path.join(folder, names[1]), "wt") as f:
        f.write("\r\n".join(lines[third : 2 * third]))
    with open(os.path.join(folder, names[2]), "w") as f:
        f.write("\n".join(lines[2 * third :]) + "\n\n")
    return names


BAD_CAPTURE = {
    "malformedJson": '{"captureData": ',
    "missingId": json.dumps({"captureData": {"endpointOutput": {"data": "1", "encoding": "CSV"}}, "eventMetadata": {}}),
    "missingData": json.dumps({"captureData": {"endpointInput": {"data": "1", "encoding": "CSV"}}, "eventMetadata": {"eventId": "x-1"}}),
    "unknownEncoding": json.dumps({"captureData": {"endpointOutput": {"data": "1", "encoding": "XML"}}, "eventMetadata": {"eventId": "x-2"}}),
    "malformedPayload": json.dumps({"captureData": {"endpointOutput": {"data": "0.1,0.9", "encoding": "CSV"}}, "eventMetadata": {"eventId": "x-3"}}),
    "nonNumericValue": json.dumps({"captureData": {"endpointOutput": {"data": "n/a", "encoding": "CSV"}}, "eventMetadata": {"eventId": "x-4"}}),
    "invalidTime": json.dumps(
        {"captureData": {"endpointOutput": {"data": "1", "encoding": "CSV"}}, "eventMetadata": {"eventId": "x-5", "inferenceTime": "yesterday"}}
    ),
}

BAD_LABELS = {
    "malformedJson": '{"groundTruthData": [',
    "missingId": json.dumps({"groundTruthData": {"data": "1", "encoding": "CSV"}, "eventMetadata": {}, "eventVersion": "0"}),
    "missingData": json.dumps({"eventMetadata": {"eventId": "y-1"}, "eventVersion": "0"}),
    "unknownEncoding": json.dumps({"groundTruthData": {"data": "1", "encoding": "XML"}, "eventMetadata": {"eventId": "y-2"}}),
    "malformedPayload": json.dumps({"groundTruthData": {"data": "1\n0", "encoding": "CSV"}, "eventMetadata": {"eventId": "y-3"}}),
    "nonNumericValue": json.dumps({"groundTruthData": {"data": "unknown", "encoding": "CSV"}, "eventMetadata": {"eventId": "y-4"}}),
    "invalidTime": json.dumps({"groundTruthData": {"data": "1", "encoding": "CSV"}, "eventMetadata": {"eventId": "y-5", "labelTime": "soon"}}),
}


def window(rng: np.random.RandomState, out: str, binary: bool) -> dict:
    n = 1200
    ids = [f"{'b' if binary else 'r'}-{i:05d}" for i in range(n)]
    if binary:
        truth = (rng.uniform(size=n) < 0.3).astype(int)
        scores = np.clip(np.round(0.25 + 0.4 * truth + rng.normal(0, 0.2, n), 3), 0, 1)
        scores[rng.choice(n, 25, replace=False)] = 0.5  # on the threshold: predicts 0
        hard = rng.uniform(size=n) < 0.1  # some endpoints answer the predicted label, not a score
        predictions = np.where(hard, (scores > THRESHOLD).astype(float), scores)
    else:
        truth = np.round(rng.gamma(2.0, 6.0, n), 2)
        predictions = np.round(truth + rng.normal(0, 2.5, n), 3)
    times = [BASE + timedelta(seconds=int(s)) for s in rng.randint(0, 3600, n)]

    # Capture: one record per inference, then duplicates (another value) after their original.
    captures = [
        {"id": ids[i], "text": repr(float(predictions[i])), "time": times[i], "style": i % 5, "inference_id": i % 7 != 0}
        for i in rng.permutation(n)
    ]
    first_prediction = {c["id"]: (float(c["text"]), c["time"]) for c in captures}
    for position in sorted(rng.choice(n, 15, replace=False), reverse=True):
        duplicate = dict(captures[position], text=repr(float(0.0 if binary else 999.0)), style=0)
        insert_after(rng, captures, position, duplicate)
    capture_lines = [capture_line(c) for c in captures]
    bad_capture = dict(BAD_CAPTURE)
    if binary:
        bad_capture["invalidClass"] = json.dumps(
            {"captureData": {"endpointOutput": {"data": "1.7", "encoding": "CSV"}}, "eventMetadata": {"eventId": "x-6"}}
        )
    for line in bad_capture.values():
        capture_lines.insert(rng.randint(0, len(capture_lines) + 1), line)
    capture_files = write_parts(os.path.join(out, "capture"), capture_lines)

    # Labels: 85% of the inferences, 40 labels of inferences outside the window, then duplicates.
    labelled = sorted(rng.choice(n, int(n * 0.85), replace=False))
    labels = []
    for i in labelled:
        dated = rng.uniform() < 0.4
        label_time = times[i] + timedelta(seconds=int(rng.randint(0, 60 * 3600))) if dated else None
        labels.append({"id": ids[i], "text": str(int(truth[i]) if binary else float(truth[i])), "style": i % 3, "label_time": label_time})
    for k in range(40):
        labels.append({"id": f"elsewhere-{k}", "text": "1" if binary else "3.5", "style": 0, "label_time": None})
    order = rng.permutation(len(labels))
    labels = [labels[j] for j in order]
    for position in sorted(rng.choice(len(labels), 12, replace=False), reverse=True):
        duplicate = dict(labels[position], text="0" if binary else "-50.0", label_time=None)
        insert_after(rng, labels, position, duplicate)
    label_lines = [label_line(r) for r in labels]
    bad_labels = dict(BAD_LABELS)
    if binary:
        bad_labels["invalidClass"] = json.dumps({"groundTruthData": {"data": "2", "encoding": "CSV"}, "eventMetadata": {"eventId": "y-6"}})
    # Malformed lines go first, so that the line positions of the records above stay known below.
    label_lines = list(bad_labels.values()) + label_lines
    label_files = write_parts(os.path.join(out, "ground-truth"), label_lines)

    # The files' LastModified (given by the test) date the labels without labelTime.
    object_times = {name: BASE + timedelta(hours=h) for name, h in zip(label_files, [2, 20, 30])}
    third = len(label_lines) // 3

    def object_time(line_index: int) -> datetime:
        return object_times[label_files[min(line_index // third, 2)]]

    offset = len(bad_labels)
    first_line = {}
    for position, record in enumerate(labels):
        first_line.setdefault(record["id"], (position + offset, record))

    pairs, late = [], 0
    for label_id, (line_index, record) in first_line.items():
        if label_id not in first_prediction:
            continue
        prediction, inference_time = first_prediction[label_id]
        pairs.append((prediction, float(record["text"])))
        label_time = record["label_time"] or object_time(line_index)
        if label_time - inference_time > ALLOWANCE:
            late += 1
    p = np.array([a for a, _ in pairs])
    y = np.array([b for _, b in pairs])
    if binary:
        positive = p > THRESHOLD
        tp = int(np.sum(positive & (y == 1)))
        fp = int(np.sum(positive & (y == 0)))
        fn = int(np.sum(~positive & (y == 1)))
        tn = int(np.sum(~positive & (y == 0)))
        metrics = {
            "accuracy": float(np.mean(positive == (y == 1))),
            "f1": float(2 * tp / (2 * tp + fp + fn)),
            "truePositives": tp,
            "falsePositives": fp,
            "trueNegatives": tn,
            "falseNegatives": fn,
        }
    else:
        metrics = {"rmse": float(np.sqrt(np.mean((p - y) ** 2))), "mae": float(np.mean(np.abs(p - y)))}
    label_ids = set(first_line)
    return {
        "objectTimes": {name: iso(t) for name, t in object_times.items()},
        "captureFiles": capture_files,
        "groundTruthFiles": label_files,
        "lines": {"capture": len(capture_lines), "groundTruth": len(label_lines)},
        "matchedLabels": len(pairs),
        "unmatchedLabels": len(label_ids - set(first_prediction)),
        "unmatchedPredictions": len(set(first_prediction) - label_ids),
        "duplicatePredictions": 15,
        "duplicateLabels": 12,
        "lateLabels": late,
        "malformed": {"capture": {k: 1 for k in bad_capture}, "groundTruth": {k: 1 for k in bad_labels}},
        "metrics": metrics,
    }


def main(out: str) -> None:
    rng = np.random.RandomState(20261201)
    expected = {
        "regression": window(rng, os.path.join(out, "regression"), binary=False),
        "binary": window(rng, os.path.join(out, "binary"), binary=True),
    }
    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump(expected, f, indent=2)


if __name__ == "__main__":
    main(sys.argv[1])
