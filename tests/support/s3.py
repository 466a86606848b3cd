"""A real S3 endpoint over HTTP for the S3 storage: moto's server, on loopback, one per run."""

from __future__ import annotations

import os
import uuid
from typing import Any

from devtools.server import HOST, free_port

# moto accepts any credentials; boto3 needs some. Set before any client is made, here and in
# every server a test starts (they inherit the environment).
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}
_server: dict[str, Any] = {}


def s3_endpoint() -> str:
    """The URL of the run's moto S3 server, started on first use."""
    if "url" not in _server:
        from moto.server import ThreadedMotoServer

        os.environ.update(FAKE_CREDENTIALS)
        port = free_port()
        server = ThreadedMotoServer(ip_address=HOST, port=port, verbose=False)
        server.start()
        _server.update(server=server, url=f"http://{HOST}:{port}")
    url: str = _server["url"]
    return url


def stop_s3() -> None:
    """Stop the run's moto server, if one started."""
    server = _server.pop("server", None)
    _server.pop("url", None)
    if server is not None:
        server.stop()


def new_bucket() -> str:
    """A new empty bucket on the run's server."""
    import boto3

    name = f"blogapi-{uuid.uuid4().hex[:16]}"
    boto3.client("s3", endpoint_url=s3_endpoint(), region_name="us-east-1").create_bucket(
        Bucket=name
    )
    return name


def s3_settings(bucket: str | None = None) -> dict[str, Any]:
    """App settings for S3 storage in a (new) bucket on the run's server."""
    return {
        "MEDIA_STORAGE": "s3",
        "MEDIA_S3_BUCKET": bucket or new_bucket(),
        "MEDIA_S3_ENDPOINT_URL": s3_endpoint(),
        "MEDIA_S3_REGION": "us-east-1",
    }


def s3_env(bucket: str | None = None) -> dict[str, str]:
    """Environment variables for a server process storing media in a (new) bucket."""
    return {**FAKE_CREDENTIALS, **{k: str(v) for k, v in s3_settings(bucket).items()}}
