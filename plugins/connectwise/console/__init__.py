"""The operator console: sync health and Issues pages inside the Airflow UI."""

URL_PREFIX = "/connectwise-console"  # where the api-server mounts the console
