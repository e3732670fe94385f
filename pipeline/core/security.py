"""Start-up checks that keep a production dashboard from running with demo settings."""
from __future__ import annotations

import bcrypt
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from pipeline.core.config import Settings
from pipeline.core.schema import User
from pipeline.core.users import DEMO_ACCOUNTS


class DemoAccountsPresent(RuntimeError):
    """Accounts with the published demo passwords exist outside demo mode."""


def demo_accounts_in_use(engine: Engine) -> list[str]:
    """Names of demo accounts that still accept their published demo password.

    A demo name whose password has been changed is an ordinary account and not listed.
    """
    names = [name for name, _, _ in DEMO_ACCOUNTS]
    with Session(engine) as session:
        rows = session.execute(select(User.name, User.password_hash).where(User.name.in_(names)))
        hashes = {name: hashed for name, hashed in rows}
    # bcrypt is slow on purpose; only accounts that exist are checked.
    return [name for name, _, password in DEMO_ACCOUNTS
            if name in hashes and _matches(password, hashes[name])]


def _matches(password: str, hashed: str) -> bool:
    try:
        return bcrypt.checkpw(password.encode("utf-8"), hashed.encode("ascii"))
    except ValueError:  # not a bcrypt hash at all: certainly not the demo password
        return False


def refuse_demo_accounts(engine: Engine, settings: Settings) -> None:
    """Raise unless demo mode is on or no account accepts a published demo password."""
    if settings.demo_mode:
        return
    names = demo_accounts_in_use(engine)
    if names:
        raise DemoAccountsPresent(
            f"the dashboard will not start: the demo accounts {', '.join(names)} still have their "
            "published demo passwords. Give each a new password (`coopwatch users add NAME --role "
            "ROLE`), or set COOPWATCH_DEMO=1 for a demonstration"
        )
