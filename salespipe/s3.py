"""boto3 S3 client built from the settings (local moto, MinIO or real AWS)."""

from __future__ import annotations

from typing import Any

from salespipe.contract import INCOMING_PREFIX, PROCESSED_PREFIX, REJECTED_PREFIX
from salespipe.settings import Settings

# Where a moved object keeps the ETag it was loaded under (sent as x-amz-meta-salespipe-etag).
ETAG_METADATA = "salespipe-etag"


def client(settings: Settings, **config: Any) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3",
        endpoint_url=settings.s3_endpoint,
        aws_access_key_id=settings.s3_access_key,
        aws_secret_access_key=settings.s3_secret_key,
        region_name=settings.AWS_REGION,
        config=Config(
            retries={"max_attempts": config.pop("max_attempts", 5), "mode": "standard"},
            connect_timeout=config.pop("connect_timeout", 5),
            read_timeout=config.pop("read_timeout", 60),
            s3={"addressing_style": "path"},
            **config,
        ),
    )


def ensure_bucket(settings: Settings) -> bool:
    """Create the bucket when missing; returns True when it was created."""
    from botocore.exceptions import ClientError

    s3 = client(settings)
    try:
        s3.head_bucket(Bucket=settings.BUCKET_NAME)
        return False
    except ClientError:
        s3.create_bucket(Bucket=settings.BUCKET_NAME)
        return True


def archived_key(key: str, status: str) -> str:
    """Where `move` puts an object: the same name under processed/ or rejected/."""
    prefix = PROCESSED_PREFIX if status == "loaded" else REJECTED_PREFIX
    return prefix + key.removeprefix(INCOMING_PREFIX)


def archived_candidates(key: str) -> list[str]:
    """Where a moved object of an incoming key may be, most likely first."""
    return [archived_key(key, "loaded"), archived_key(key, "rejected")]


def announced_etag(head: dict[str, Any]) -> str:
    """The ETag a version was loaded under: kept as metadata on a moved copy."""
    return str(head.get("Metadata", {}).get(ETAG_METADATA) or head["ETag"].strip('"'))
