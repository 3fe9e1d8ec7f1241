"""The administrators' Users page: who may log in, and managing them from the browser (add, disable and
enable, reset a password, which ends that user's sessions, change a role). Every change is a form
behind the CSRF token and the admin role; an administrator cannot lock the desk out of it (the last
active administrator is neither disabled nor made an agent)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from sqlalchemy import func, select
from werkzeug.wrappers import Response

import clock
from dashboard.auth import current_user, end_sessions, hash_password, language, role_required, set_password
from dashboard.cli import MIN_PASSWORD
from dashboard.web import bp
from models import ApiToken, Role, User, session
from words.ui import label, t

NAME_MAX = 80


@bp.get("/admin/users")
@role_required(Role.ADMIN)
def users() -> str:
    """Administrators see who may log in and which API tokens exist (created with the CLI)."""
    return render_template(
        "desk/users.html",
        users=list(session.scalars(select(User).order_by(User.name))),
        tokens=list(session.scalars(select(ApiToken).order_by(ApiToken.name, ApiToken.id))),
        roles=[r.value for r in Role],
        min_password=MIN_PASSWORD,
    )


def _back(message: str, category: str = "", status: int = 303) -> Response:
    flash(message, category)
    return redirect(url_for("dashboard.users"), code=status)


def _refused(message: str) -> Response:
    return _back(t(message, language()), "error")


def _role(value: str) -> Role:
    if value not in {r.value for r in Role}:
        abort(400, description=t("Rôle inconnu.", language()))
    return Role(value)


def _target(user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        abort(404)
    return user


def _last_admin(user: User) -> bool:
    """Whether `user` is the only active administrator left."""
    if user.role is not Role.ADMIN or user.disabled_at is not None:
        return False
    others = session.scalar(
        select(func.count())
        .select_from(User)
        .where(User.role == Role.ADMIN, User.disabled_at.is_(None), User.id != user.id)
    )
    return not others


@bp.post("/admin/users")
@role_required(Role.ADMIN)
def add_user() -> Response:
    name = request.form.get("name", "").strip()
    password = request.form.get("password", "")
    role = _role(request.form.get("role", Role.AGENT.value))
    lang = request.form.get("language", "fr")
    if not name or len(name) > NAME_MAX:
        return _refused("Nom : 1 à 80 caractères.")
    if lang not in ("fr", "en"):
        abort(400, description="language: fr or en")
    if len(password) < MIN_PASSWORD:
        return _refused("Mot de passe : 10 caractères au moins.")
    if session.scalar(select(User).where(User.name == name)) is not None:
        return _back(t("{name} existe déjà.", language(), name=name), "error")
    session.add(
        User(
            name=name, role=role, language=lang, created_at=clock.now(), password_hash=hash_password(password)
        )
    )
    session.commit()
    return _back(t("{name} peut se connecter ({role}).", language(), name=name, role=_said(role)))


def _said(role: Role) -> str:
    return label("role", role.value, language())


@bp.post("/admin/users/<int:user_id>/disable")
@role_required(Role.ADMIN)
def disable_user(user_id: int) -> Response:
    user = _target(user_id)
    if user.id == _me().id:
        return _refused("Vous ne pouvez pas désactiver votre propre compte.")
    if _last_admin(user):
        return _refused("C'est le dernier administrateur actif : nommez-en un autre d'abord.")
    if user.disabled_at is None:
        user.disabled_at = clock.now()
        end_sessions(user)
        session.commit()
    return _back(t("{name} est désactivé : ses sessions sont fermées.", language(), name=user.name))


@bp.post("/admin/users/<int:user_id>/enable")
@role_required(Role.ADMIN)
def enable_user(user_id: int) -> Response:
    user = _target(user_id)
    user.disabled_at = None
    session.commit()
    return _back(t("{name} peut de nouveau se connecter.", language(), name=user.name))


@bp.post("/admin/users/<int:user_id>/password")
@role_required(Role.ADMIN)
def reset_password(user_id: int) -> Response:
    user = _target(user_id)
    password = request.form.get("password", "")
    if len(password) < MIN_PASSWORD:
        return _refused("Mot de passe : 10 caractères au moins.")
    set_password(user, password)
    session.commit()
    return _back(
        t("Mot de passe de {name} changé : ses sessions ouvertes sont fermées.", language(), name=user.name)
    )


@bp.post("/admin/users/<int:user_id>/role")
@role_required(Role.ADMIN)
def change_role(user_id: int) -> Response:
    user = _target(user_id)
    role = _role(request.form.get("role", ""))
    if role is not Role.ADMIN and _last_admin(user):
        return _refused("C'est le dernier administrateur actif : nommez-en un autre d'abord.")
    user.role = role
    session.commit()
    return _back(t("{name} est maintenant {role}.", language(), name=user.name, role=_said(role)))


def _me() -> User:
    user = current_user()
    assert user is not None  # role_required let the request in
    return user
