"""Writes the drift benchmark's baseline.json from its training data, with ml/preprocess.py's own baseline().

Usage: drift_baseline.py <train.csv> <baseline.json>
"""

from __future__ import annotations

import os
import sys

import pandas as pd

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "ml"))
import preprocess  # noqa: E402


def main(train_file: str, out: str) -> None:
    train = pd.read_csv(train_file)
    preprocess.write_json(out, preprocess.baseline(train, preprocess.Options()))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
