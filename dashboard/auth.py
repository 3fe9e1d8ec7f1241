"""Who may see the dashboard: users with a role, hashed passwords, a session that expires when idle,
and a per-session CSRF token checked on every form. The API (bearer tokens), Twilio's signed webhooks
and the signed mobile take-over links live elsewhere and do not use this session."""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

import redis
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from sqlalchemy import select, update
from werkzeug.security import check_password_hash, generate_password_hash
from werkzeug.wrappers import Response

import clock
import models
import tasks
from models import Role, User
from words.ui import t

bp = Blueprint(
    "auth", __name__, template_folder="templates", static_folder="static", static_url_path="/assets"
)

PUBLIC_ENDPOINTS = {"auth.login", "auth.static"}
_USER, _EXPIRED = "astreinte.user", "astreinte.session_expired"
MAX_LOGIN_FAILURES, LOGIN_LOCK_SECONDS = 10, 15 * 60  # per name and address: slows down guessing
# However busy (the Now page reloads itself every 30 s), a session ends a day after its login.
SESSION_MAX_SECONDS = 24 * 3600
# Compared against when the name is unknown, so that a wrong name costs as much as a wrong password.
_DUMMY_HASH = generate_password_hash("not a password", method="scrypt")


def hash_password(password: str) -> str:
    return generate_password_hash(password, method="scrypt")


def end_sessions(user: User) -> None:
    """End every open session of `user` at its next request, copies of the cookie included: the
    session lives in a signed cookie, so the user's epoch moves and older cookies stop matching."""
    models.session.execute(
        update(User).where(User.id == user.id).values(session_epoch=User.session_epoch + 1)
    )
    models.session.expire(user, ["session_epoch"])


def set_password(user: User, password: str) -> None:
    """A new password for `user` (the caller commits); the sessions opened with the old one end."""
    user.password_hash = hash_password(password)
    end_sessions(user)


def authenticate(name: str, password: str) -> User | None:
    user = models.session.scalar(select(User).where(User.name == name.strip()))
    if user is None or user.disabled_at is not None:
        check_password_hash(_DUMMY_HASH, password)
        return None
    return user if check_password_hash(user.password_hash, password) else None


# --- the session --------------------------------------------------------------------------------


def csrf_token() -> str:
    """This session's form token (created on first use)."""
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return str(session["csrf"])


def csrf_ok() -> bool:
    sent = request.form.get("csrf_token", "") or request.headers.get("X-CSRF-Token", "")
    expected = session.get("csrf", "")
    return bool(sent and expected) and hmac.compare_digest(str(sent), str(expected))


def _lifetime() -> timedelta:
    value = current_app.config["PERMANENT_SESSION_LIFETIME"]
    return value if isinstance(value, timedelta) else timedelta(seconds=int(value))


def current_user() -> User | None:
    """The logged-in user of this request, or None (the session expires after the idle lifetime)."""
    # Cached on the request itself: `g` outlives a request when a test keeps an app context pushed.
    cache = request.environ
    if _USER in cache:
        return cache[_USER]  # type: ignore[no-any-return]
    cache[_USER] = None
    user_id, seen = session.get("user_id"), session.get("seen")
    if user_id is None or seen is None:
        return None
    now = clock.now().timestamp()
    too_old = now - float(session.get("login_at", seen)) > SESSION_MAX_SECONDS
    if too_old or now - float(seen) > _lifetime().total_seconds():
        session.clear()
        cache[_EXPIRED] = True
        return None
    user = models.session.get(User, user_id)
    if user is None or user.disabled_at is not None or session.get("epoch", 0) != user.session_epoch:
        session.clear()  # disabled, or a cookie kept from before a logout: that session ended
        return None
    session["seen"] = now
    cache[_USER] = user
    return user


def language() -> str:
    """The interface language: the session's switch, else the user's, else French."""
    chosen = session.get("lang")
    if chosen in ("fr", "en"):
        return str(chosen)
    user = current_user()
    return user.language if user is not None and user.language in ("fr", "en") else "fr"


def require_login() -> Response | None:
    """before_request of the dashboard: a login page for strangers, a 400 for a forged form."""
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    if current_user() is None:
        if request.environ.get(_EXPIRED):
            flash(t("Votre session a expiré : reconnectez-vous.", language()))
        if request.method == "GET":
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        return redirect(url_for("auth.login"))
    if request.method == "POST" and not csrf_ok():
        abort(400, description=t("Formulaire expiré ou falsifié : rechargez la page.", language()))
    return None


def role_required(role: Role) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            user = current_user()
            if user is None or (role is Role.ADMIN and user.role is not Role.ADMIN):
                abort(403, description=t("Réservé aux administrateurs.", language()))
            return view(*args, **kwargs)

        return wrapped

    return decorate


# Guesses are counted per name *and address* (a stranger's guesses lock the stranger out, not the
# agent at her desk), per address whatever the name (one machine trying many names), and per name
# whatever the address (guesses spread over many addresses). The address is the client's as the
# trusted proxies tell it (TRUSTED_PROXIES, wsgi.py): behind nginx, never the proxy's own.
MAX_ADDRESS_FAILURES = 30
MAX_ACCOUNT_FAILURES = 30
# When Redis is down the counts live in this process: a throttle that fails open would let a guesser
# try as fast as the server answers. (Each web process counts apart: at worst a few times the limit.)
_LOCAL: dict[str, tuple[int, float]] = {}
_LOCAL_MAX = 10_000
_local_lock = threading.Lock()


def _keys(name: str) -> tuple[str, str, str]:
    address = request.remote_addr or "-"
    return (
        f"astreinte:login-failures:{name.lower()}|{address}",
        f"astreinte:login-failures-from:{address}",
        f"astreinte:login-failures-of:{name.lower()}",
    )


def _local_count(key: str, now: float) -> int:
    count, until = _LOCAL.get(key, (0, 0.0))
    return count if until > now else 0


def _throttled(name: str) -> bool:
    """Whether this name from this address, this address, or this name from anywhere made too many
    failed logins lately."""
    pair, address, account = _keys(name)
    try:
        counts = tasks.connection().mget([pair, address, account])
        by_pair, by_address, by_account = (int(c or 0) for c in counts)
    except redis.RedisError:
        now = time.monotonic()
        with _local_lock:
            by_pair, by_address, by_account = (_local_count(k, now) for k in (pair, address, account))
    return (
        by_pair >= MAX_LOGIN_FAILURES
        or by_address >= MAX_ADDRESS_FAILURES
        or by_account >= MAX_ACCOUNT_FAILURES
    )


def _count_failure(name: str) -> None:
    keys = _keys(name)
    try:
        pipe = tasks.connection().pipeline()
        for key in keys:
            pipe.incr(key)
            pipe.expire(key, LOGIN_LOCK_SECONDS)
        pipe.execute()
    except redis.RedisError:
        now = time.monotonic()
        with _local_lock:
            if len(_LOCAL) > _LOCAL_MAX:
                _LOCAL.clear()  # bounded: a flood of names must not grow memory without end
            for key in keys:
                _LOCAL[key] = (_local_count(key, now) + 1, now + LOGIN_LOCK_SECONDS)


def _safe_next(target: str | None) -> str:
    """Only a path of this site: never an open redirect, nor a control character (a CR LF in a
    Location header is a 500, or a header injected)."""
    if not target or any(ord(c) < 32 or ord(c) == 127 for c in target):
        return url_for("dashboard.now")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("dashboard.now")
    return target


# --- login and logout ---------------------------------------------------------------------------


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    lang = language()
    if request.method == "GET":
        if current_user() is not None:
            return redirect(_safe_next(request.args.get("next")))
        return render_template("desk/login.html", next=request.args.get("next", ""))
    if not csrf_ok():
        flash(t("Formulaire expiré : recommencez.", lang))
        return render_template("desk/login.html", next=request.form.get("next", "")), 400
    name = request.form.get("name", "").strip()
    if _throttled(name):
        flash(t("Trop d'essais : réessayez dans un quart d'heure.", lang))
        return render_template("desk/login.html", next=request.form.get("next", ""), name=name), 429
    user = authenticate(name, request.form.get("password", ""))
    if user is None:
        _count_failure(name)
        flash(t("Nom ou mot de passe incorrect.", lang))
        return render_template(
            "desk/login.html", next=request.form.get("next", ""), name=request.form.get("name", "")
        ), 401
    keep_lang = session.get("lang")
    session.clear()  # a fresh session (and a fresh CSRF token) at each login: no fixation
    session.permanent = True
    session["user_id"] = user.id
    session["epoch"] = user.session_epoch
    session["seen"] = session["login_at"] = clock.now().timestamp()
    if keep_lang:
        session["lang"] = keep_lang
    return redirect(_safe_next(request.form.get("next")))


@bp.route("/logout", methods=["POST"])
def logout() -> Any:
    user = current_user()
    if user is not None and not csrf_ok():
        abort(400, description=t("Formulaire expiré ou falsifié : rechargez la page.", language()))
    if user is not None:
        end_sessions(user)  # a copy of the cookie made before this logout must not live on
        models.session.commit()
    session.clear()
    flash(t("Vous êtes déconnecté.", language()))
    return redirect(url_for("auth.login"))


@bp.route("/language", methods=["POST"])
def switch_language() -> Any:
    """The fr/en switch, for the session (and saved on the user when logged in)."""
    if not csrf_ok():
        abort(400, description=t("Formulaire expiré ou falsifié : rechargez la page.", language()))
    lang = request.form.get("lang", "fr")
    if lang not in ("fr", "en"):
        abort(400, description="lang: fr or en")
    session["lang"] = lang
    user = current_user()
    if user is not None:
        user.language = lang
        models.session.commit()
    return redirect(_safe_next(request.form.get("next")))


PUBLIC_ENDPOINTS.add("auth.switch_language")
