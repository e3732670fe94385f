"""Dashboard accounts: bcrypt-hashed passwords and the four roles."""
from __future__ import annotations

from typing import Optional

import bcrypt
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from pipeline.core.schema import User

ROLES = ("monitor", "editor", "leader", "admin")
MIN_PASSWORD_LENGTH = 8
DEMO_ACCOUNTS = (
    ("giamsat", "monitor", "giamsat-demo"),
    ("bientap", "editor", "bientap-demo"),
    ("lanhdao", "leader", "lanhdao-demo"),
    ("quantri", "admin", "quantri-demo"),
)


class UserError(ValueError):
    """Raised for an invalid account request."""


def add_user(engine: Engine, name: str, role: str, password: str) -> None:
    """Create or update an account."""
    if role not in ROLES:
        raise UserError(f"role must be one of {', '.join(ROLES)}")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"password must have at least {MIN_PASSWORD_LENGTH} characters")
    hashed = bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt()).decode("ascii")
    with Session(engine) as session, session.begin():
        user = session.scalar(select(User).where(User.name == name))
        if user is None:
            session.add(User(name=name, role=role, password_hash=hashed))
        else:
            user.role, user.password_hash = role, hashed


def authenticate(engine: Engine, name: str, password: str) -> Optional[str]:
    """The user's role when the password is right, else None."""
    with Session(engine) as session:
        user = session.scalar(select(User).where(User.name == name))
    if user is None:
        return None
    if bcrypt.checkpw(password.encode("utf-8"), user.password_hash.encode("ascii")):
        return user.role
    return None


def create_demo_accounts(engine: Engine) -> list[tuple[str, str, str]]:
    """Demo accounts (demo mode only); returns (name, role, password) to print."""
    for name, role, password in DEMO_ACCOUNTS:
        add_user(engine, name, role, password)
    return list(DEMO_ACCOUNTS)
