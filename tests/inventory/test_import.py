"""CSV import from the back office: upload → background task by chunks → progress → error report."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from inventory import sync
from inventory.ledger import level_for, post_movement
from inventory.models import StockImportJob, StockLevel, StockMovement
from oms.actors import Actor
from tests import factories

SYSTEM = Actor.system("tests")


@pytest.fixture
def eager():
    """Tasks run in-process, as on the embedded demo."""
    from oms.celery import app

    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before


@pytest.fixture
def catalog(tenant):
    for sku in ("A", "B"):
        factories.ProductFactory(tenant=tenant, sku=sku)
    factories.LocationFactory(tenant=tenant, code="WH1")


def on_hand(tenant, sku):
    level = StockLevel.objects.for_tenant(tenant).filter(product__sku=sku, location__code="WH1").first()
    return level.on_hand if level else 0


def upload(client, content: bytes, mode="adjustments", name="stock.csv", **extra):
    return client.post(
        "/inventory/imports/", {"mode": mode, "file": SimpleUploadedFile(name, content, "text/csv"), **extra}
    )


def test_csv_import_end_to_end(user_client, tenant, catalog, eager, django_capture_on_commit_callbacks):
    client = user_client("back_office")
    content = (
        b"sku,location,quantity,reason\nA,WH1,5,received\nNOPE,WH1,1,x\nB,WH1,=1+1,x\nB,WH1,3,\nA,WH1,-2,damaged\n"
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(client, content)
    job = StockImportJob.objects.for_tenant(tenant).get()
    assert response.status_code == 302 and response["Location"] == f"/inventory/imports/{job.id}/"
    job.refresh_from_db()
    assert job.status == StockImportJob.Status.DONE
    assert (job.total_rows, job.processed_rows, job.accepted, job.rejected) == (5, 5, 3, 2)
    assert on_hand(tenant, "A") == 3 and on_hand(tenant, "B") == 3
    page = client.get(f"/inventory/imports/{job.id}/")
    assert page.status_code == 200
    progress = client.get(f"/inventory/imports/{job.id}/progress/")
    html = progress.content.decode()
    assert '<progress max="5" value="5">' in html and "hx-trigger" not in html  # finished: polling stops
    report = client.get(f"/inventory/imports/{job.id}/errors.csv")
    assert report.status_code == 200 and report["Content-Type"].startswith("text/csv")
    lines = b"".join(report.streaming_content).decode().splitlines()
    assert lines[0] == "line,sku,location,quantity,error"
    assert lines[1].startswith("3,NOPE,WH1,1,Unknown SKU")
    assert lines[2].startswith("4,B,WH1,'=1+1,")  # a formula in the file stays inert in the report


def test_a_running_import_is_polled_with_a_progress_bar(user_client, tenant, catalog):
    client = user_client("admin")
    job = sync.create_import_job(
        tenant=tenant,
        actor=SYSTEM,
        mode="adjustments",
        file_name="big.csv",
        content=b"sku,location,quantity\n" + b"A,WH1,1\n" * 40,
    )
    StockImportJob.objects.for_tenant(tenant).filter(id=job.id).update(
        status="running", processed_rows=10, heartbeat_at=timezone.now()
    )
    html = client.get(f"/inventory/imports/{job.id}/progress/").content.decode()
    assert 'hx-trigger="every 1s"' in html and '<progress max="40" value="10">' in html
    assert "10 of 40 rows done" in html


def test_snapshot_import_uses_its_as_of(user_client, tenant, catalog, eager, django_capture_on_commit_callbacks):
    client = user_client("back_office")
    with django_capture_on_commit_callbacks(execute=True):
        upload(client, b"sku;location;quantity\nA;WH1;7\n", mode="snapshot", as_of="2020-01-01T10:00")
    job = StockImportJob.objects.for_tenant(tenant).get()
    assert job.status == "done" and job.as_of.year == 2020
    assert on_hand(tenant, "A") == 7
    assert StockMovement.objects.for_tenant(tenant).get().kind == "count"


def test_an_interrupted_import_resumes_without_applying_a_row_twice(tenant, catalog, monkeypatch):
    monkeypatch.setattr(sync, "IMPORT_CHUNK", 2)
    job = sync.create_import_job(
        tenant=tenant,
        actor=SYSTEM,
        mode="adjustments",
        file_name="f.csv",
        content=b"sku,location,quantity\n" + b"A,WH1,1\n" * 5,
    )
    real, calls = sync.apply_adjustments, []

    def crash_on_second_chunk(**kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("worker died")
        return real(**kwargs)

    monkeypatch.setattr(sync, "apply_adjustments", crash_on_second_chunk)
    with pytest.raises(RuntimeError):
        sync.run_import_job(job_id=job.id)
    job.refresh_from_db()
    assert job.processed_rows == 2 and on_hand(tenant, "A") == 2
    assert sync.run_import_job(job_id=job.id) is False  # still held by the runner that died, until it is stale
    StockImportJob.objects.for_tenant(tenant).filter(id=job.id).update(
        heartbeat_at=timezone.now() - timedelta(minutes=10)
    )
    assert sync.run_import_job(job_id=job.id) is True
    job.refresh_from_db()
    assert job.status == "done" and job.accepted == 5 and on_hand(tenant, "A") == 5
    assert sync.run_import_job(job_id=job.id) is False
    assert on_hand(tenant, "A") == 5


def test_a_file_without_the_columns_is_refused_on_upload(user_client, tenant, catalog):
    client = user_client("back_office")
    response = upload(client, b"foo,bar\n1,2\n")
    assert response.status_code == 200
    assert "missing: sku, location, quantity" in response.content.decode()
    assert not StockImportJob.objects.for_tenant(tenant).exists()
    assert "not UTF-8" in upload(client, "sku,location,quantity\nÉ,WH1,1\n".encode("latin-1")).content.decode()
    assert "not a text CSV" in upload(client, b"sku,location,quantity\nA\x00,WH1,1\n").content.decode()
    huge_field = b'sku,location,quantity\n"' + b"A" * 200_000 + b'",WH1,1\n'
    assert "not a readable CSV" in upload(client, huge_field).content.decode()
    assert not StockImportJob.objects.for_tenant(tenant).exists()


def test_lot_columns_are_read(tenant, catalog):
    factories.ProductFactory(tenant=tenant, sku="MILK", tracks_lots=True)
    job = sync.create_import_job(
        tenant=tenant,
        actor=SYSTEM,
        mode="adjustments",
        file_name="f.csv",
        content=b"sku,location,quantity,lot,expires_on\nMILK,WH1,4,L1,2030-05-01\n",
    )
    sync.run_import_job(job_id=job.id)
    job.refresh_from_db()
    assert job.accepted == 1, list(job.rejections.values_list("reason", flat=True))


def test_imports_of_another_tenant_are_not_found(user_client, tenant, other_tenant, catalog):
    theirs = sync.create_import_job(
        tenant=other_tenant,
        actor=SYSTEM,
        mode="adjustments",
        file_name="f.csv",
        content=b"sku,location,quantity\nA,WH1,1\n",
    )
    client = user_client("admin")
    for path in ("", "progress/", "errors.csv"):
        assert client.get(f"/inventory/imports/{theirs.id}/{path}").status_code == 404
    assert "f.csv" not in client.get("/inventory/imports/").content.decode()


def test_only_staff_import(user_client, tenant, catalog):
    level = level_for(
        tenant=tenant,
        product=factories.ProductFactory(tenant=tenant, sku="Z"),
        location=factories.LocationFactory(tenant=tenant, code="X1"),
    )
    post_movement(tenant=tenant, level=level, kind="receipt", quantity=1, actor=SYSTEM)
    for role in ("store_clerk", "manager", "viewer"):
        client = user_client(role)
        assert client.get("/inventory/imports/").status_code == 403
        assert upload(client, b"sku,location,quantity\nZ,X1,5\n").status_code == 403
    assert not StockImportJob.objects.for_tenant(tenant).exists()


def test_a_waiting_import_whose_task_was_lost_is_handed_over_again(user_client, tenant, catalog, eager):
    client = user_client("back_office")
    job = sync.create_import_job(
        tenant=tenant, actor=SYSTEM, mode="adjustments", file_name="f.csv", content=b"sku,location,quantity\nA,WH1,4\n"
    )
    StockImportJob.objects.for_tenant(tenant).filter(id=job.id).update(created_at=timezone.now() - timedelta(minutes=5))
    assert client.get(f"/inventory/imports/{job.id}/progress/").status_code == 200
    job.refresh_from_db()
    assert job.status == "done" and job.accepted == 1 and on_hand(tenant, "A") == 4


def test_the_worker_finds_the_stock_operation_tasks():
    """Celery autodiscovers inventory/tasks.py: the stock operation tasks must be registered from there."""
    import inventory.tasks

    assert inventory.tasks.process_stock_import.name == "inventory.process_stock_import"
    assert inventory.tasks.evaluate_stock_alerts.name == "inventory.evaluate_stock_alerts"


def test_the_error_report_lists_every_rejection_in_file_order(user_client, tenant):
    job = factories.StockImportJobFactory(tenant=tenant, status="done", rejected=3)
    for line in (9, 2, 5):
        factories.StockImportRejectionFactory(job=job, line=line, reason=f"bad line {line}")
    report = user_client("admin").get(f"/inventory/imports/{job.id}/errors.csv")
    lines = b"".join(report.streaming_content).decode().splitlines()
    assert [line.split(",")[0] for line in lines] == ["line", "2", "5", "9"]
