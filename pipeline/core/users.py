"""Dashboard accounts: bcrypt-hashed passwords, the four roles, disabling and session epochs."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

import bcrypt
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from pipeline.core.schema import User

ROLES = ("monitor", "editor", "leader", "admin")
MIN_PASSWORD_LENGTH = 8
# bcrypt reads at most 72 bytes of a password; a longer one is refused, never silently cut.
MAX_PASSWORD_BYTES = 72
NAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9._-]{1,39}")
DEMO_ACCOUNTS = (
    ("giamsat", "monitor", "giamsat-demo"),
    ("bientap", "editor", "bientap-demo"),
    ("lanhdao", "leader", "lanhdao-demo"),
    ("quantri", "admin", "quantri-demo"),
)


class UserError(ValueError):
    """Raised for an invalid account request."""


@dataclass(frozen=True)
class Account:
    """What a page needs to know about the signed-in account, read fresh on every run."""

    name: str
    role: str
    disabled: bool
    session_epoch: int


def check_name(name: str) -> str:
    """A user name: 2–40 lower-case letters, digits, dots, dashes or underscores."""
    if not NAME_PATTERN.fullmatch(name):
        raise UserError("user name must be 2–40 characters: lower-case letters a–z, digits, '.', '_' "
                        "or '-', starting with a letter or digit")
    return name


def check_password(password: str) -> bytes:
    """The password as bcrypt takes it, or UserError."""
    encoded = password.encode("utf-8")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"password must have at least {MIN_PASSWORD_LENGTH} characters")
    if len(encoded) > MAX_PASSWORD_BYTES:
        raise UserError(f"password must be at most {MAX_PASSWORD_BYTES} bytes (UTF-8)")
    return encoded


def add_user(engine: Engine, name: str, role: str, password: str) -> None:
    """Create or update an account (an update ends its open sessions)."""
    check_name(name)
    _check_role(role)
    hashed = bcrypt.hashpw(check_password(password), bcrypt.gensalt()).decode("ascii")
    with Session(engine) as session, session.begin():
        user = session.scalar(select(User).where(User.name == name))
        if user is None:
            session.add(User(name=name, role=role, password_hash=hashed))
        else:
            user.role, user.password_hash, user.disabled = role, hashed, False
            user.session_epoch += 1


def set_role(engine: Engine, name: str, role: str) -> None:
    """Change an account's role; its open sessions end."""
    _check_role(role)
    with Session(engine) as session, session.begin():
        user = _existing(session, name)
        user.role, user.session_epoch = role, user.session_epoch + 1


def set_disabled(engine: Engine, name: str, disabled: bool = True) -> None:
    """Disable (or enable again) an account; its open sessions end."""
    with Session(engine) as session, session.begin():
        user = _existing(session, name)
        user.disabled, user.session_epoch = disabled, user.session_epoch + 1


def reset_password(engine: Engine, name: str, password: str) -> None:
    """Give an existing account a new password; its open sessions end."""
    hashed = bcrypt.hashpw(check_password(password), bcrypt.gensalt()).decode("ascii")
    with Session(engine) as session, session.begin():
        user = _existing(session, name)
        user.password_hash, user.session_epoch = hashed, user.session_epoch + 1


def list_accounts(engine: Engine) -> list[Account]:
    """Every account, by name."""
    with Session(engine) as session:
        return [_account(u) for u in session.scalars(select(User).order_by(User.name))]


def account(engine: Engine, name: str) -> Optional[Account]:
    """The account's current role and state, or None when there is no such account."""
    with Session(engine) as session:
        user = session.scalar(select(User).where(User.name == name))
        return _account(user) if user is not None else None


def password_hash(engine: Engine, name: str) -> Optional[tuple[Account, str]]:
    """The account and its password hash, for sign-in."""
    with Session(engine) as session:
        user = session.scalar(select(User).where(User.name == name))
        return (_account(user), user.password_hash) if user is not None else None


def create_demo_accounts(engine: Engine) -> list[tuple[str, str, str]]:
    """Demo accounts (demo mode only); returns (name, role, password) to print."""
    for name, role, password in DEMO_ACCOUNTS:
        add_user(engine, name, role, password)
    return list(DEMO_ACCOUNTS)


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise UserError(f"role must be one of {', '.join(ROLES)}")


def _existing(session: Session, name: str) -> User:
    user = session.scalar(select(User).where(User.name == name))
    if user is None:
        raise UserError(f"no account named {name!r}")
    return user


def _account(user: User) -> Account:
    return Account(user.name, user.role, bool(user.disabled), int(user.session_epoch or 0))
