"""Accounts: lockout after repeated failures, no timing hint of which names exist, long
passwords, names checked, and changes that end open sessions at once."""
from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import bcrypt
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from pipeline.core import login
from pipeline.core.config import get_settings
from pipeline.core.db import migrate
from pipeline.core.login import sign_in
from pipeline.core.users import UserError, account, add_user, reset_password, set_disabled, set_role

REPO = Path(__file__).resolve().parent.parent
COVERAGE = str(REPO / "dashboard" / "views" / "coverage.py")


@pytest.fixture
def accounts(db_url, engine, monkeypatch):
    migrate(db_url)
    monkeypatch.setenv("COOPWATCH_DATABASE_URL", db_url)
    add_user(engine, "lan", "editor", "mat-khau-dai")
    from pipeline.ingest import runtime

    runtime.shared_engine.cache_clear()
    st.cache_data.clear()
    st.cache_resource.clear()
    yield engine
    runtime.shared_engine.cache_clear()


def _settings():
    return replace(get_settings(), login_max_failures=4, login_lockout_minutes=15)


def test_an_account_is_locked_after_repeated_failures_even_with_the_right_password(accounts) -> None:
    for n in range(4):
        assert sign_in(accounts, _settings(), "lan", f"sai-{n}", f"10.0.0.{n}", sleep=False).refusal == "failed"
    locked = sign_in(accounts, _settings(), "lan", "mat-khau-dai", "10.0.0.9", sleep=False)
    assert locked.account is None and locked.refusal == "locked"


def test_one_client_trying_many_names_is_locked_too(accounts) -> None:
    for n in range(4):
        sign_in(accounts, _settings(), f"ten{n}", "sai-mat-khau", "192.0.2.7", sleep=False)
    assert sign_in(accounts, _settings(), "lan", "mat-khau-dai", "192.0.2.7", sleep=False).refusal == "locked"
    assert sign_in(accounts, _settings(), "lan", "mat-khau-dai", "192.0.2.8", sleep=False).account.role == "editor"


def test_an_unknown_name_costs_the_same_bcrypt_check_as_a_known_one(accounts, monkeypatch) -> None:
    calls: list[bytes] = []
    real = bcrypt.checkpw

    def counting(password: bytes, hashed: bytes) -> bool:
        calls.append(hashed)
        return real(password, hashed)

    monkeypatch.setattr(login.bcrypt, "checkpw", counting)
    sign_in(accounts, _settings(), "khong-co", "mat-khau-dai", "c", sleep=False)
    sign_in(accounts, _settings(), "lan", "sai-mat-khau", "c", sleep=False)
    assert len(calls) == 2 and all(h.startswith(b"$2") for h in calls)


def test_long_passwords_are_refused_clearly_and_never_crash_sign_in(accounts) -> None:
    with pytest.raises(UserError, match="at most 72 bytes"):
        add_user(accounts, "mai", "monitor", "mật khẩu " * 20)
    assert sign_in(accounts, _settings(), "lan", "x" * 500, "c", sleep=False).refusal == "failed"


@pytest.mark.parametrize("name", ["", " ", "Lan", "a", "**lan**", "lan/../x", "x" * 41])
def test_user_names_are_checked(accounts, name: str) -> None:
    with pytest.raises(UserError, match="user name"):
        add_user(accounts, name, "monitor", "mat-khau-dai")


def test_a_disabled_account_cannot_sign_in(accounts) -> None:
    set_disabled(accounts, "lan")
    assert sign_in(accounts, _settings(), "lan", "mat-khau-dai", "c", sleep=False).account is None


def _open_coverage(engine) -> AppTest:
    app = AppTest.from_file(COVERAGE, default_timeout=60)
    app.session_state["user"] = "lan"
    app.session_state["epoch"] = account(engine, "lan").session_epoch
    return app.run()


NOT_ALLOWED = "Tài khoản của bạn không có quyền xem trang này."


@pytest.mark.parametrize("change", [
    lambda engine: set_role(engine, "lan", "monitor"),
    lambda engine: reset_password(engine, "lan", "mat-khau-moi-dai"),
    lambda engine: set_disabled(engine, "lan"),
])
def test_a_demotion_a_new_password_or_disabling_takes_effect_in_the_open_session(accounts, change) -> None:
    app = _open_coverage(accounts)
    assert not app.exception and NOT_ALLOWED not in [e.value for e in app.error]
    change(accounts)
    app.run()
    assert NOT_ALLOWED in [e.value for e in app.error]
    assert "user" not in app.session_state


def test_users_commands_manage_accounts(tmp_path: Path, empty_db_url: str) -> None:
    env = {**os.environ, "COOPWATCH_DATABASE_URL": empty_db_url}

    def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "pipeline.cli", "users", *args], env=env, input=stdin,
                              capture_output=True, text=True, timeout=120)

    subprocess.run([sys.executable, "-m", "pipeline.cli", "init"], env=env, check=True, capture_output=True)
    assert run("add", "lan", "--role", "editor", "--password-stdin", stdin="mat-khau-dai\n").returncode == 0
    empty = run("add", "", "--role", "editor", "--password-stdin", stdin="mat-khau-dai\n")
    assert empty.returncode != 0 and "user name" in empty.stderr and "Traceback" not in empty.stderr
    assert run("set-role", "lan", "monitor").returncode == 0
    assert run("disable", "lan").returncode == 0
    listed = run("list").stdout
    assert "lan" in listed and "monitor" in listed and "disabled" in listed
    assert run("reset-password", "lan", "--password-stdin", stdin="mat-khau-moi-dai\n").returncode == 0
    missing = run("set-role", "khong-co", "editor")
    assert missing.returncode != 0 and "no account named" in missing.stderr
