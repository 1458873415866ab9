"""BillGenerator's app side, as an example: a minimal Flask app on this repo's models.

It has no model of its own. Flask-SQLAlchemy is given ``schema.metadata`` and the app works
with ``schema``'s classes as they are; the database URL comes from the same place as
schemactl's: the environment's ``[schemactl.env.NAME]`` section of alembic.ini and the
variable it names (``$BILLGEN_DEV_URL``, ...), the environment from ``$SCHEMACTL_ENV`` or
the config's default. One configuration for the app and its migrations; the tables come
from `schemactl upgrade` (or a DBA's script), never from ``create_all()``.

    flask --app example_app run          # dev: var/dev.db, after `schemactl upgrade`
    flask --app example_app db upgrade   # Flask-Migrate: this repo's history, the app's URL
"""

from __future__ import annotations

import datetime as dt
import os
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, jsonify, request
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import event, func, select
from sqlalchemy.exc import IntegrityError

import schema
from schema import Customer, Invoice, InvoiceItem, InvoiceStatus, Payment, PaymentMethod, User
from tools.config import load_project

REPO = Path(__file__).resolve().parent.parent
CENT = Decimal("0.01")

# The models' own metadata: db.metadata is schema.metadata, so the app cannot drift from it.
db = SQLAlchemy(metadata=schema.metadata)
api = Blueprint("billing", __name__)


def database_uri(env: str | None = None, config: Path | None = None) -> str:
    """The URL of the billing database of environment ``env``, as schemactl finds it."""
    project = load_project(config or REPO / "alembic.ini")
    environment = project.environment(env or os.environ.get("SCHEMACTL_ENV"))
    # The password is kept (the engine needs it); it is never logged or shown.
    return environment.url().render_as_string(hide_password=False)


def create_app(env: str | None = None, *, config: Path | None = None) -> Flask:
    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = database_uri(env, config)
    db.init_app(app)
    _migrations(app, env, config or REPO / "alembic.ini")
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            # SQLite checks foreign keys only on a connection that asks it to: a customer
            # whose owner does not exist is then refused (409) as on the servers.
            event.listen(db.engine, "connect", _foreign_keys_on)
    app.register_blueprint(api)
    return app


def _migrations(app: Flask, env: str | None, config: Path) -> None:
    """Flask-Migrate (`flask --app example_app db upgrade/current/history/migrate`) on this
    repo's own history and configuration: its alembic.ini, env.py and version locations,
    the environment's settings, and the app's database URL (the migrations run in the app's
    context, with its configuration). schemactl's Alembic config replaces the one
    Flask-Migrate would build from a migrations/ folder this repo does not have."""
    from flask_migrate import Migrate
    from sqlalchemy.engine import make_url

    migrate = Migrate(app, db, directory=str(config.parent))

    @migrate.configure
    def _this_repos(flask_config: Any) -> Any:
        project = load_project(config)
        environment = project.environment(env or os.environ.get("SCHEMACTL_ENV"))
        url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
        ours = project.alembic_config(environment, url=url)
        ours.cmd_opts = flask_config.cmd_opts  # -x arguments, --autogenerate and the like
        return ours


def _foreign_keys_on(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.close()


class BadRequest(Exception):
    """What is wrong with a request: answered with 400 and the message."""


@api.errorhandler(BadRequest)
def _bad_request(err: BadRequest) -> tuple[Any, int]:
    return jsonify(error=str(err)), 400


def _body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise BadRequest("send a JSON object")
    return body


def _field(body: dict[str, Any], name: str, kind: type = str) -> Any:
    value = body.get(name)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise BadRequest(f"{name} is required ({kind.__name__})")
    return value


def _money(value: object, name: str) -> Decimal:
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise BadRequest(f"{name} is not a number") from None
    if not amount.is_finite() or amount < 0:
        raise BadRequest(f"{name} must be a finite amount of at least 0")
    return amount


def _created(obj: object) -> tuple[Any, int]:
    """Commit ``obj`` and answer 201 with its id; 409 when it breaks a constraint."""
    db.session.add(obj)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return jsonify(error="conflicts with an existing row or refers to a missing one"), 409
    return jsonify(id=obj.id), 201  # type: ignore[attr-defined]


@api.post("/users")
def create_user() -> tuple[Any, int]:
    body = _body()
    return _created(
        User(
            email=_field(body, "email"),
            full_name=_field(body, "full_name"),
            password_hash=_field(body, "password_hash"),
        )
    )


@api.post("/customers")
def create_customer() -> tuple[Any, int]:
    body = _body()
    return _created(
        Customer(
            owner_id=_field(body, "owner_id", int),
            name=_field(body, "name"),
            email=body.get("email"),
            tax_id=body.get("tax_id"),
        )
    )


@api.post("/invoices")
def issue_invoice() -> tuple[Any, int]:
    """An invoice with its items; the totals are computed here, from the items."""
    body = _body()
    items = body.get("items")
    if not isinstance(items, list) or not items:
        raise BadRequest("items is required: a list of {description, quantity, unit_price}")
    lines = []
    for number, item in enumerate(items, 1):
        if not isinstance(item, dict):
            raise BadRequest(f"item {number} is not an object")
        quantity = _money(item.get("quantity"), f"item {number} quantity")
        unit_price = _money(item.get("unit_price"), f"item {number} unit_price")
        lines.append(
            InvoiceItem(
                description=_field(item, "description"),
                quantity=quantity,
                unit_price=unit_price,
                # Commercial rounding: half a cent goes up.
                line_total=(quantity * unit_price).quantize(CENT, rounding=ROUND_HALF_UP),
            )
        )
    discount = _money(body.get("discount_total", 0), "discount_total")
    total = sum((line.line_total for line in lines), Decimal(0)) - discount
    if total < 0:
        raise BadRequest("discount_total is more than the items add up to")
    invoice = Invoice(
        number=_field(body, "number"),
        customer_id=_field(body, "customer_id", int),
        issued_by_id=_field(body, "issued_by_id", int),
        status=InvoiceStatus.SENT,
        issue_date=dt.date.today(),
        currency=body.get("currency", "EUR"),
        total_amount=total,
        discount_total=discount,
    )
    db.session.add(invoice)
    try:
        db.session.flush()  # the invoice's id, for its items
    except IntegrityError:
        db.session.rollback()
        return jsonify(error="conflicts with an existing row or refers to a missing one"), 409
    for line in lines:
        line.invoice_id = invoice.id
    db.session.add_all(lines)
    return _created(invoice)


@api.post("/invoices/<int:invoice_id>/payments")
def record_payment(invoice_id: int) -> tuple[Any, int]:
    """A payment against an invoice; the invoice is paid once its payments cover it."""
    body = _body()
    invoice = db.session.get(Invoice, invoice_id, with_for_update=True)
    if invoice is None:
        return jsonify(error=f"no invoice {invoice_id}"), 404
    try:
        method = PaymentMethod(_field(body, "method"))
    except ValueError:
        known = ", ".join(m.value for m in PaymentMethod)
        raise BadRequest(f"method is one of {known}") from None
    amount = _money(body.get("amount"), "amount")
    if amount == 0:
        raise BadRequest("amount must be more than 0")
    payment = Payment(
        invoice_id=invoice.id,
        amount=amount,
        method=method,
        reference=body.get("reference"),
        paid_at=dt.datetime.now(dt.UTC),
    )
    db.session.add(payment)
    db.session.flush()
    if _paid(invoice.id) >= invoice.total_amount:
        invoice.status = InvoiceStatus.PAID
    return _created(payment)


def _paid(invoice_id: int) -> Decimal:
    query = select(func.coalesce(func.sum(Payment.amount), 0)).where(
        Payment.invoice_id == invoice_id
    )
    return Decimal(db.session.scalar(query))


@api.get("/invoices")
def list_invoices() -> Any:
    paid = (
        select(Payment.invoice_id, func.sum(Payment.amount).label("paid"))
        .group_by(Payment.invoice_id)
        .subquery()
    )
    counted = (
        select(InvoiceItem.invoice_id, func.count().label("item_count"))
        .group_by(InvoiceItem.invoice_id)
        .subquery()
    )
    rows = db.session.execute(
        select(Invoice, Customer.name, paid.c.paid, counted.c.item_count)
        .join(Customer, Customer.id == Invoice.customer_id)
        .outerjoin(paid, paid.c.invoice_id == Invoice.id)
        .outerjoin(counted, counted.c.invoice_id == Invoice.id)
        .order_by(Invoice.id)
    )
    return jsonify(
        [
            {
                "id": invoice.id,
                "number": invoice.number,
                "customer": customer,
                "status": invoice.status.value,
                "currency": invoice.currency,
                "total_amount": str(invoice.total_amount.quantize(CENT)),
                "paid": str(Decimal(paid_amount or 0).quantize(CENT)),
                "items": item_count or 0,
            }
            for invoice, customer, paid_amount, item_count in rows
        ]
    )
