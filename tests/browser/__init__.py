"""Browser tests: one live Airflow for the package (``conftest.live_airflow``)."""
