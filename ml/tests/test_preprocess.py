import json
import os

import numpy as np
import pandas as pd
import pytest

import preprocess


def trips(n=400, seed=0, prefix="tpep"):
    """Synthetic TLC trip records: durations roughly proportional to distance, a few zones."""
    rng = np.random.RandomState(seed)
    pickup = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.randint(0, 30 * 24 * 60, n), unit="m")
    distance = rng.gamma(2.0, 1.5, n).round(2)
    minutes = 3 + distance * 3 + rng.normal(0, 2, n)
    return pd.DataFrame(
        {
            f"{prefix}_pickup_datetime": pickup.strftime("%Y-%m-%d %H:%M:%S"),
            f"{prefix}_dropoff_datetime": (pickup + pd.to_timedelta(minutes, unit="m")).strftime("%Y-%m-%d %H:%M:%S"),
            "PULocationID": rng.choice([132, 138, 161, 236, 237], n),
            "DOLocationID": rng.choice([48, 68, 79, 142, 170], n),
            "trip_distance": distance,
            "passenger_count": rng.randint(1, 5, n),
        }
    )


def write(df, tmp_path, name="trips.csv"):
    path = tmp_path / "input"
    path.mkdir(exist_ok=True)
    df.to_csv(path / name, index=False)
    return str(path)


def test_end_to_end_writes_splits_baseline_and_report(tmp_path):
    # GIVEN clean synthetic trips
    out = tmp_path / "out"
    report = preprocess.run(write(trips(), tmp_path), str(out))
    # THEN the splits partition the kept rows roughly 70/15/15, label first and no header
    assert sum(report.splits.values()) == report.rows_kept == report.rows_read - sum(report.dropped.values())
    assert report.splits["test"] == round(report.rows_kept * 0.15)
    train = pd.read_csv(out / "train" / "train.csv", header=None)
    assert list(train.shape)[1] == 1 + len(preprocess.FEATURES)
    assert train[0].between(1, 60).all(), "the label is the duration in minutes, within the filter"
    # and the baseline describes the training split
    baseline = json.loads((out / "baseline" / "baseline.json").read_text())
    assert baseline["rows"] == report.splits["train"]
    distance = baseline["features"]["trip_distance"]
    assert distance["type"] == "numeric"
    assert distance["bin_edges"][0] is None and distance["bin_edges"][-1] is None
    assert abs(sum(distance["proportions"]) - 1) < 1e-9
    assert len(distance["proportions"]) == len(distance["bin_edges"]) - 1
    zones = baseline["features"]["PULocationID"]
    assert set(zones["proportions"]) == {"132", "138", "161", "236", "237"}
    assert abs(sum(zones["proportions"].values()) + zones["other"] - 1) < 1e-9
    assert json.loads((out / "report" / "preprocessing.json").read_text())["rows_kept"] == report.rows_kept


def test_duration_is_derived_in_minutes_and_features_from_pickup_time(tmp_path):
    df = pd.DataFrame(
        {
            "lpep_pickup_datetime": ["2024-03-04 08:15:00"] * 3,
            "lpep_dropoff_datetime": ["2024-03-04 08:27:30"] * 3,
            "PULocationID": ["74", "74", "74"],
            "DOLocationID": ["75", "75", "75"],
            "trip_distance": ["2.5", "2.5", "2.5"],
        }
    )
    cleaned = preprocess.clean(df, preprocess.Options(), preprocess.Report())
    assert cleaned[preprocess.LABEL].tolist() == [12.5] * 3
    assert cleaned["pickup_hour"].tolist() == [8] * 3
    assert cleaned["pickup_weekday"].tolist() == [0] * 3  # a Monday


def test_malformed_rows_are_dropped_and_counted_never_fatal(tmp_path):
    # GIVEN good trips plus one row of each kind of damage
    good = trips(100)
    bad = pd.DataFrame(
        {
            "tpep_pickup_datetime": ["not a date", "2024-01-05 10:00:00", "2024-01-05 10:00:00", "2024-01-05 10:00:00", "2024-01-05 10:00:00", "2024-01-05 10:00:00"],
            "tpep_dropoff_datetime": ["2024-01-05 10:10:00", "2024-01-05 09:50:00", "2024-01-05 13:00:00", "2024-01-05 10:10:00", "2024-01-05 10:10:00", "2024-13-45 25:61:00"],
            "PULocationID": [132, 132, 132, "abc", 132, 132],
            "DOLocationID": [48, 48, 48, 48, 48, 48],
            "trip_distance": [1.0, 1.0, 1.0, 1.0, -3.0, 1.0],
        }
    )
    report = preprocess.run(write(pd.concat([good, bad], ignore_index=True), tmp_path), str(tmp_path / "out"))
    # THEN each damaged row is dropped for its own reason, on top of what the good rows lose to the
    # duration filter (synthetic noise puts a few outside 1-60 minutes)
    good_report = preprocess.Report()
    preprocess.clean(good.astype(str), preprocess.Options(), good_report)
    assert report.dropped == {
        "unparseable_timestamp": 2,
        "missing_or_non_numeric_value": 1,
        "negative_duration": 1,
        "duration_out_of_range": 1 + good_report.dropped.get("duration_out_of_range", 0),
        "trip_distance_out_of_range": 1,
    }
    assert set(report.dropped) == set(preprocess.DROP_REASONS), "the reasons MLflow gets a metric for"
    assert report.rows_read == 106
    assert report.rows_kept == 106 - sum(report.dropped.values())


def test_missing_columns_are_rejected_with_a_clear_message(tmp_path, caplog):
    df = trips(20).drop(columns=["trip_distance"])
    code = preprocess.main(["--input", write(df, tmp_path), "--output", str(tmp_path / "out")])
    assert code == 2
    assert "missing required columns ['trip_distance']" in caplog.text
    assert not (tmp_path / "out" / "train").exists(), "nothing is half-written"


def test_missing_timestamps_name_both_accepted_schemas(tmp_path):
    df = trips(20).drop(columns=["tpep_dropoff_datetime"])
    with pytest.raises(preprocess.InputRejected, match="tpep_pickup_datetime and tpep_dropoff_datetime .* lpep_pickup_datetime"):
        preprocess.run(write(df, tmp_path), str(tmp_path / "out"))


def test_input_with_no_usable_rows_is_rejected(tmp_path, caplog):
    df = trips(5)
    df["tpep_pickup_datetime"] = "garbage"
    assert preprocess.main(["--input", write(df, tmp_path), "--output", str(tmp_path / "out")]) == 2
    assert "only 0 usable rows remain after cleaning 5" in caplog.text


def test_an_empty_input_directory_is_rejected(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(preprocess.InputRejected, match="no .csv or .csv.gz files found"):
        preprocess.run(str(tmp_path / "empty"), str(tmp_path / "out"))


def test_the_split_is_deterministic_for_a_seed(tmp_path):
    a = preprocess.run(write(trips(), tmp_path), str(tmp_path / "a"))
    b = preprocess.run(write(trips(), tmp_path), str(tmp_path / "b"))
    assert a.splits == b.splits
    assert (tmp_path / "a" / "test" / "test.csv").read_text() == (tmp_path / "b" / "test" / "test.csv").read_text()


# The fare model's input columns, in order: the duration model's, with the duration after the weekday.
FARE_INPUT = ["trip_distance", "pickup_hour", "pickup_weekday", "duration", "PULocationID", "DOLocationID"]


def fare_trips(n=400, seed=0):
    """The synthetic trips with a fare: a base charge plus a rate per mile."""
    df = trips(n, seed)
    df["fare_amount"] = (3.0 + df["trip_distance"] * 2.5).round(2)
    return df


def test_fare_target_takes_the_fare_as_label_with_the_duration_as_a_feature(tmp_path):
    # GIVEN trips with fares, one of them exactly 3 miles and 12.5 minutes long
    df = fare_trips()
    df.loc[0, "tpep_pickup_datetime"] = "2024-01-02 10:00:00"
    df.loc[0, "tpep_dropoff_datetime"] = "2024-01-02 10:12:30"
    df.loc[0, "trip_distance"] = 3.0
    df.loc[0, "fare_amount"] = 10.5
    cleaned = preprocess.clean(df.astype(str), preprocess.Options(target="fare_amount"), preprocess.Report())
    # THEN the label is the fare, and the model input is the duration features plus the duration
    assert list(cleaned.columns) == ["fare_amount"] + FARE_INPUT
    first = cleaned.iloc[0]
    assert (first["fare_amount"], first["duration"], first["trip_distance"], first["pickup_hour"]) == (
        10.5,
        12.5,
        3.0,
        10,
    )


def test_fare_target_end_to_end_writes_the_fare_baseline_and_counts_bad_fares(tmp_path):
    # GIVEN trips with two missing or non-numeric fares, a zero and a negative fare, and one above the limit
    df = fare_trips().astype(str)
    df.loc[0, "fare_amount"] = ""
    df.loc[1, "fare_amount"] = "n/a"
    df.loc[2, "fare_amount"] = "0"
    df.loc[3, "fare_amount"] = "-4.5"
    df.loc[4, "fare_amount"] = "900"
    out = tmp_path / "out"
    # WHEN preprocessed for the fare through the command line
    assert preprocess.main(["--input", write(df, tmp_path), "--output", str(out), "--target", "fare_amount"]) == 0
    # THEN the bad fares are dropped and counted by reason
    report = json.loads((out / "report" / "preprocessing.json").read_text())
    assert report["dropped"]["missing_or_non_numeric_fare"] == 2
    assert report["dropped"]["fare_out_of_range"] == 3
    # AND the splits are label first: the fare, then the seven-column layout of the model input
    train = pd.read_csv(out / "train" / "train.csv", header=None)
    assert train.shape[1] == 7
    assert (train[0] > 0).all() and (train[0] <= 500).all()
    # AND the baseline names the fare as its label and the model's input order
    baseline = json.loads((out / "baseline" / "baseline.json").read_text())
    assert baseline["label"] == "fare_amount"
    assert baseline["feature_order"] == FARE_INPUT
    assert baseline["features"]["duration"]["type"] == "numeric"
    assert sorted(baseline["features"]) == sorted(baseline["feature_order"])


def test_fare_target_needs_the_fare_column(tmp_path, capsys):
    # GIVEN trips without fares
    df = trips()
    # THEN the fare target rejects them, naming the column, with exit code 2
    code = preprocess.main(["--input", write(df, tmp_path), "--output", str(tmp_path / "out"), "--target", "fare_amount"])
    assert code == 2
    with pytest.raises(preprocess.InputRejected, match=r"missing required columns \['fare_amount'\]"):
        preprocess.clean(df.astype(str), preprocess.Options(target="fare_amount"), preprocess.Report())


def test_duration_baseline_has_the_model_input_order_and_the_report_its_five_reasons(tmp_path):
    # The trip duration baseline names the model's input columns in order too: the drift job maps
    # captured CSV requests with it.
    out = tmp_path / "out"
    preprocess.run(write(trips(), tmp_path), str(out))
    baseline = json.loads((out / "baseline" / "baseline.json").read_text())
    assert sorted(baseline) == ["feature_order", "features", "label", "rows", "schema_version"]
    assert baseline["feature_order"] == ["trip_distance", "pickup_hour", "pickup_weekday", "PULocationID", "DOLocationID"]
    assert sorted(baseline["features"]) == sorted(baseline["feature_order"])
    assert preprocess.Options().drop_reasons == [
        "unparseable_timestamp",
        "missing_or_non_numeric_value",
        "negative_duration",
        "duration_out_of_range",
        "trip_distance_out_of_range",
    ]
