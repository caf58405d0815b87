"""ConnectWise PSA → SQL staging ETL for Apache Airflow."""

__version__ = "0.1.0"
