# One image for every salespipe component (loader, watcher, generator, dashboard, dbt docs).
FROM python:3.11-slim
ENV PYTHONUNBUFFERED=1 DO_NOT_TRACK=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY salespipe ./salespipe
COPY announcer ./announcer
COPY cli ./cli
COPY loader ./loader
COPY generator ./generator
COPY dashboard ./dashboard
RUN pip install --no-cache-dir .
COPY dbt_sales ./dbt_sales
COPY profiles.yml ./
RUN useradd --create-home salespipe && chown -R salespipe /app
USER salespipe
ENV DBT_PROJECT_DIR=/app/dbt_sales
CMD ["salespipe", "--help"]
