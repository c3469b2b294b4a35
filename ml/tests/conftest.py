import os
import sys

import pytest

# The step scripts are plain modules run by SageMaker processing jobs; import them from ml/.
sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))


@pytest.fixture(autouse=True)
def tracking_only_where_a_test_asks(monkeypatch):
    """The steps log to MLflow only where a test sets it up, never to a server the developer's shell names."""
    for name in ("MLFLOW_TRACKING_URI", "MLFLOW_EXPERIMENT_NAME", "PIPELINE_EXECUTION_ID", "RETRAIN_REASON"):
        monkeypatch.delenv(name, raising=False)
    # Set here, so that the defaults tracking.py fills in never outlive a test; no retries keep the
    # unreachable-server tests fast.
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "5")
