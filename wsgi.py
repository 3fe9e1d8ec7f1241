"""The application factory, `app`, and the `astreinte` command."""

from __future__ import annotations

import hmac
import os
import re
import secrets
import shutil
import sys
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _installed
from pathlib import Path
from typing import Any

import click
from flask import Flask, Response, current_app, jsonify, request
from flask.cli import FlaskGroup, ScriptInfo, with_appcontext
from sqlalchemy import func, make_url, select, text
from sqlalchemy.exc import DBAPIError
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

import dashboard
import mail
import migrations
import models
import oncall
import tasks
import voice
import vonage_carrier
from dashboard.api import asked_language
from devtools.cli import call_command
from devtools.demo import demo_command
from migrations.cli import db_group
from oncall.health import warnings
from org.cli import load_command
from serving import logs, supervisor, web
from serving import worker as worker_loop
from voice.check import check_command
from voice.production import DEV_AUTH_TOKEN, is_production, outbox_warnings, start_problems

ROOT = Path(__file__).resolve().parent


def _instance() -> Path:
    """ASTREINTE_INSTANCE, or `instance/` in the working directory (never inside the installed
    package: a `pip install .` puts the code in site-packages)."""
    return Path(os.environ.get("ASTREINTE_INSTANCE") or Path.cwd() / "instance").resolve()


def _secret_key(instance: Path) -> str:
    if key := os.environ.get("SECRET_KEY"):
        return key
    path = instance / "secret_key"
    if not path.exists():
        instance.mkdir(parents=True, exist_ok=True)
        try:  # 0600 from its first byte: never readable by others, not even for an instant
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process wrote it first
            pass
        else:
            with os.fdopen(fd, "w") as file:
                file.write(secrets.token_hex(32))
    return path.read_text().strip()


def _database_url(instance: Path) -> str:
    return os.environ.get("DATABASE_URL") or f"sqlite:///{instance / 'astreinte.db'}"


def configuration(instance: Path) -> dict[str, Any]:
    """Every setting, from the environment, with its default. The only place defaults live."""
    env = os.environ.get
    sid, token = env("TWILIO_ACCOUNT_SID"), env("TWILIO_AUTH_TOKEN")
    public = (env("PUBLIC_BASE_URL") or "http://127.0.0.1:5000").rstrip("/")
    production = is_production({"PUBLIC_BASE_URL": public})
    # The development token is public (it is in the source): never a webhook key in production,
    # where an outbox asked for (ASTREINTE_OUTBOX=1) without a token takes no webhook at all.
    fallback_token = secrets.token_hex(32) if production else DEV_AUTH_TOKEN
    return {
        "INSTANCE": instance,
        "DATABASE_URL": _database_url(instance),
        # A connection per web thread (`serve` sets WEB_THREADS) and one for the rest (a worker's sweeper):
        # no request waits for one, none is opened and closed per request.
        "DATABASE_POOL_SIZE": int(env("DATABASE_POOL_SIZE") or int(env("WEB_THREADS") or 4) + 1),
        "REDIS_URL": tasks.default_redis_url(instance),
        "TWILIO_ACCOUNT_SID": sid,
        "TWILIO_AUTH_TOKEN": token or fallback_token,
        # No credentials, or ASTREINTE_OUTBOX=1: nothing leaves the machine (docs/security.md).
        "TWILIO_OUTBOX": env("ASTREINTE_OUTBOX") == "1" or not (sid and token),
        "PRODUCTION": production,
        "TWILIO_API_BASE_URL": env("TWILIO_API_BASE_URL") or "https://api.twilio.com",
        # SMS through a Messaging Service (its sender pool) instead of the support number.
        "TWILIO_MESSAGING_SERVICE_SID": env("TWILIO_MESSAGING_SERVICE_SID"),
        "PUBLIC_BASE_URL": public,
        "SECRET_KEY": _secret_key(instance),
        "TWILIO_VOICE": env("TWILIO_VOICE") or "Polly.Lea",
        "RECORDINGS_DIR": Path(env("RECORDINGS_DIR") or instance / "recordings"),
        "RECORDING_RETENTION_DAYS": int(env("RECORDING_RETENTION_DAYS") or 90),
        # How far back the recordings of Twilio's fallback are looked for (every host down that long).
        "FALLBACK_LOOKBACK_HOURS": int(env("FALLBACK_LOOKBACK_HOURS") or 24),
        # Repeated wrong PINs lock the calling number out of that client account for a while...
        "PIN_MAX_FAILURES": int(env("PIN_MAX_FAILURES") or 5),
        # ... and wrong PINs from numbers that are not the client's contacts lock the account for them.
        "PIN_ACCOUNT_MAX_FAILURES": int(env("PIN_ACCOUNT_MAX_FAILURES") or 20),
        "PIN_FAILURE_WINDOW_MINUTES": int(env("PIN_FAILURE_WINDOW_MINUTES") or 15),
        "PIN_LOCK_MINUTES": int(env("PIN_LOCK_MINUTES") or 30),
        # Paging: carriers block a number called too often, so each destination has a minimum interval.
        "PAGE_CALL_INTERVAL": int(env("PAGE_CALL_INTERVAL") or 60),
        "PAGE_SMS_INTERVAL": int(env("PAGE_SMS_INTERVAL") or 30),
        "PAGE_RETRY_SECONDS": int(env("PAGE_RETRY_SECONDS") or 30),  # first back-off on a temporary error
        "PAGE_RING_SECONDS": int(env("PAGE_RING_SECONDS") or 25),  # how long a page call rings
        "TAKEOVER_LINK_MAX_AGE": int(env("TAKEOVER_LINK_MAX_AGE") or 12 * 3600),
        "TWILIO_TIMEOUT": float(env("TWILIO_TIMEOUT") or 10),
        # Vonage, a second carrier for SMS and page calls: absent without a key and a secret.
        "VONAGE_API_KEY": env("VONAGE_API_KEY"),
        "VONAGE_API_SECRET": env("VONAGE_API_SECRET"),
        "VONAGE_APPLICATION_ID": env("VONAGE_APPLICATION_ID"),  # with the private key: page calls too
        "VONAGE_PRIVATE_KEY": env("VONAGE_PRIVATE_KEY"),  # the PEM, or its file's path
        "VONAGE_SIGNATURE_SECRET": env("VONAGE_SIGNATURE_SECRET"),  # checks its webhooks
        "VONAGE_SIGNATURE_METHOD": env("VONAGE_SIGNATURE_METHOD") or "sha256",
        "VONAGE_NUMBER": env("VONAGE_NUMBER"),  # the number it sends from; default the support number
        "VONAGE_API_HOST": env("VONAGE_API_HOST") or "api.nexmo.com",  # Voice API (host[:port], https)
        "VONAGE_REST_HOST": env("VONAGE_REST_HOST") or "rest.nexmo.com",  # SMS API
        "VONAGE_TIMEOUT": int(env("VONAGE_TIMEOUT") or 10),
        # E-mail (pages when no phone carrier can, alerts): smtp://user:password@host:port; unset, none.
        "SMTP_URL": env("SMTP_URL"),
        "MAIL_FROM": env("MAIL_FROM"),
        "SMTP_TIMEOUT": float(env("SMTP_TIMEOUT") or 10),
        # Set: /metrics asks for `Authorization: Bearer <it>`; unset, /metrics is closed in production.
        "METRICS_TOKEN": env("METRICS_TOKEN"),
        "TASKS_INLINE": False,
        "MAX_CONTENT_LENGTH": 1024 * 1024,  # webhooks and forms are small; refuse anything larger (413)
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": public.startswith("https://"),  # served over HTTPS: never send it in clear
        "PERMANENT_SESSION_LIFETIME": int(env("SESSION_LIFETIME") or 8 * 3600),
        # How many proxies in front append to X-Forwarded-For (nginx: 1). 0: the socket's address is
        # the client's, and X-Forwarded-For is ignored (anyone could write it).
        "TRUSTED_PROXIES": int(env("TRUSTED_PROXIES") or 0),
    }


class RowId(IntegerConverter):
    """`<int:…>` in a route: at most the database's largest integer id; a larger one is a 404 (on
    PostgreSQL it was an overflow, a 500)."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:  # noqa: A002 - werkzeug's name
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(map, *args, **kwargs)


def create_app(config: dict[str, Any] | None = None) -> Flask:
    instance = Path((config or {}).get("INSTANCE") or _instance())
    app = Flask(__name__, instance_path=str(instance))
    app.url_map.converters["int"] = RowId
    app.config.update(configuration(instance))
    app.config.update(config or {})
    if proxies := int(app.config["TRUSTED_PROXIES"]):
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies)  # type: ignore[method-assign]
    logs.init_app(app)

    engine = models.make_engine(app.config["DATABASE_URL"], app.config["DATABASE_POOL_SIZE"])
    app.extensions["engine"] = engine
    models.bind(engine)

    @app.teardown_appcontext
    def _remove_session(_exc: BaseException | None) -> None:
        models.session.remove()

    voice.register(app)
    vonage_carrier.register(app)  # after Twilio: the next carrier for SMS and calls
    mail.register(app)
    oncall.register(app)
    dashboard.register(app)

    app.add_url_rule("/healthz", "healthz", healthz)
    app.cli.add_command(load_command)
    app.cli.add_command(call_command)
    app.cli.add_command(demo_command)
    app.cli.add_command(db_group)
    app.cli.add_command(up)
    app.cli.add_command(serve)
    app.cli.add_command(worker)
    app.cli.add_command(check_command)
    return app


def _holds_metrics_token() -> bool:
    """Whether this request carries `Authorization: Bearer <METRICS_TOKEN>` (names in /healthz)."""
    token = current_app.config.get("METRICS_TOKEN")
    given = request.headers.get("Authorization", "")
    return bool(token) and hmac.compare_digest(given.encode(), f"Bearer {token}".encode())


def healthz() -> tuple[Response, int]:
    """The process answers, the database and Redis are reachable: 200, else 503. Business conditions
    (a rota gap now or within 24 hours, no organisation loaded) are warnings in the JSON, never a 503:
    a load balancer must not pull the only process answering callers over a rota (DESIGN contract).
    The warnings are French, or English with `?lang=en` or `Accept-Language: en`; they name people
    only for a caller holding METRICS_TOKEN (anyone reaches /healthz)."""
    checks: dict[str, str] = {}
    try:
        models.session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 - any failure is the answer
        models.session.rollback()
        checks["database"] = f"unreachable: {type(exc).__name__}"
    try:
        tasks.connection().ping()
        checks["redis"] = "ok"
    except Exception as exc:  # noqa: BLE001
        checks["redis"] = f"unreachable: {type(exc).__name__}"
    ok = all(v == "ok" for v in checks.values())
    found: list[str] = []
    if checks["database"] == "ok":
        try:
            found = warnings(asked_language(), named=_holds_metrics_token())
        except Exception:  # noqa: BLE001 - a warning that cannot be computed is not an outage
            current_app.logger.exception("rota warnings could not be computed")
            models.session.rollback()
    found += outbox_warnings(asked_language())
    body = jsonify(status="ok" if ok else "fail", checks=checks, warnings=found)
    return body, 200 if ok else 503


# --- commands -----------------------------------------------------------------------------------


def refuse_unsafe_start() -> None:
    """A production start with a missing or placeholder secret stops here, naming each variable."""
    problems = start_problems(dict(os.environ))
    if problems:
        for problem in problems:
            click.echo(f"astreinte: refusing to start: {problem}", err=True)
        click.echo("astreinte: see docs/security.md (production settings)", err=True)
        sys.exit(2)


def upgrade_database() -> None:
    migrations.upgrade(current_app.extensions["engine"])


def _host_port(f: Any) -> Any:
    f = click.option(
        "--threads",
        default=web.default_threads,
        show_default="WEB_THREADS or 4",
        type=click.IntRange(1, 64),
        help="Threads per web process.",
    )(f)
    f = click.option(
        "--workers",
        default=web.default_workers,
        show_default="WEB_CONCURRENCY or 2",
        type=click.IntRange(1, 64),
        help="Web processes.",
    )(f)
    f = click.option("--port", default=5000, show_default=True, type=int)(f)
    return click.option("--host", default="127.0.0.1", show_default=True)(f)


def _refuse_busy_port(host: str, port: int) -> None:
    if reason := web.port_taken(host, port):
        raise click.ClickException(
            f"port {port} on {host} is not free ({reason}): stop what listens there, "
            f"or serve on another port (astreinte up --port {port + 1}, make run PORT={port + 1})"
        )


@click.command("serve", help="The web application only (webhooks, API, dashboard), behind gunicorn.")
@_host_port
def serve(host: str, port: int, workers: int, threads: int) -> None:
    refuse_unsafe_start()
    _refuse_busy_port(host, port)
    web.follow_port(host, port)
    web.serve(create_app, host, port, workers, threads)


@click.command("worker", help="The RQ worker with its scheduler, and the sweeper of overdue work.")
@click.option("--burst", is_flag=True, help="Run what is queued, then stop.")
@with_appcontext
def worker(burst: bool) -> None:
    refuse_unsafe_start()
    worker_loop.run(current_app._get_current_object(), burst=burst)  # type: ignore[attr-defined]


@click.command(
    "up", help="Migrate, then run and supervise the web server, the worker and (when needed) Redis."
)
@_host_port
def up(host: str, port: int, workers: int, threads: int) -> None:
    refuse_unsafe_start()
    _refuse_busy_port(host, port)
    if not os.environ.get("REDIS_URL"):
        try:
            tasks.redis_executable()
        except tasks.NoRedisServer as exc:
            raise click.ClickException(str(exc)) from exc
    web.follow_port(host, port)
    command = [sys.executable, "-c", "import wsgi; wsgi.cli()"]
    options = ["--workers", str(workers), "--threads", str(threads)]
    sys.exit(supervisor.run(command, host, port, _instance(), options, when_up=_first_admin_hint))


def _command_name() -> str:
    """How the person who started us calls `astreinte` (`.venv/bin/astreinte` under `make run`)."""
    given = Path(sys.argv[0]) if sys.argv and sys.argv[0] not in ("", "-c") else None
    if given is None or given.name != "astreinte" or shutil.which("astreinte") == str(given):
        return "astreinte"
    try:
        return str(given.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(given)


def _first_admin_hint() -> None:
    """With no dashboard user yet, say how to make the first administrator: nobody can log in before."""
    app = click.get_current_context().ensure_object(ScriptInfo).load_app()
    with app.app_context():
        if models.session.scalar(select(func.count()).select_from(models.User)):
            return
    click.echo(
        "No dashboard user yet: create the first administrator (the password is asked for), then log in:\n"
        f"    {_command_name()} user add admin --role admin",
        err=True,
    )


def version() -> str:
    """astreinte's own version, as installed (pyproject.toml)."""
    try:
        return _installed("astreinte")
    except PackageNotFoundError:
        return "unknown (not installed: pip install -e .)"


def _print_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        click.echo(f"astreinte {version()}")
        ctx.exit()


_group = FlaskGroup(
    create_app=create_app,
    add_default_commands=False,
    add_version_option=False,
    load_dotenv=False,
    help="astreinte: the after-hours voice front desk.",
)
# Flask's own options (--app, --env-file, --debug) choose nothing here: the application is this one.
_group.params = [p for p in _group.params if p.name not in ("app", "env_file", "debug")]
_group.params.append(
    click.Option(
        ["--version"],
        is_flag=True,
        expose_value=False,
        is_eager=True,
        callback=_print_version,
        help="Show astreinte's version and exit.",
    )
)


STARTS = {"serve", "up", "worker"}  # the commands that serve or page: refused when unsafe


def cli() -> None:
    """The `astreinte` command: logging configured (LOG_LEVEL, LOG_FORMAT), then the subcommand. The
    usual mistakes (a database never migrated, one that does not answer) are one line with the fix."""
    logs.configure()
    if STARTS & set(sys.argv[1:2]):
        refuse_unsafe_start()  # before the application is built: a setting it cannot even read is named too
    try:
        _group()
    except DBAPIError as exc:
        click.echo(f"astreinte: {database_trouble(exc)}", err=True)
        sys.exit(1)


def database_trouble(exc: DBAPIError) -> str:
    """What went wrong with the database, in one line, and what to do."""
    said = (
        str(exc.orig or exc).strip().splitlines()[0] if str(exc.orig or exc).strip() else type(exc).__name__
    )
    missing = re.search(
        r'no such (?:table|column): (\S+)|(?:relation|column) "?([^" ]+)"? does not exist', said
    )
    if missing:
        what = missing.group(1) or missing.group(2)
        return f"the database schema is missing {what} (not migrated yet?): run `astreinte db upgrade`"
    url = make_url(_database_url(_instance()))
    shown = url.render_as_string(hide_password=True)
    return (
        f"the database {shown} cannot be used ({said}): check DATABASE_URL and that the database "
        "server runs and accepts this user"
    )


def __getattr__(name: str) -> Any:
    """`wsgi:app` for a WSGI server (`gunicorn wsgi:app`), built on first use so that importing the
    module stays cheap."""
    if name == "app":
        logs.configure()
        refuse_unsafe_start()
        globals()["app"] = create_app()
        return globals()["app"]
    raise AttributeError(name)


if __name__ == "__main__":
    cli()
