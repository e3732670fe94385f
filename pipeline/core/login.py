"""Signing in: constant-time password checks, throttling and temporary lockout.

Failures are counted per account and per client address over a window
(COOPWATCH_LOGIN_LOCKOUT_MINUTES). From half of COOPWATCH_LOGIN_MAX_FAILURES on, each
attempt is slowed down; at the maximum, the account or the client is refused until the
window has passed, even with the right password. An unknown name costs the same bcrypt
check as a known one, so timing does not tell which names exist.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Optional

import bcrypt
from sqlalchemy import Engine, delete, func, select
from sqlalchemy.orm import Session

from pipeline.core.config import Settings
from pipeline.core.schema import LoginFailure, utcnow
from pipeline.core.users import MAX_PASSWORD_BYTES, Account, password_hash

logger = logging.getLogger(__name__)

# Checked when the name is unknown, so that an unknown name takes as long as a wrong password.
_DUMMY_HASH = bcrypt.hashpw(b"coopwatch-no-such-account", bcrypt.gensalt())
SLOWDOWN_SECONDS = 1.0


@dataclass(frozen=True)
class LoginResult:
    """The signed-in account, or why not: "failed" (wrong name or password) or "locked"."""

    account: Optional[Account]
    refusal: Optional[str] = None


def sign_in(engine: Engine, settings: Settings, name: str, password: str, client: str,
            sleep: bool = True) -> LoginResult:
    """Check a sign-in attempt, counting failures and honouring lockouts."""
    keys = (f"user:{name[:200]}", f"client:{client[:200]}")
    failures = _recent_failures(engine, settings, keys)
    if failures >= settings.login_max_failures:
        logger.warning("sign-in refused: %s or client %s is locked (%d recent failures)", name[:60], client, failures)
        _check(None, password)  # the same cost as any other attempt
        return LoginResult(None, "locked")
    if sleep and failures >= settings.login_max_failures // 2:
        time.sleep(SLOWDOWN_SECONDS * failures)
    found = password_hash(engine, name)
    right = _check(found[1] if found else None, password)
    if found is None or not right or found[0].disabled:
        _record_failure(engine, keys)
        logger.warning("failed sign-in for %r from %s", name[:60], client)
        return LoginResult(None, "failed")
    _clear_failures(engine, keys[0])
    return LoginResult(found[0])


def _check(hashed: Optional[str], password: str) -> bool:
    encoded = password.encode("utf-8", errors="replace")
    if len(encoded) > MAX_PASSWORD_BYTES:  # bcrypt refuses these; it can never be the password
        bcrypt.checkpw(b"x", _DUMMY_HASH)
        return False
    if hashed is None:
        bcrypt.checkpw(encoded, _DUMMY_HASH)
        return False
    try:
        return bcrypt.checkpw(encoded, hashed.encode("ascii"))
    except ValueError:  # not a bcrypt hash (an account whose password was never set)
        return False


def _recent_failures(engine: Engine, settings: Settings, keys: tuple[str, ...]) -> int:
    since = utcnow() - timedelta(minutes=settings.login_lockout_minutes)
    with Session(engine) as session:
        counts = [session.scalar(select(func.count(LoginFailure.id))
                                 .where(LoginFailure.key == key, LoginFailure.failed_at >= since)) or 0
                  for key in keys]
    return max(counts)


def _record_failure(engine: Engine, keys: tuple[str, ...]) -> None:
    with Session(engine) as session, session.begin():
        session.add_all(LoginFailure(key=key, failed_at=utcnow()) for key in keys)


def _clear_failures(engine: Engine, key: str) -> None:
    with Session(engine) as session, session.begin():
        session.execute(delete(LoginFailure).where(LoginFailure.key == key))
