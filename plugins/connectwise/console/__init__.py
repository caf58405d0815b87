"""The operator console: sync health and Issues pages inside the Airflow UI."""
