"""Local stand-ins for the managed services: PostgreSQL, S3 (moto) and Apache Kafka.

Each runs as a detached process whose pid and port are recorded in `.salespipe/services.json`,
so `down` stops exactly what `up` started and two checkouts never share a port.
"""
