"""DynamoDB: the zengin diff table (key id + timestamp, GSI StatusIndex)."""

from __future__ import annotations

from typing import Any

from ..config import ZenginSettings
from .aws import classify, endpoint_display, make_client
from ..log import backend_call
from .base import Health, probe


class DynamoBackend:
    kind = "dynamodb"

    def __init__(self, settings: ZenginSettings, name: str = "dynamodb"):
        self.settings = settings
        self.name = name
        self.table = settings.table
        self.client = make_client("dynamodb", settings)

    @property
    def address(self) -> str:
        return f"{self.table} @ {endpoint_display(self.settings)}"

    def call(self, method: str, **kwargs: Any) -> dict[str, Any]:
        with backend_call("dynamodb", self.table, method):
            try:
                return getattr(self.client, method)(**kwargs)
            except Exception as exc:  # noqa: BLE001 - classified
                raise classify(self.name, exc) from None

    def _health(self) -> str:
        desc = self.call("describe_table", TableName=self.table)["Table"]
        return f"DynamoDB table {desc.get('TableStatus', '?')}"

    def health(self) -> Health:
        return probe(self.name, self.kind, self.address, self._health)

    def close(self) -> None:
        self.client.close()
