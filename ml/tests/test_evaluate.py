import json

import numpy as np
import pandas as pd
import pytest

import evaluate
import preprocess
from test_preprocess import fare_trips, trips, write


def test_end_to_end_on_preprocessed_data_with_a_fitted_predictor(tmp_path):
    # GIVEN the test split that preprocess writes, and a least-squares model fitted on train
    preprocess.run(write(trips(600), tmp_path), str(tmp_path / "prep"))
    train = pd.read_csv(tmp_path / "prep" / "train" / "train.csv", header=None).to_numpy(float)
    X = np.c_[np.ones(len(train)), train[:, 1:]]
    coef, *_ = np.linalg.lstsq(X, train[:, 0], rcond=None)
    predictor = lambda features: np.c_[np.ones(len(features)), features] @ coef
    # WHEN evaluated through the step's entry point
    code = evaluate.main(["--test", str(tmp_path / "prep" / "test"), "--output", str(tmp_path / "eval")], predictor=predictor)
    # THEN the registry-layout report holds plausible metrics: better than predicting the mean
    assert code == 0
    report = json.loads((tmp_path / "eval" / "evaluation.json").read_text())
    test = pd.read_csv(tmp_path / "prep" / "test" / "test.csv", header=None).to_numpy(float)
    baseline_rmse = float(np.sqrt(((test[:, 0] - train[:, 0].mean()) ** 2).mean()))
    rmse = report["regression_metrics"]["rmse"]["value"]
    assert 0 < rmse < baseline_rmse
    assert report["regression_metrics"]["mae"]["value"] <= rmse
    assert report["rows"] == len(test)


def test_fare_model_end_to_end_is_scored_in_dollars_and_its_fare_limit_applies(tmp_path):
    # GIVEN trips whose fare is 3 dollars plus 2.5 a mile, a few of them above a 40 dollar limit
    df = fare_trips(600)
    df.loc[:9, "fare_amount"] = 120.0
    argv = ["--input", write(df, tmp_path), "--output", str(tmp_path / "prep"), "--target", "fare_amount"]
    # WHEN preprocessed for the fare with --max-fare 40, the limit the pipeline passes for maxFare
    assert preprocess.main([*argv, "--max-fare", "40"]) == 0
    report = json.loads((tmp_path / "prep" / "report" / "preprocessing.json").read_text())
    assert report["dropped"]["fare_out_of_range"] == 10
    # AND a least-squares model fitted on the train split is evaluated by the step's entry point
    train = pd.read_csv(tmp_path / "prep" / "train" / "train.csv", header=None).to_numpy(float)
    assert train[:, 0].max() <= 40
    X = np.c_[np.ones(len(train)), train[:, 1:]]
    coef, *_ = np.linalg.lstsq(X, train[:, 0], rcond=None)
    predictor = lambda features: np.c_[np.ones(len(features)), features] @ coef
    code = evaluate.main(["--test", str(tmp_path / "prep" / "test"), "--output", str(tmp_path / "eval")], predictor=predictor)
    # THEN the RMSE is in dollars: the fare is nearly linear in the distance, so far below the 5 dollar gate
    assert code == 0
    rmse = json.loads((tmp_path / "eval" / "evaluation.json").read_text())["regression_metrics"]["rmse"]["value"]
    assert 0 <= rmse < 1.0


def test_metrics_match_their_definitions():
    report = evaluate.regression_metrics(np.array([1.0, 2.0, 3.0, 4.0]), np.array([2.0, 2.0, 1.0, 4.0]))
    # errors 1, 0, -2, 0: RMSE sqrt(5/4), MAE 3/4
    assert report["regression_metrics"]["rmse"]["value"] == pytest.approx(np.sqrt(5 / 4))
    assert report["regression_metrics"]["mae"]["value"] == pytest.approx(0.75)
    assert report["regression_metrics"]["mae"]["standard_deviation"] == pytest.approx(np.std([1, 0, 2, 0]))


def test_a_predictor_returning_the_wrong_number_of_rows_is_rejected(tmp_path, caplog):
    test_dir = tmp_path / "test"
    test_dir.mkdir()
    (test_dir / "test.csv").write_text("10,1,2\n12,3,4\n")
    code = evaluate.main(["--test", str(test_dir), "--output", str(tmp_path / "eval")], predictor=lambda f: np.zeros(1))
    assert code == 2
    assert "1 predictions for 2 labels" in caplog.text
    assert not (tmp_path / "eval" / "evaluation.json").exists()


@pytest.mark.parametrize(
    "content, message",
    [
        ("", "no test split"),
        ("10\n12\n", "expected the label then at least one feature"),
        ("10,abc\n12,3\n", "non-numeric or missing values"),
    ],
)
def test_malformed_test_splits_are_rejected_with_a_clear_message(tmp_path, content, message):
    test_dir = tmp_path / "test"
    test_dir.mkdir()
    if content:
        (test_dir / "test.csv").write_text(content)
    with pytest.raises(evaluate.EvaluationRejected, match=message):
        evaluate.evaluate(str(test_dir), lambda f: np.zeros(len(f)), str(tmp_path / "eval"))
