"""Shared boto3 plumbing for DynamoDB and S3: the standard credential chain, an optional
``endpoint_url`` (moto, LocalStack), short timeouts and typed errors."""

from __future__ import annotations

import threading

import boto3
import botocore.config
import botocore.exceptions

from ..config import ZenginSettings, mask_url
from .base import BackendError, ErrorKind

_AUTH_CODES = {"UnrecognizedClientException", "InvalidSignatureException", "ExpiredToken",
               "ExpiredTokenException", "AccessDenied", "AccessDeniedException",
               "InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidClientTokenId"}
_THROTTLE_CODES = {"ProvisionedThroughputExceededException", "ThrottlingException",
                   "RequestLimitExceeded", "SlowDown", "Throttling", "TooManyRequestsException"}
_NOT_FOUND_CODES = {"ResourceNotFoundException", "NoSuchBucket", "NoSuchKey", "404", "NotFound",
                    "TableNotFoundException"}


def classify(name: str, exc: BaseException) -> BackendError:
    if isinstance(exc, BackendError):
        return exc
    if isinstance(exc, botocore.exceptions.ClientError):
        err = exc.response.get("Error", {})
        code = str(err.get("Code", ""))
        msg = f"{code}: {err.get('Message', '')}".strip(": ")
        if code in ("ConditionalCheckFailedException", "TransactionCanceledException", "PreconditionFailed"):
            return BackendError(name, ErrorKind.CONFLICT, msg)
        if code in _AUTH_CODES:
            return BackendError(name, ErrorKind.AUTH, msg)
        if code in _THROTTLE_CODES:
            return BackendError(name, ErrorKind.THROTTLED, msg)
        if code in _NOT_FOUND_CODES:
            return BackendError(name, ErrorKind.NOT_FOUND, msg)
        return BackendError(name, ErrorKind.ERROR, msg)
    if isinstance(exc, (botocore.exceptions.NoCredentialsError,
                        botocore.exceptions.PartialCredentialsError)):
        return BackendError(name, ErrorKind.AUTH, "no AWS credentials found in the standard chain")
    if isinstance(exc, (botocore.exceptions.ConnectTimeoutError, botocore.exceptions.ReadTimeoutError)):
        return BackendError(name, ErrorKind.TIMEOUT, type(exc).__name__)
    if isinstance(exc, botocore.exceptions.EndpointConnectionError):
        return BackendError(name, ErrorKind.UNREACHABLE, f"cannot reach endpoint {exc.kwargs.get('endpoint_url', '')}")
    if isinstance(exc, botocore.exceptions.BotoCoreError):
        return BackendError(name, ErrorKind.ERROR, str(exc))
    return BackendError(name, ErrorKind.ERROR, f"{type(exc).__name__}: {exc}")


_session_lock = threading.Lock()


def make_client(service: str, settings: ZenginSettings):
    """boto3 sessions are not thread-safe, clients are: build clients under a lock and
    share them between worker threads."""
    cfg = botocore.config.Config(
        connect_timeout=min(3.0, settings.timeout_s), read_timeout=settings.timeout_s,
        retries={"max_attempts": 2, "mode": "standard"},
        user_agent_extra="console",
    )
    with _session_lock:
        session = boto3.session.Session(region_name=effective_region(settings))
        return session.client(service, endpoint_url=settings.endpoint_url, config=cfg)


def effective_region(settings: ZenginSettings) -> str:
    """The AWS profile's (or ``$AWS_REGION`` / ``$AWS_DEFAULT_REGION``'s) region, as the AWS
    CLI would use it; the configured ``[zengin] region`` only when they name none, or when
    ``force_region = true`` says so."""
    if settings.force_region:
        return settings.region
    return boto3.session.Session().region_name or settings.region


def endpoint_display(settings: ZenginSettings) -> str:
    return mask_url(settings.endpoint_url) if settings.endpoint_url else f"aws {effective_region(settings)}"
