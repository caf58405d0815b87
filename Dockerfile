# The Airflow image of this project: the official image, extended the way
# https://airflow.apache.org/docs/docker-stack/build.html recommends (build once, never
# _PIP_ADDITIONAL_REQUIREMENTS). docker-compose.yaml builds it (`build: .`); on its own:
#   docker build -t connectwise-airflow:3.3.2 .
# Keep the tag in step with the apache-airflow pin of requirements.txt
# (tests/packaging/test_compose.py checks it).
FROM apache/airflow:3.3.2-python3.11

# The project's own files live in /opt/connectwise; Airflow's home stays /opt/airflow.
WORKDIR /opt/connectwise

# Dependencies first, so that editing the package does not re-run the long install.
# Re-pinning apache-airflow stops pip from up- or downgrading the image's Airflow;
# constraints.txt is the project's verified lock (PyPI pins of the tested venv).
COPY --chown=airflow:root requirements.txt constraints.txt pyproject.toml ./
RUN pip install --no-cache-dir "apache-airflow==3.3.2" -r requirements.txt -c constraints.txt

# The package as an installed distribution: its apache_airflow_provider entry point registers
# the `connectwise` connection type (a hook that only sits in plugins/ never reaches the UI form).
# The check fails the build if Airflow does not see the provider.
COPY --chown=airflow:root plugins/connectwise/ plugins/connectwise/
RUN pip install --no-cache-dir --no-deps . \
    && rm -rf build plugins/*.egg-info \
    && python -c "from airflow.providers_manager import ProvidersManager; \
assert 'connectwise-etl' in ProvidersManager().providers, 'connectwise provider not registered'"

# The ConnectWise simulator (docker compose --profile demo: `python -m simulator` from here)
# and the settings loader that airflow-init runs.
COPY --chown=airflow:root simulator/ simulator/
COPY --chown=airflow:root scripts/apply_settings.py scripts/apply_settings.py

# DAGs, mapping and SQL migrations baked in, so the image runs without bind mounts
# (docker-compose.yaml mounts the working copies over them for development).
COPY --chown=airflow:root dags/ /opt/airflow/dags/
COPY --chown=airflow:root include/ /opt/airflow/include/
ENV CONNECTWISE_INCLUDE_DIR=/opt/airflow/include
# The guides the console serves at /connectwise-console/docs/ (the DAG docs link there).
COPY --chown=airflow:root docs/ /opt/airflow/docs/
ENV CONNECTWISE_DOCS_DIR=/opt/airflow/docs

WORKDIR /opt/airflow
