"""The application factory, `app`, and the `astreinte` command."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import click
from flask import Flask, Response, current_app, jsonify
from flask.cli import FlaskGroup, with_appcontext
from rq import SimpleWorker
from sqlalchemy import text
from werkzeug.serving import run_simple

import dashboard
import migrations
import models
import oncall
import tasks
import voice
from devtools.cli import call_command
from devtools.demo import demo_command
from oncall.health import problems, warnings
from oncall.sweeper import sweep
from org.cli import load_command
from voice.retention import purge_recordings

ROOT = Path(__file__).resolve().parent
DEV_AUTH_TOKEN = "astreinte-development-token"  # signs webhooks in local-outbox mode only


def _instance() -> Path:
    return Path(os.environ.get("ASTREINTE_INSTANCE", ROOT / "instance"))


def _secret_key(instance: Path) -> str:
    if key := os.environ.get("SECRET_KEY"):
        return key
    path = instance / "secret_key"
    if not path.exists():
        instance.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def configuration(instance: Path) -> dict[str, Any]:
    """Every setting, from the environment, with its default. The only place defaults live."""
    env = os.environ.get
    sid, token = env("TWILIO_ACCOUNT_SID"), env("TWILIO_AUTH_TOKEN")
    public = (env("PUBLIC_BASE_URL") or "http://127.0.0.1:5000").rstrip("/")
    return {
        "INSTANCE": instance,
        "DATABASE_URL": env("DATABASE_URL") or f"sqlite:///{instance / 'astreinte.db'}",
        "REDIS_URL": tasks.default_redis_url(instance),
        "TWILIO_ACCOUNT_SID": sid,
        "TWILIO_AUTH_TOKEN": token or DEV_AUTH_TOKEN,
        "TWILIO_OUTBOX": not (sid and token),  # no credentials: nothing leaves the machine
        "TWILIO_API_BASE_URL": env("TWILIO_API_BASE_URL") or "https://api.twilio.com",
        "PUBLIC_BASE_URL": public,
        "SECRET_KEY": _secret_key(instance),
        "TWILIO_VOICE": env("TWILIO_VOICE") or "Polly.Lea",
        "RECORDINGS_DIR": Path(env("RECORDINGS_DIR") or instance / "recordings"),
        "RECORDING_RETENTION_DAYS": int(env("RECORDING_RETENTION_DAYS") or 90),
        # Repeated wrong PINs lock the calling number out of that client account for a while...
        "PIN_MAX_FAILURES": int(env("PIN_MAX_FAILURES") or 5),
        # ... and wrong PINs from numbers that are not the client's contacts lock the account for them.
        "PIN_ACCOUNT_MAX_FAILURES": int(env("PIN_ACCOUNT_MAX_FAILURES") or 20),
        "PIN_FAILURE_WINDOW_MINUTES": int(env("PIN_FAILURE_WINDOW_MINUTES") or 15),
        "PIN_LOCK_MINUTES": int(env("PIN_LOCK_MINUTES") or 30),
        "PIN_HASH_METHOD": env("PIN_HASH_METHOD") or "scrypt",  # werkzeug's method string
        # Paging: carriers block a number called too often, so each destination has a minimum interval.
        "PAGE_CALL_INTERVAL": int(env("PAGE_CALL_INTERVAL") or 60),
        "PAGE_SMS_INTERVAL": int(env("PAGE_SMS_INTERVAL") or 30),
        "PAGE_RETRY_SECONDS": int(env("PAGE_RETRY_SECONDS") or 30),  # first back-off on a temporary error
        "PAGE_RING_SECONDS": int(env("PAGE_RING_SECONDS") or 25),  # how long a page call rings
        "TAKEOVER_LINK_MAX_AGE": int(env("TAKEOVER_LINK_MAX_AGE") or 12 * 3600),
        "TWILIO_TIMEOUT": float(env("TWILIO_TIMEOUT") or 10),
        "TASKS_INLINE": False,
        "MAX_CONTENT_LENGTH": 1024 * 1024,  # webhooks and forms are small; refuse anything larger (413)
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": public.startswith("https://"),  # served over HTTPS: never send it in clear
        "PERMANENT_SESSION_LIFETIME": int(env("SESSION_LIFETIME") or 8 * 3600),
    }


def create_app(config: dict[str, Any] | None = None) -> Flask:
    instance = Path((config or {}).get("INSTANCE") or _instance())
    app = Flask(__name__, instance_path=str(instance))
    app.config.update(configuration(instance))
    app.config.update(config or {})

    engine = models.make_engine(app.config["DATABASE_URL"])
    app.extensions["engine"] = engine
    models.bind(engine)

    @app.teardown_appcontext
    def _remove_session(_exc: BaseException | None) -> None:
        models.session.remove()

    voice.register(app)
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
    return app


def healthz() -> tuple[Response, int]:
    """Database and Redis reachable, and somebody on call now (503 otherwise); gaps in the rota within
    the next 24 hours are listed as warnings."""
    checks: dict[str, str] = {}
    try:
        models.session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 - any failure is the answer
        checks["database"] = f"unreachable: {type(exc).__name__}"
    try:
        tasks.connection().ping()
        checks["redis"] = "ok"
    except Exception as exc:  # noqa: BLE001
        checks["redis"] = f"unreachable: {type(exc).__name__}"
    found = problems() if checks["database"] == "ok" else []
    coming = warnings() if checks["database"] == "ok" else []
    ok = all(v == "ok" for v in checks.values()) and not found
    body = jsonify(status="ok" if ok else "fail", checks=checks, problems=found, warnings=coming)
    return body, 200 if ok else 503


# --- commands -----------------------------------------------------------------------------------


@click.group("db", help="The database schema.")
def db_group() -> None:
    pass


@db_group.command("upgrade", help="Apply every migration (creates the database when needed).")
@with_appcontext
def db_upgrade() -> None:
    upgrade_database()
    click.echo("database up to date")


def upgrade_database() -> None:
    migrations.upgrade(current_app.extensions["engine"])


def _host_port(f: Any) -> Any:
    f = click.option("--port", default=5000, show_default=True, type=int)(f)
    return click.option("--host", default="127.0.0.1", show_default=True)(f)


@click.command("serve", help="The web application only (webhooks, API, dashboard).")
@_host_port
@with_appcontext
def serve(host: str, port: int) -> None:
    run_simple(host, port, current_app._get_current_object(), threaded=True, use_reloader=False)  # type: ignore[attr-defined]


@click.command("worker", help="The RQ worker with its scheduler, and the sweeper of overdue work.")
@click.option("--burst", is_flag=True, help="Run what is queued, then stop.")
@with_appcontext
def worker(burst: bool) -> None:
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    tasks.bind_worker(app)
    stop = threading.Event()
    if not burst:
        threading.Thread(target=_sweep_forever, args=(app, stop), daemon=True).start()
    w = SimpleWorker(tasks.queues(app), connection=tasks.connection(app))
    try:
        w.work(burst=burst, with_scheduler=True, logging_level="INFO")
    finally:
        stop.set()


def _sweep_forever(app: Flask, stop: threading.Event, every: float = 10.0) -> None:
    """Re-run overdue work from the database (a Redis that lost its jobs loses no page), and purge
    recordings past their retention once an hour."""
    last_purge = 0.0
    while not stop.wait(every):
        with app.app_context():
            try:
                sweep()
                if time.monotonic() - last_purge > 3600:
                    last_purge = time.monotonic()
                    purge_recordings()
            except Exception:  # noqa: BLE001 - keep sweeping; the error is logged
                app.logger.exception("sweep failed")


@click.command("up", help="Migrate, then run the web application, the worker and its scheduler.")
@_host_port
def up(host: str, port: int) -> None:
    instance = _instance()
    children: list[subprocess.Popen[bytes]] = []
    env = dict(os.environ)
    if not os.environ.get("REDIS_URL"):
        redis_proc, url = tasks.start_embedded_redis(instance / "redis")
        children.append(redis_proc)
        env["REDIS_URL"] = url
        click.echo(f"embedded redis-server on {url}")
    exe = [sys.executable, "-c", "import wsgi; wsgi.cli()"]

    def _stop(signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt  # Ctrl-C, and the SIGTERM of a service manager, stop everything

    # Set explicitly: a shell that starts us in the background leaves SIGINT ignored.
    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    try:
        subprocess.run([*exe, "db", "upgrade"], env=env, check=True)
        children.append(subprocess.Popen([*exe, "worker"], env=env))
        children.append(subprocess.Popen([*exe, "serve", "--host", host, "--port", str(port)], env=env))
        click.echo(f"astreinte is up on http://{host}:{port} (Ctrl-C stops everything)")
        while all(c.poll() is None for c in children):
            time.sleep(0.5)
        click.echo("a process stopped; stopping the others", err=True)
    except KeyboardInterrupt:
        click.echo("stopping")
    finally:
        for child in reversed(children):
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for child in reversed(children):
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()


cli = FlaskGroup(
    create_app=create_app,
    add_default_commands=False,
    load_dotenv=False,
    help="astreinte: the after-hours voice front desk.",
)


def __getattr__(name: str) -> Any:
    """`wsgi:app` for a WSGI server, built on first use so that importing the module stays cheap."""
    if name == "app":
        globals()["app"] = create_app()
        return globals()["app"]
    raise AttributeError(name)


if __name__ == "__main__":
    cli()
