"""ERP/WMS stock sync: bulk adjustments (deltas) and snapshots (absolute counts as of a time).

Rules:
- A batch is judged row by row: a bad row (unknown SKU or location, a change that would leave less on hand
  than is reserved, a malformed value) is rejected with its index and reason; the good rows are applied.
- A snapshot row is a count *as of* a time. Movements recorded after that time are kept:
  new on_hand = counted + sum(movements after as_of); the difference is posted as a `count` movement dated
  as_of. A row older than a count already applied to the same level is rejected as stale, so a late
  snapshot never undoes a newer one.
- A change that would leave on_hand below reserved is rejected for that row (never clamped): stock that is
  promised to orders is not silently taken away.
- Work is bulk: a few queries whatever the size (products, locations, levels in bulk, missing levels created
  with one INSERT, rows locked in one statement in (location, product) order, one UPDATE, one INSERT of
  movements), so a 10,000-row batch takes about a second.
- Stock increases emit one `stock.adjusted` event per batch (not per row) so that backorders can react.
"""

import csv
import io
import re
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from inventory import sql
from inventory.ledger import lot_for, post_movement
from inventory.models import Location, MovementKind, Product, StockLevel
from inventory.units import MAX_UNITS
from oms import audit, rls
from oms.actors import Actor
from oms.errors import DomainError
from oms.models import Tenant
from oms.outbox import emit
from oms.spreadsheets import safe_cell

MAX_ROWS = 10_000
MAX_QUANTITY = MAX_UNITS
_INTEGER = re.compile(r"^[+-]?\d{1,10}$")
ADJUSTMENT_KINDS = (MovementKind.ADJUSTMENT, MovementKind.RECEIPT)


@dataclass
class SyncResult:
    batch: str
    accepted: int = 0
    rejected: list = field(default_factory=list)
    results: list = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"batch": self.batch, "accepted": self.accepted, "rejected": self.rejected, "results": self.results}


@dataclass
class _Row:
    index: int
    sku: str
    location: str
    value: int
    reason: str = ""
    kind: str = MovementKind.ADJUSTMENT
    lot: str = ""
    expires_on: date | None = None
    key: tuple | None = None  # (product_id, location_id)


def _as_int(value):
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and _INTEGER.match(value.strip()):
        return int(value.strip())
    return None


def _as_date(value):
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def _message(exc: DomainError) -> str:
    errors = exc.extra.get("errors") or {}
    messages = [str(m) for field_messages in errors.values() for m in field_messages]
    return " ".join(messages) or exc.detail


def _text(row: dict, name: str) -> str:
    value = row.get(name)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    return value.strip() if isinstance(value, str) else ""


def _parse(rows, *, value_field: str, snapshot: bool, index_offset: int, result: SyncResult) -> list[_Row]:
    parsed = []
    for position, raw in enumerate(rows):
        index = index_offset + position
        if not isinstance(raw, dict):
            _reject(result, index, "", "", f"A row is an object with sku, location and {value_field}.")
            continue
        sku, code = _text(raw, "sku"), _text(raw, "location")
        value = _as_int(raw.get(value_field))
        reason = _text(raw, "reason").replace("\x00", "")
        kind = raw.get("kind", MovementKind.ADJUSTMENT) if not snapshot else MovementKind.COUNT
        lot, expires_on = _text(raw, "lot"), _as_date(raw.get("expires_on"))
        if "\x00" in sku + code + lot:  # PostgreSQL text holds no NUL: no SKU or code can contain one
            _reject(result, index, sku.replace("\x00", ""), code.replace("\x00", ""), "NUL character in a value.")
        elif not sku:
            _reject(result, index, sku, code, "sku is required.")
        elif not code:
            _reject(result, index, sku, code, "location is required.")
        elif value is None:
            _reject(result, index, sku, code, f"{value_field} must be a whole number.")
        elif abs(value) > MAX_QUANTITY:
            _reject(result, index, sku, code, f"{value_field} is out of range (at most {MAX_QUANTITY}).")
        elif snapshot and value < 0:
            _reject(result, index, sku, code, "quantity cannot be negative.")
        elif not snapshot and value == 0:
            _reject(result, index, sku, code, "delta of 0 changes nothing.")
        elif not snapshot and kind not in ADJUSTMENT_KINDS:
            _reject(result, index, sku, code, "kind must be adjustment or receipt.")
        elif raw.get("expires_on") not in (None, "") and expires_on is None:
            _reject(result, index, sku, code, "expires_on must be a date (YYYY-MM-DD).")
        else:
            parsed.append(
                _Row(
                    index=index,
                    sku=sku,
                    location=code,
                    value=value,
                    reason=reason.strip()[:200],
                    kind=kind,
                    lot=lot[:64],
                    expires_on=expires_on,
                )
            )
    return parsed


def _reject(result: SyncResult, index: int, sku: str, location: str, reason: str) -> None:
    entry = {"index": index, "sku": sku, "location": location, "reason": reason}
    result.rejected.append(entry)
    result.results.append({**entry, "status": "rejected"})


def _level_ids(tenant, pairs: set) -> dict:
    """{(product_id, location_id): level_id} for the pairs that have a stock row."""
    return sql.level_ids(tenant_id=tenant.id, pairs=pairs) if pairs else {}


def _ensure_levels(tenant, wanted: set, known: dict) -> dict:
    missing = wanted - known.keys()
    if missing:
        StockLevel.objects.bulk_create(
            [
                StockLevel(tenant=tenant, product_id=p, location_id=loc)
                for p, loc in sorted(missing, key=lambda k: (k[1], k[0]))
            ],
            ignore_conflicts=True,
            batch_size=2000,
        )
        known.update(_level_ids(tenant, missing))
    return known


def _lock(tenant, level_ids: dict) -> dict:
    """Lock the rows in (location, product) order, the order every stock writer uses; {id: [on_hand, reserved]}."""
    ordered = [level_ids[key] for key in sorted(level_ids, key=lambda k: (k[1], k[0]))]
    return sql.lock_levels(tenant_id=tenant.id, ids=ordered)


def _insert_movements(tenant, rows: list, *, reference: str, actor: Actor, occurred_at) -> None:
    """Write the ledger rows [(level_id, kind, quantity, reason)] in bulk."""
    if rows:
        sql.insert_movements(
            tenant_id=tenant.id,
            rows=[(level_id, kind, quantity, reason[:200]) for level_id, kind, quantity, reason in rows],
            reference=reference[:120],
            actor_label=actor.label[:200],
            occurred_at=occurred_at,
            now=timezone.now(),
        )


def _post_lot_row(tenant, row: _Row, level_id: int, change: int, product, location, actor, reference, as_of) -> str:
    """One row of a lot-tracked product through the ledger: a receipt names its lot, a removal without a lot
    takes the earliest-expiring units. Returns the reason when refused, "" when posted."""
    level = StockLevel(id=level_id, tenant=tenant, product=product, location=location)
    try:
        with transaction.atomic():
            lot = lot_for(tenant=tenant, level=level, code=row.lot, expires_on=row.expires_on) if row.lot else None
            post_movement(
                tenant=tenant,
                level=level,
                kind=row.kind,
                quantity=change,
                actor=actor,
                reason=row.reason or ("count" if as_of else ""),
                reference=reference,
                occurred_at=as_of,
                lot=lot,
            )
    except DomainError as exc:
        return _message(exc)
    return ""


def apply_adjustments(
    *, tenant: Tenant, rows: list, actor: Actor, index_offset: int = 0, batch: str = ""
) -> SyncResult:
    """Apply stock deltas (`{"sku", "location", "delta", "reason", "kind"}`) row by row; see the module rules."""
    return _apply(tenant=tenant, rows=rows, actor=actor, as_of=None, index_offset=index_offset, batch=batch)


def apply_snapshot(
    *, tenant, rows: list, as_of: datetime, actor: Actor, index_offset: int = 0, batch: str = ""
) -> SyncResult:
    """Apply absolute counts (`{"sku", "location", "quantity"}`) taken at `as_of`; see the module rules."""
    if timezone.is_naive(as_of):
        raise ValueError("as_of must be timezone-aware")
    return _apply(tenant=tenant, rows=rows, actor=actor, as_of=as_of, index_offset=index_offset, batch=batch)


def _apply(*, tenant: Tenant, rows, actor, as_of, index_offset, batch) -> SyncResult:
    snapshot = as_of is not None
    result = SyncResult(batch=batch or uuid.uuid4().hex[:16])
    reference = f"{'snapshot' if snapshot else 'adjustments'}:{result.batch}"
    parsed = _parse(
        rows,
        value_field="quantity" if snapshot else "delta",
        snapshot=snapshot,
        index_offset=index_offset,
        result=result,
    )
    with transaction.atomic():
        products = sql.ids_by(Product, tenant_id=tenant.id, field_name="sku", values={r.sku for r in parsed})
        locations = sql.ids_by(Location, tenant_id=tenant.id, field_name="code", values={r.location for r in parsed})
        # Lot-tracked products go through the ledger row by row (each movement names its lot); the rest in bulk.
        lot_products = (
            {p.id: p for p in Product.objects.for_tenant(tenant).filter(sku__in=list(products), tracks_lots=True)}
            if products
            else {}
        )
        place = (
            {loc.id: loc for loc in Location.objects.for_tenant(tenant).filter(id__in=list(locations.values()))}
            if lot_products
            else {}
        )
        lot_levels = set()
        valid = []
        for row in parsed:
            if row.sku not in products:
                _reject(result, row.index, row.sku, row.location, f"Unknown SKU {row.sku}.")
            elif row.location not in locations:
                _reject(result, row.index, row.sku, row.location, f"Unknown location {row.location}.")
            else:
                row.key = (products[row.sku], locations[row.location])
                valid.append(row)
        levels = _level_ids(tenant, {r.key for r in valid})
        # Only rows that may add stock need a row created; a decrease of stock that does not exist is refused.
        levels = _ensure_levels(tenant, {r.key for r in valid if r.value > 0}, levels)
        state = _lock(tenant, {key: levels[key] for key in {r.key for r in valid} if key in levels})
        initial = {level_id: values[0] for level_id, values in state.items()}
        later = sql.later_movements(tenant_id=tenant.id, ids=list(state), as_of=as_of) if snapshot else {}
        movements, accepted_rows = [], []
        for row in valid:
            level_id = levels.get(row.key)
            on_hand, reserved = state[level_id] if level_id in state else (0, 0)
            if snapshot:
                moved_since, newest_count = later.get(level_id, (0, None))
                if newest_count is not None:
                    _reject(
                        result,
                        row.index,
                        row.sku,
                        row.location,
                        f"Stale count: a newer count (as of {newest_count.isoformat()}) was already applied.",
                    )
                    continue
                target = row.value + moved_since
                change = target - on_hand
                if target < reserved:
                    _reject(
                        result,
                        row.index,
                        row.sku,
                        row.location,
                        f"A count of {row.value} plus {moved_since} moved since {as_of.isoformat()} leaves "
                        f"{target} on hand, below the {reserved} reserved for orders.",
                    )
                    continue
            else:
                change = row.value
                if on_hand + change < reserved or on_hand + change < 0:
                    _reject(
                        result,
                        row.index,
                        row.sku,
                        row.location,
                        f"On hand {on_hand}, reserved {reserved}: a change of {change} would leave less on "
                        "hand than is reserved.",
                    )
                    continue
                if on_hand + change > MAX_QUANTITY:
                    _reject(result, row.index, row.sku, row.location, "The resulting quantity is out of range.")
                    continue
            if change and row.key[0] in lot_products:
                failure = _post_lot_row(
                    tenant, row, level_id, change, lot_products[row.key[0]], place[row.key[1]], actor, reference, as_of
                )
                if failure:
                    _reject(result, row.index, row.sku, row.location, failure)
                    continue
                lot_levels.add(level_id)
            elif change:
                movements.append((row, level_id, change))
            if change:
                state[level_id][0] = on_hand + change
            accepted_rows.append((row, level_id, change))
        net = {
            level_id: values[0] - initial[level_id]
            for level_id, values in state.items()
            if values[0] != initial[level_id]
        }
        bulk = {level_id: change for level_id, change in net.items() if level_id not in lot_levels}
        if bulk:
            sql.add_to_on_hand(tenant_id=tenant.id, changes=bulk, now=timezone.now())
        _insert_movements(
            tenant,
            [
                (level_id, row.kind, change, row.reason or ("count" if snapshot else ""))
                for row, level_id, change in movements
            ],
            reference=reference,
            actor=actor,
            occurred_at=as_of or timezone.now(),
        )
        increases = []
        for row, _level_id, change in accepted_rows:
            result.accepted += 1
            result.results.append(
                {
                    "index": row.index,
                    "sku": row.sku,
                    "location": row.location,
                    "status": "applied" if change else "unchanged",
                    "change": change,
                }
            )
            if change > 0:
                increases.append(row)
        result.results.sort(key=lambda r: r["index"])
        result.rejected.sort(key=lambda r: r["index"])
        if increases:
            emit(
                tenant,
                "stock.adjusted",
                {
                    "batch": result.batch,
                    "source": "snapshot" if snapshot else "adjustments",
                    "skus": sorted({r.sku for r in increases}),
                    "locations": sorted({r.location for r in increases}),
                    "rows": len(increases),
                },
            )
        if net:
            from inventory.alerts import evaluate_levels

            evaluate_levels(
                tenant=tenant, level_ids=sorted(net), pairs={key for key, level_id in levels.items() if level_id in net}
            )
        audit.record(
            tenant=tenant,
            actor=actor,
            action="inventory.snapshot" if snapshot else "inventory.adjustments",
            object_type="inventory.batch",
            object_id=result.batch,
            object_repr=reference,
            changes={
                "accepted": result.accepted,
                "rejected": len(result.rejected),
                "as_of": as_of.isoformat() if snapshot else None,
            },
        )
    return result


# --- CSV import jobs (back office) ----------------------------------------------------------------------------

IMPORT_CHUNK = 1000
MAX_IMPORT_BYTES = 20 * 1024 * 1024
MAX_IMPORT_ROWS = 500_000
STALE_IMPORT_SECONDS = 120
_COLUMNS = ("sku", "location", "quantity", "reason", "lot", "expires_on")


def _csv_rows(content: str) -> tuple[list[str], list[dict]]:
    """(header, rows) of a CSV with a header line; comma, semicolon or tab separated."""
    first_line = content.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first_line.count)
    reader = csv.reader(io.StringIO(content), delimiter=delimiter)
    try:
        header = [column.strip().lower().lstrip("\ufeff") for column in next(reader)]
    except StopIteration:
        return [], []
    header = ["quantity" if column in ("delta", "qty") else column for column in header]
    rows = []
    for values in reader:
        if not any(value.strip() for value in values):
            continue
        rows.append(
            {name: (values[i].strip() if i < len(values) else "") for i, name in enumerate(header) if name in _COLUMNS}
        )
    return header, rows


def create_import_job(*, tenant: Tenant, actor: Actor, mode: str, file_name: str, content: bytes, as_of=None):
    """Check the file's shape (header, size) and store it as a pending job; rows are judged when it runs."""
    from inventory.models import StockImportJob
    from oms.errors import ValidationFailed

    if mode not in StockImportJob.Mode.values:
        raise ValidationFailed(errors={"mode": ["Choose adjustments or snapshot."]})
    if len(content) > MAX_IMPORT_BYTES:
        raise ValidationFailed(errors={"file": [f"The file is larger than {MAX_IMPORT_BYTES // (1024 * 1024)} MB."]})
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationFailed(errors={"file": ["The file is not UTF-8 text."]}) from None
    if "\x00" in text:
        raise ValidationFailed(errors={"file": ["The file holds NUL bytes: it is not a text CSV."]})
    try:
        header, rows = _csv_rows(text)
    except csv.Error as exc:
        raise ValidationFailed(errors={"file": [f"The file is not a readable CSV: {exc}."]}) from None
    missing = [column for column in ("sku", "location", "quantity") if column not in header]
    if missing:
        raise ValidationFailed(
            errors={
                "file": [
                    "The first line names the columns sku, location, quantity "
                    "(and optionally reason); missing: " + ", ".join(missing) + "."
                ]
            }
        )
    if not rows:
        raise ValidationFailed(errors={"file": ["The file has no rows."]})
    if len(rows) > MAX_IMPORT_ROWS:
        raise ValidationFailed(errors={"file": [f"At most {MAX_IMPORT_ROWS} rows per file."]})
    if mode == StockImportJob.Mode.SNAPSHOT:
        as_of = as_of or timezone.now()
        if as_of > timezone.now() + timedelta(minutes=5):
            raise ValidationFailed(errors={"as_of": ["A count cannot be dated in the future."]})
    else:
        as_of = None
    with transaction.atomic():
        job = StockImportJob.objects.create(
            tenant=tenant,
            mode=mode,
            file_name=file_name[:200],
            content=text,
            as_of=as_of,
            total_rows=len(rows),
            created_by=actor.user,
            actor_label=actor.label[:200],
        )
        audit.record(
            tenant=tenant,
            actor=actor,
            action="inventory.import_uploaded",
            obj=job,
            changes={"mode": mode, "rows": len(rows)},
        )
    return job


def _claim_import(job_id: int):
    """The job, when this runner may work on it (pending, or running but abandoned); None otherwise."""
    from inventory.models import StockImportJob

    job = StockImportJob.all_tenants.select_related("tenant", "created_by").filter(id=job_id).first()
    if job is None or job.finished:
        return None
    now = timezone.now()
    claim = StockImportJob.all_tenants.filter(id=job.id, status=job.status, heartbeat_at=job.heartbeat_at)
    if (
        job.status == StockImportJob.Status.RUNNING
        and job.heartbeat_at
        and job.heartbeat_at > now - timedelta(seconds=STALE_IMPORT_SECONDS)
    ):
        return None
    if not claim.update(status=StockImportJob.Status.RUNNING, heartbeat_at=now, started_at=job.started_at or now):
        return None
    job.refresh_from_db()
    return job


def run_import_job(*, job_id: int) -> bool:
    """Apply a pending import by chunks; each chunk and the job's progress commit together, so a crash or a
    second delivery of the task resumes after the last committed chunk and never applies a row twice.
    Returns False when there was nothing to do (finished, or another runner holds it)."""
    from inventory.models import StockImportJob, StockImportRejection

    job = _claim_import(job_id)
    if job is None:
        return False
    tenant = job.tenant
    actor = Actor(label=job.actor_label or "import", user=job.created_by)
    _, rows = _csv_rows(job.content)
    value_field = "quantity" if job.mode == StockImportJob.Mode.SNAPSHOT else "delta"
    while job.processed_rows < len(rows):
        start = job.processed_rows
        chunk = rows[start : start + IMPORT_CHUNK]
        payload = [{**row, value_field: row.get("quantity", "")} for row in chunk]
        with transaction.atomic():
            batch = f"import-{job.id}-{start // IMPORT_CHUNK}"
            if job.mode == StockImportJob.Mode.SNAPSHOT:
                result = apply_snapshot(
                    tenant=tenant, rows=payload, as_of=job.as_of, actor=actor, index_offset=start, batch=batch
                )
            else:
                result = apply_adjustments(tenant=tenant, rows=payload, actor=actor, index_offset=start, batch=batch)
            done = start + len(chunk)
            advanced = StockImportJob.all_tenants.filter(id=job.id, processed_rows=start).update(
                processed_rows=done,
                accepted=job.accepted + result.accepted,
                rejected=job.rejected + len(result.rejected),
                heartbeat_at=timezone.now(),
            )
            if not advanced:  # another runner took over: give this chunk back
                transaction.set_rollback(True)
                return False
            StockImportRejection.objects.bulk_create(
                [
                    StockImportRejection(
                        tenant=tenant,
                        job=job,
                        line=r["index"] + 2,
                        sku=r["sku"][:64],
                        location=r["location"][:40],
                        quantity=str(rows[r["index"]].get("quantity", ""))[:32],
                        reason=r["reason"][:300],
                    )
                    for r in result.rejected
                ],
                batch_size=1000,
            )
        job.processed_rows, job.accepted, job.rejected = (
            done,
            job.accepted + result.accepted,
            job.rejected + len(result.rejected),
        )
    StockImportJob.all_tenants.filter(id=job.id).update(status=StockImportJob.Status.DONE, finished_at=timezone.now())
    return True


def fail_import_job(*, job_id: int, failure: str) -> None:
    from inventory.models import StockImportJob

    StockImportJob.all_tenants.filter(id=job_id).exclude(status=StockImportJob.Status.DONE).update(
        status=StockImportJob.Status.FAILED, failure=failure[:2000], finished_at=timezone.now()
    )


def import_needs_kick(job) -> bool:
    """A job still waiting long after upload, or running with no sign of life: its task was lost."""
    now = timezone.now()
    if job.status == job.Status.PENDING:
        return job.created_at < now - timedelta(seconds=30)
    if job.status == job.Status.RUNNING:
        return job.heartbeat_at is None or job.heartbeat_at < now - timedelta(seconds=STALE_IMPORT_SECONDS)
    return False


def import_error_csv(job, chunk: int = 2000):
    """The rejected rows as CSV lines (line of the file, sku, location, quantity, error), streamed.

    Streamed after the request's row-level security frame has closed: each chunk is read in a frame of the job's
    tenant of its own, and nothing is yielded while a frame is open (a client leaving midway ends the stream
    between two chunks)."""
    out = io.StringIO()
    writer = csv.writer(out)

    def flush() -> str:
        text = out.getvalue()
        out.seek(0)
        out.truncate()
        return text

    writer.writerow(["line", "sku", "location", "quantity", "error"])
    yield flush()
    after = None
    while True:
        with rls.tenant(job.tenant_id):
            rows = job.rejections.order_by("line", "id")
            if after is not None:
                rows = rows.filter(Q(line__gt=after[0]) | Q(line=after[0], id__gt=after[1]))
            errors = list(rows.values_list("line", "id", "sku", "location", "quantity", "reason")[:chunk])
        for error in errors:
            writer.writerow([error[0], *(safe_cell(value) for value in error[2:])])
            yield flush()
        if len(errors) < chunk:
            return
        after = (errors[-1][0], errors[-1][1])
