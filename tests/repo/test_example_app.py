"""The app side: the example Flask app (example_app/) on this repo's models, against
databases that schemactl migrated to head. The app has no model of its own and reads its
URL where schemactl does, so app and repo cannot drift apart."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import DeclarativeBase

import example_app
import schema
from tests.conftest import REPO, model_diff, schemactl
from tools.core.errors import MissingDatabaseUrl

APP_DIALECTS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgresql),
    pytest.param("mariadb", id="mariadb", marks=pytest.mark.mariadb),
]


@pytest.fixture(params=APP_DIALECTS)
def migrated(request, throwaway_database, monkeypatch):
    """A database of each dialect brought to head by `schemactl upgrade`, its environment's
    variable pointing at it (for schemactl and the app alike)."""
    db = throwaway_database(request.param)
    url = db.url.render_as_string(hide_password=False)
    monkeypatch.setenv(db.url_var, url)
    done = schemactl(REPO, "--env", db.env, "upgrade", env={db.url_var: url})
    assert done.returncode == 0, done.stderr
    return db


@pytest.fixture
def client(migrated):
    app = example_app.create_app(migrated.env)
    app.config["TESTING"] = True
    with app.test_client() as client:
        yield client
    with app.app_context():
        example_app.db.engine.dispose()


def _post(client, path: str, body: dict) -> dict:
    response = client.post(path, json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_customer_invoice_payment_and_listing(client):
    user = _post(
        client,
        "/users",
        {"email": "ana@example.com", "full_name": "Ana", "password_hash": "x"},
    )["id"]
    customer = _post(client, "/customers", {"owner_id": user, "name": "Acme GmbH"})["id"]
    invoice = _post(
        client,
        "/invoices",
        {
            "number": "INV-2026-0001",
            "customer_id": customer,
            "issued_by_id": user,
            "items": [
                {"description": "Consulting", "quantity": "3", "unit_price": "120.50"},
                {"description": "Travel", "quantity": "1.5", "unit_price": "19.99"},
            ],
            "discount_total": "10.00",
        },
    )["id"]
    # 3 x 120.50 + 1.5 x 19.99 (29.985 -> 29.99) - 10.00
    listed = client.get("/invoices").get_json()
    assert listed == [
        {
            "id": invoice,
            "number": "INV-2026-0001",
            "customer": "Acme GmbH",
            "status": "sent",
            "currency": "EUR",
            "total_amount": "381.49",
            "paid": "0.00",
            "items": 2,
        }
    ]
    _post(client, f"/invoices/{invoice}/payments", {"amount": "200", "method": "card"})
    assert client.get("/invoices").get_json()[0]["status"] == "sent"
    _post(
        client,
        f"/invoices/{invoice}/payments",
        {"amount": "181.49", "method": "bank_transfer", "reference": "SEPA-1"},
    )
    after = client.get("/invoices").get_json()[0]
    assert (after["status"], after["paid"]) == ("paid", "381.49")


def test_bad_requests_are_answered_not_raised(client):
    assert client.post("/customers", json={"name": "No owner"}).status_code == 400
    # A customer whose owner does not exist breaks the foreign key, on SQLite too.
    orphan = client.post("/customers", json={"owner_id": 424242, "name": "Orphan Ltd"})
    assert orphan.status_code == 409, orphan.get_json()
    assert client.post("/invoices", data="not json").status_code == 400
    # A payment for an invoice that does not exist: 404.
    missing = client.post("/invoices/999/payments", json={"amount": "1", "method": "cash"})
    assert missing.status_code == 404
    user = _post(
        client, "/users", {"email": "b@example.com", "full_name": "B", "password_hash": "x"}
    )
    assert (
        client.post(
            "/users", json={"email": "b@example.com", "full_name": "B", "password_hash": "x"}
        ).status_code
        == 409
    )
    bad_method = client.post(
        "/invoices",
        json={
            "number": "INV-1",
            "customer_id": 1,
            "issued_by_id": user["id"],
            "items": [{"description": "x", "quantity": "NaN", "unit_price": "1"}],
        },
    )
    assert bad_method.status_code == 400
    assert "quantity" in bad_method.get_json()["error"]


def test_the_app_tables_are_exactly_the_models(client, migrated):
    """No drift between app and repo: the app's metadata is the models' own object, and the
    database schemactl migrated holds exactly it (autogenerate finds nothing to change)."""
    app = client.application
    assert example_app.db.metadata is schema.metadata
    with app.app_context():
        url = example_app.db.engine.url
    assert str(url) == str(migrated.url)
    assert model_diff(url, example_app.db.metadata) == []


def test_the_app_has_no_model_of_its_own():
    # type(value), not isinstance: Flask's request proxy must not be asked outside a request.
    classes = [v for v in vars(example_app).values() if issubclass(type(v), type)]
    own = [
        cls
        for cls in classes
        if issubclass(cls, DeclarativeBase | example_app.db.Model)
        and cls.__module__ == example_app.__name__
    ]
    assert own == []
    assert example_app.db.Model.__subclasses__() == []
    # Every mapped class the app uses is one of schema's.
    used = [cls for cls in classes if "__mapper__" in dir(cls)]
    assert used and all(cls.__module__.startswith("schema.") for cls in used)


def test_the_app_reads_its_url_where_schemactl_does(monkeypatch, tmp_path):
    """Same alembic.ini, same variables: a password with % and @ (percent-encoded, as the
    README says) reaches the engine whole; an unset variable is schemactl's one-line error."""
    monkeypatch.setenv("BILLGEN_STAGING_URL", "postgresql://app:p%25ss%40word@db.internal/billing")
    uri = example_app.database_uri("staging")
    from sqlalchemy.engine import make_url

    url = make_url(uri)
    assert (url.password, url.host, url.database) == ("p%ss@word", "db.internal", "billing")
    assert url.drivername == "postgresql+psycopg"
    monkeypatch.delenv("BILLGEN_STAGING_URL")
    with pytest.raises(MissingDatabaseUrl, match="BILLGEN_STAGING_URL"):
        example_app.create_app("staging")
    monkeypatch.setenv("SCHEMACTL_ENV", "dev")
    monkeypatch.setenv("BILLGEN_DEV_URL", f"sqlite:///{tmp_path}/app.db")
    assert example_app.database_uri() == f"sqlite+pysqlite:///{tmp_path}/app.db"


@pytest.mark.parametrize("dialect", APP_DIALECTS)
def test_flask_migrate_runs_this_repos_history(throwaway_database, dialect):
    """`flask --app example_app db upgrade/current/history/downgrade` (Flask-Migrate, issue
    31) work on this repo's history and configuration, in the app's context with the app's
    URL; schemactl then finds the database where Flask-Migrate left it, its audit agreeing."""
    import json
    import os
    import subprocess
    import sys

    db = throwaway_database(dialect)
    url = db.url.render_as_string(hide_password=False)
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("BILLGEN_", "SCHEMACTL_"))}
    environ.update({db.url_var: url, "SCHEMACTL_ENV": db.env})
    flask = [sys.executable, "-m", "flask", "--app", "example_app", "db"]

    def run(*args: str) -> str:
        done = subprocess.run(
            [*flask, *args], cwd=REPO, env=environ, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    run("upgrade")
    heads = schemactl(REPO, "--env", db.env, "status", "--json", env={db.url_var: url})
    status = json.loads(heads.stdout)
    assert status["pending"] == 0 and status["current"] == status["heads"]
    assert f"{status['heads'][0]} (head)" in run("current")
    assert status["heads"][0] in run("history")
    # One step back, to a parent of the head by name (at a merge, `downgrade -1` is an
    # ambiguous walk for Alembic, whoever runs it).
    graph = json.loads(schemactl(REPO, "graph", "--format", "json").stdout)
    (head,) = [r for r in graph["revisions"] if r["head"]]
    run("downgrade", head["parents"][0])
    after = json.loads(
        schemactl(REPO, "--env", db.env, "status", "--json", env={db.url_var: url}).stdout
    )
    assert after["pending"] >= 1
    verified = schemactl(REPO, "--env", db.env, "-n", "billing", "verify", env={db.url_var: url})
    assert verified.returncode == 0, verified.stdout + verified.stderr
