"""Reference drift statistics with numpy, for test/drift/reference.test.ts.

Usage: reference.py <output directory>

Writes, from seeded random data: baseline.json (ml/preprocess.py `baseline()` of a training frame),
per window a folder of capture files (JSON Lines, one of them gzipped, in every encoding) and
expected.json: per window the rows, problem counts and per-feature PSI, binned KS (numeric) or
chi-square (categorical), computed here independently of the TypeScript engine.
"""

from __future__ import annotations

import base64
import gzip
import json
import os
import sys

import numpy as np
import pandas as pd

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "ml"))
import preprocess  # noqa: E402

EPSILON = 1e-4
ZONES = np.arange(1, 81)


def zone_weights(power: float) -> np.ndarray:
    weights = 1.0 / ZONES**power
    return weights / weights.sum()


def trips(rng: np.random.RandomState, n: int, shift: float = 0.0, zone_power: float = 1.0, hour_shift: int = 0) -> pd.DataFrame:
    # Distances rounded to cents: many values fall exactly on a decile edge (left-closed bins).
    return pd.DataFrame(
        {
            "trip_distance": np.round(rng.lognormal(0.8 + shift, 0.7, n), 2),
            "pickup_hour": (rng.randint(0, 24, n) + hour_shift) % 24,
            "pickup_weekday": rng.randint(0, 7, n),
            "PULocationID": rng.choice(ZONES, n, p=zone_weights(zone_power)),
            "DOLocationID": rng.choice(ZONES, n, p=zone_weights(1.2)),
        }
    )


def expected_statistics(body: dict, window: pd.DataFrame) -> dict:
    features = {}
    for name in body["feature_order"]:
        feature = body["features"][name]
        if feature["type"] == "numeric":
            edges = [-np.inf if e is None else e for e in feature["bin_edges"]]
            edges[-1] = np.inf
            counts, _ = np.histogram(window[name].astype(float).to_numpy(), bins=edges)
        else:
            categories = list(feature["proportions"])
            values = window[name].astype(str)
            counts = np.array([(values == c).sum() for c in categories] + [(~values.isin(categories)).sum()])
        expected = np.array(
            feature["proportions"] if feature["type"] == "numeric" else list(feature["proportions"].values()) + [feature["other"]],
            dtype=float,
        )
        actual = counts / counts.sum()
        e = np.where(expected == 0, EPSILON, expected)
        a = np.where(actual == 0, EPSILON, actual)
        stats = {"type": feature["type"], "psi": float(np.sum((a - e) * np.log(a / e)))}
        if feature["type"] == "numeric":
            gaps = np.abs(np.cumsum(actual) - np.cumsum(expected))[:-1]
            stats["ks"] = float(gaps.max()) if len(gaps) else 0.0
        else:
            keep = ~((expected == 0) & (counts == 0))
            cells = np.where(expected == 0, EPSILON, expected)[keep] * counts.sum()
            stats["chiSquare"] = float(np.sum((counts[keep] - cells) ** 2 / cells))
        stats["counts"] = counts.tolist()
        features[name] = stats
    return features


def capture_line(values: list, names: list, style: int) -> str:
    csv = ",".join(str(v) for v in values)
    array = json.dumps(values)
    if style == 0:
        data, encoding, content_type = csv, "CSV", "text/csv"
    elif style == 1:
        data, encoding, content_type = array, "JSON", "application/json"
    elif style == 2:
        data, encoding, content_type = json.dumps(dict(zip(names, values))), "JSON", "application/json"
    elif style == 3:
        data, encoding, content_type = base64.b64encode(csv.encode()).decode(), "BASE64", "text/csv"
    else:
        data, encoding, content_type = base64.b64encode(array.encode()).decode(), "BASE64", "application/json"
    return json.dumps(
        {
            "captureData": {
                "endpointInput": {"observedContentType": content_type, "mode": "INPUT", "data": data, "encoding": encoding},
                "endpointOutput": {"observedContentType": "text/csv; charset=utf-8", "mode": "OUTPUT", "data": "14.7", "encoding": "CSV"},
            },
            "eventMetadata": {"eventId": "e", "inferenceId": "i", "inferenceTime": "2026-12-01T10:00:00Z"},
            "eventVersion": "0",
        }
    )


def write_window(folder: str, names: list, window: pd.DataFrame, bad: bool) -> dict:
    lines = []
    for i, row in enumerate(window[names].itertuples(index=False)):
        values = [float(v) if name == "trip_distance" else int(v) for name, v in zip(names, row)]
        lines.append(capture_line(values, names, i % 5))
    problems = {}
    if bad:
        lines.insert(3, '{"captureData": ')
        lines.insert(7, capture_line([1.0, 2, 3, 4], names[:4], 0))
        lines.insert(11, capture_line(["far", 2, 3, 4, 5], names, 0))
        problems = {"malformedJson": 1, "wrongFieldCount": 1, "nonNumericValue": 1}
    os.makedirs(os.path.join(folder, "sub"), exist_ok=True)
    third = len(lines) // 3
    with open(os.path.join(folder, "part-0.jsonl"), "w") as f:
        f.write("\n".join(lines[:third]) + "\n")
    with gzip.open(os.path.join(folder, "part-1.jsonl.gz"), "wt") as f:
        f.write("\n".join(lines[third : 2 * third]) + "\n")
    with open(os.path.join(folder, "sub", "part-2.jsonl"), "w") as f:
        f.write("\n".join(lines[2 * third :]) + "\n")
    return problems


def main(out: str) -> None:
    rng = np.random.RandomState(20261201)
    train = trips(rng, 5000)
    body = preprocess.baseline(train, preprocess.Options())
    preprocess.write_json(os.path.join(out, "baseline.json"), body)
    names = body["feature_order"]
    narrow = trips(rng, 300)
    # Empty bins: distances in the lowest decile only, three zones, one hour, one weekday, unseen drop-off zones.
    narrow["trip_distance"] = np.round(rng.uniform(0.1, 0.3, 300), 2)
    narrow["PULocationID"] = rng.choice([1, 2, 3], 300)
    narrow["DOLocationID"] = rng.choice([901, 902], 300)
    narrow["pickup_hour"] = 8
    narrow["pickup_weekday"] = 0
    windows = {
        "no-drift": (trips(rng, 2000), False),
        "drift": (trips(rng, 2000, shift=0.5, zone_power=0.2, hour_shift=6), True),
        "empty-bins": (narrow, False),
    }
    expected = {}
    for name, (window, bad) in windows.items():
        problems = write_window(os.path.join(out, "windows", name), names, window, bad)
        expected[name] = {"rows": len(window), "problems": problems, "features": expected_statistics(body, window)}
    preprocess.write_json(os.path.join(out, "expected.json"), expected)


if __name__ == "__main__":
    main(sys.argv[1])
