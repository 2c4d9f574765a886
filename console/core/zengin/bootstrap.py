"""``console zengin init``: the DynamoDB table and the S3 bucket as seed 003 describes them,
on a real stack (or a bare moto / LocalStack) that has neither yet.

- table ``zengin-data-diff-{env}``: key ``id`` (HASH) + ``timestamp`` (RANGE), GSI
  ``StatusIndex`` (``status`` + ``timestamp``, projection ALL), TTL on ``ttl``, on-demand
  billing; point-in-time recovery when asked (``--pitr``);
- bucket ``{env}-zengin-diff-data``: versioning, AES-256 default encryption, a 90-day
  lifecycle on ``diffs/`` (current and noncurrent versions), public access blocked.

:func:`inspect` reads what exists, :func:`build_plan` lists only what is missing (so a second
run plans nothing), :func:`run_plan` applies it under the read-only guard with an audit
record. The demo and the test harness call :func:`apply_steps` directly (they build their
own throwaway stack; there is nobody to audit)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from ...backends.base import BackendError, ErrorKind
from ...backends.dynamo import DynamoBackend
from ...backends.s3 import S3Backend
from ...config import Settings
from .. import audit
from ..plan import Hazard, Plan, Step, StepResult

INIT = audit.action("zengin.init", "create the zengin DynamoDB table and S3 bucket (seed 003)")

LIFECYCLE_DAYS = 90


@dataclass(frozen=True)
class State:
    table: bool = False
    status_index: bool = False
    ttl: bool = False
    pitr: bool = False
    bucket: bool = False
    versioning: bool = False
    encryption: bool = False
    lifecycle: bool = False
    public_block: bool = False

    @property
    def complete(self) -> bool:
        return all((self.table, self.status_index, self.ttl, self.bucket, self.versioning,
                    self.encryption, self.lifecycle, self.public_block))


def _exists(fn: Callable[[], Any]) -> Any:
    """The answer of ``fn``, or None when the service says the thing does not exist."""
    try:
        return fn()
    except BackendError as exc:
        if exc.kind is ErrorKind.NOT_FOUND or "NoSuch" in exc.message or "NotFound" in exc.message:
            return None
        raise


def inspect(dynamo: DynamoBackend, s3: S3Backend) -> State:
    desc = _exists(lambda: dynamo.call("describe_table", TableName=dynamo.table)["Table"])
    table = desc is not None
    index = table and any(g.get("IndexName") == "StatusIndex" for g in desc.get("GlobalSecondaryIndexes", []))
    ttl = pitr = False
    if table:
        t = dynamo.call("describe_time_to_live", TableName=dynamo.table).get("TimeToLiveDescription", {})
        ttl = t.get("TimeToLiveStatus") in ("ENABLED", "ENABLING") and t.get("AttributeName") == "ttl"
        cb = _exists(lambda: dynamo.call("describe_continuous_backups", TableName=dynamo.table))
        pitr = bool(cb) and cb["ContinuousBackupsDescription"].get(
            "PointInTimeRecoveryDescription", {}).get("PointInTimeRecoveryStatus") == "ENABLED"
    bucket = _exists(lambda: s3.call("head_bucket", Bucket=s3.bucket)) is not None
    versioning = encryption = lifecycle = block = False
    if bucket:
        versioning = s3.call("get_bucket_versioning", Bucket=s3.bucket).get("Status") == "Enabled"
        enc = _exists(lambda: s3.call("get_bucket_encryption", Bucket=s3.bucket))
        encryption = bool(enc) and any(
            r.get("ApplyServerSideEncryptionByDefault", {}).get("SSEAlgorithm") in ("AES256", "aws:kms")
            for r in enc["ServerSideEncryptionConfiguration"].get("Rules", []))
        lc = _exists(lambda: s3.call("get_bucket_lifecycle_configuration", Bucket=s3.bucket))
        lifecycle = bool(lc) and any(r.get("Status") == "Enabled" and r.get("Expiration", {}).get("Days")
                                     for r in lc.get("Rules", []))
        pab = _exists(lambda: s3.call("get_public_access_block", Bucket=s3.bucket))
        block = bool(pab) and all(pab["PublicAccessBlockConfiguration"].get(k) for k in (
            "BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"))
    return State(table, bool(index), ttl, pitr, bucket, versioning, encryption, lifecycle, block)


def _table_request(dynamo: DynamoBackend) -> dict[str, Any]:
    return {
        "TableName": dynamo.table, "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [{"AttributeName": n, "AttributeType": "S"} for n in ("id", "timestamp", "status")],
        "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}, {"AttributeName": "timestamp", "KeyType": "RANGE"}],
        "GlobalSecondaryIndexes": [{
            "IndexName": "StatusIndex",
            "KeySchema": [{"AttributeName": "status", "KeyType": "HASH"},
                          {"AttributeName": "timestamp", "KeyType": "RANGE"}],
            "Projection": {"ProjectionType": "ALL"}}],
    }


def _bucket_request(s3: S3Backend) -> dict[str, Any]:
    kw: dict[str, Any] = {"Bucket": s3.bucket}
    region = s3.client.meta.region_name
    if region != "us-east-1":
        kw["CreateBucketConfiguration"] = {"LocationConstraint": region}
    return kw


def _step(title: str, service: str, op: str, target: str, **params: Any) -> Step:
    return Step(title, call=f"{service} {op}", target=target, meta={"service": service, "op": op, "params": params})


def build_plan(dynamo: DynamoBackend, s3: S3Backend, state: State, *, pitr: bool = False) -> Plan:
    """Only what ``state`` lacks, in the order it must run (a GSI on a table that exists but
    lacks it is added with UpdateTable)."""
    t, b = dynamo.table, s3.bucket
    steps: list[Step] = []
    if not state.table:
        steps.append(_step(f"create table {t} (id + timestamp, GSI StatusIndex, on-demand)",
                           "dynamodb", "create_table", t, **_table_request(dynamo)))
    elif not state.status_index:
        steps.append(_step(f"add GSI StatusIndex (status + timestamp) to {t}", "dynamodb", "update_table", t,
                           TableName=t, AttributeDefinitions=_table_request(dynamo)["AttributeDefinitions"],
                           GlobalSecondaryIndexUpdates=[{"Create": _table_request(dynamo)["GlobalSecondaryIndexes"][0]}]))
    if not state.ttl:
        steps.append(_step(f"enable TTL on attribute ttl of {t}", "dynamodb", "update_time_to_live", t,
                           TableName=t, TimeToLiveSpecification={"AttributeName": "ttl", "Enabled": True}))
    if pitr and not state.pitr:
        steps.append(_step(f"enable point-in-time recovery on {t}", "dynamodb", "update_continuous_backups", t,
                           TableName=t, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}))
    if not state.bucket:
        steps.append(_step(f"create bucket {b}", "s3", "create_bucket", b, **_bucket_request(s3)))
    if not state.versioning:
        steps.append(_step(f"enable versioning on {b}", "s3", "put_bucket_versioning", b,
                           Bucket=b, VersioningConfiguration={"Status": "Enabled"}))
    if not state.encryption:
        steps.append(_step(f"default encryption AES-256 on {b}", "s3", "put_bucket_encryption", b,
                           Bucket=b, ServerSideEncryptionConfiguration={"Rules": [
                               {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]}))
    if not state.lifecycle:
        steps.append(_step(f"expire diffs/ after {LIFECYCLE_DAYS} days on {b}", "s3",
                           "put_bucket_lifecycle_configuration", b, Bucket=b, LifecycleConfiguration={"Rules": [{
                               "ID": "expire-diffs-90-days", "Status": "Enabled", "Filter": {"Prefix": "diffs/"},
                               "Expiration": {"Days": LIFECYCLE_DAYS},
                               "NoncurrentVersionExpiration": {"NoncurrentDays": LIFECYCLE_DAYS}}]}))
    if not state.public_block:
        steps.append(_step(f"block public access to {b}", "s3", "put_public_access_block", b,
                           Bucket=b, PublicAccessBlockConfiguration={
                               "BlockPublicAcls": True, "IgnorePublicAcls": True,
                               "BlockPublicPolicy": True, "RestrictPublicBuckets": True}))
    summary = (f"zengin init: {len(steps)} step(s) for table {t} and bucket {b}" if steps
               else f"zengin init: table {t} and bucket {b} are complete, nothing to do")
    return Plan(INIT.name, summary, tuple(Step(s.title, call=s.call, target=s.target, hazard=Hazard.NONE, meta=s.meta)
                                          for s in steps))


def apply_steps(dynamo: DynamoBackend, s3: S3Backend, plan: Plan,
                progress: Callable[[int, int, Step], None] | None = None) -> list[StepResult]:
    """Run the steps in order, stopping at the first failure (later ones depend on it)."""
    results: list[StepResult] = []
    for i, step in enumerate(plan.steps, 1):
        if progress:
            progress(i, len(plan.steps), step)
        backend: Any = dynamo if step.meta["service"] == "dynamodb" else s3
        try:
            backend.call(step.meta["op"], **step.meta["params"])
            if step.meta["op"] == "create_table":
                dynamo.client.get_waiter("table_exists").wait(
                    TableName=dynamo.table, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
        except BackendError as exc:
            if step.meta["op"] == "create_bucket" and exc.message.startswith("BucketAlreadyOwnedByYou"):
                results.append(StepResult(step, True, "already there"))
                continue
            results.append(StepResult(step, False, exc.message))
            break
        results.append(StepResult(step, True))
    return results


def ensure(dynamo: DynamoBackend, s3: S3Backend) -> None:
    """Make the table and bucket complete (demo and test harness: their own stack)."""
    for r in apply_steps(dynamo, s3, build_plan(dynamo, s3, inspect(dynamo, s3))):
        if not r.ok:
            raise BackendError(r.step.meta["service"], ErrorKind.ERROR, f"{r.step.title}: {r.message}")


@dataclass
class InitResult:
    results: list[StepResult]
    intent: audit.Intent          # ``intent.unsettled``: done, but the record could not say so

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.results)


def run_plan(settings: Settings, dynamo: DynamoBackend, s3: S3Backend, plan: Plan, *, actor: Any,
             audit_pg: Any, progress: Callable[[int, int, Step], None] | None = None) -> InitResult:
    """The audited path (``console zengin init``), write-ahead: refused in read-only (the
    refusal recorded), refused without an audit target or when the intent cannot be written
    (nothing created then), the intent settled ok/failed after the steps."""
    target = f"aws:{dynamo.table},{s3.bucket}"
    if audit_pg is None:
        raise BackendError("audit", ErrorKind.REFUSED,
                           "zengin init needs an audit target (audit_target or [zengin] target)")
    intent = audit.begin(settings, INIT, target=target, principal=actor, plan=plan, audit_pg=audit_pg)
    try:
        results = apply_steps(dynamo, s3, plan, progress)
    except BaseException as exc:
        audit.settle(intent, audit.outcome_of(exc), {"error": str(exc)})
        raise
    ok = all(r.ok for r in results)
    audit.settle(intent, audit.OK if ok else audit.FAILED,
                 {"steps": [{"title": r.step.title, "ok": r.ok, "message": r.message} for r in results]})
    return InitResult(results, intent)
