"""Production rows (captured requests joined with their labels) next to the trip records."""

import json

import pandas as pd

import preprocess
from test_preprocess import trips, write

HEADER = "duration,trip_distance,pickup_hour,pickup_weekday,PULocationID,DOLocationID"


def production(tmp_path, *rows, header=HEADER, name="production.csv"):
    path = tmp_path / "production"
    path.mkdir(exist_ok=True)
    (path / name).write_text("\n".join([header, *rows]) + "\n")
    return str(path)


def outputs(out):
    return {
        name: (out / name / f"{name}.csv").read_text()
        for name in ("train", "validation", "test")
    } | {"baseline": (out / "baseline" / "baseline.json").read_text(), "report": (out / "report" / "preprocessing.json").read_text()}


def test_a_header_only_production_file_changes_nothing(tmp_path):
    # GIVEN the trip records, and the production-data step's file for an empty window
    data = write(trips(), tmp_path)
    without, with_empty = tmp_path / "without", tmp_path / "with"
    preprocess.run(data, str(without))
    preprocess.run(data, str(with_empty), production_path=production(tmp_path))
    # THEN every output is byte for byte today's
    assert outputs(with_empty) == outputs(without)


def test_production_rows_join_the_training_data_under_the_same_rules(tmp_path):
    # GIVEN two usable production rows and one per cleaning rule
    rows = [
        "14.5,2.5,10,4,132,236",
        "6.0,1.1,23,6,48,50",
        "n/a,1.0,10,4,132,236",  # missing_or_non_numeric_value
        "7.0,1.0,10.5,4,132,236",  # an hour that is not a whole number: non-numeric
        "-3,1.0,10,4,132,236",  # negative_duration
        "90,1.0,10,4,132,236",  # duration_out_of_range
        "12,250,10,4,132,236",  # trip_distance_out_of_range
    ]
    data = write(trips(), tmp_path)
    base = preprocess.run(data, str(tmp_path / "base"))
    report = preprocess.run(data, str(tmp_path / "out"), production_path=production(tmp_path, *rows))
    # THEN the two usable rows are kept and the rest dropped with the trip records' reasons
    assert (report.production_rows_read, report.production_rows_kept) == (7, 2)
    assert report.rows_read == base.rows_read + 7
    assert report.rows_kept == base.rows_kept + 2
    for reason in ["negative_duration", "duration_out_of_range", "trip_distance_out_of_range"]:
        assert report.dropped.get(reason, 0) == base.dropped.get(reason, 0) + 1
    assert report.dropped["missing_or_non_numeric_value"] == base.dropped.get("missing_or_non_numeric_value", 0) + 2
    # and they land in the splits in the training layout: label first, whole-number features
    splits = pd.concat(
        [pd.read_csv(tmp_path / "out" / n / f"{n}.csv", header=None) for n in ("train", "validation", "test")]
    )
    kept = {tuple(r) for r in splits.itertuples(index=False)}
    assert (14.5, 2.5, 10, 4, 132, 236) in kept and (6.0, 1.1, 23, 6, 48, 50) in kept
    first_line = [line for line in (tmp_path / "out" / "train" / "train.csv").read_text().splitlines()][0]
    assert len(first_line.split(",")) == 1 + len(preprocess.FEATURES)
    body = json.loads((tmp_path / "out" / "report" / "preprocessing.json").read_text())
    assert (body["production_rows_read"], body["production_rows_kept"]) == (7, 2)
    metrics = preprocess.tracked_metrics(report)
    assert (metrics["production_rows_read"], metrics["production_rows_kept"]) == (7, 2)


def test_fare_production_rows_carry_the_fare_as_label_and_the_duration_as_a_feature(tmp_path):
    header = "fare_amount,trip_distance,pickup_hour,pickup_weekday,duration,PULocationID,DOLocationID"
    rows = ["18.5,3.0,9,1,14.0,132,236", "900,3.0,9,1,14.0,132,236", ",3.0,9,1,14.0,132,236"]
    options = preprocess.Options(target="fare_amount")
    report = preprocess.Report()
    cleaned = preprocess.clean_production(
        preprocess.read_production(production(tmp_path, *rows, header=header)), options, report
    )
    assert cleaned.values.tolist() == [[18.5, 3.0, 9, 1, 14.0, 132, 236]]
    assert report.dropped == {"fare_out_of_range": 1, "missing_or_non_numeric_fare": 1}


def test_production_data_without_the_training_columns_is_rejected_by_the_step(tmp_path):
    data = write(trips(), tmp_path)
    prod = production(tmp_path, "1,2,3", header="a,b,c")
    code = preprocess.main(["--input", data, "--output", str(tmp_path / "out"), "--production", prod])
    assert code == 2


def test_no_production_files_at_all_train_on_the_trip_records(tmp_path, caplog):
    data = write(trips(), tmp_path)
    empty = tmp_path / "empty"
    empty.mkdir()
    report = preprocess.run(data, str(tmp_path / "out"), production_path=str(empty))
    assert report.production_rows_read == 0
    assert "no production data files" in caplog.text
