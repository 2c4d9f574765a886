"""S3: the bucket holding zengin diffs over 400 KB."""

from __future__ import annotations

from typing import Any

from ..config import ZenginSettings
from .aws import classify, endpoint_display, make_client
from ..log import backend_call
from .base import Health, probe


class S3Backend:
    kind = "s3"

    def __init__(self, settings: ZenginSettings, name: str = "s3"):
        self.settings = settings
        self.name = name
        self.bucket = settings.bucket
        self.client = make_client("s3", settings)

    @property
    def address(self) -> str:
        return f"s3://{self.bucket} @ {endpoint_display(self.settings)}"

    def call(self, method: str, **kwargs: Any) -> dict[str, Any]:
        with backend_call("s3", self.bucket, method):
            try:
                return getattr(self.client, method)(**kwargs)
            except Exception as exc:  # noqa: BLE001 - classified
                raise classify(self.name, exc) from None

    def get_bytes(self, key: str) -> bytes:
        body = self.call("get_object", Bucket=self.bucket, Key=key)["Body"]
        try:
            return body.read()
        finally:
            body.close()

    def put_bytes(self, key: str, data: bytes, content_type: str = "application/json") -> None:
        self.call("put_object", Bucket=self.bucket, Key=key, Body=data, ContentType=content_type)

    def _health(self) -> str:
        self.call("head_bucket", Bucket=self.bucket)
        return "S3 bucket reachable"

    def health(self) -> Health:
        return probe(self.name, self.kind, self.address, self._health)

    def close(self) -> None:
        self.client.close()
