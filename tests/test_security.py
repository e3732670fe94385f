"""Security: secrets from outside the repository, no demo accounts in production, Secure cookies.

(That the crawler never follows a redirect off its source's host is tested in
test_crawl_faults.py::test_redirects_off_the_source_host_are_refused_and_video_feeds_become_posts.)
"""
from __future__ import annotations

import datetime as dt
import http.client
import os
import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

import pytest
import streamlit as st
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from streamlit.testing.v1 import AppTest

from dashboard.server import secure_cookie
from pipeline.core.config import REPO_ROOT, ConfigError, Settings, get_settings, read_secret
from pipeline.core.security import DemoAccountsPresent, demo_accounts_in_use, refuse_demo_accounts
from pipeline.core.users import DEMO_ACCOUNTS, add_user, create_demo_accounts

APP = str(REPO_ROOT / "dashboard" / "app.py")


def test_a_secret_comes_from_the_environment_or_a_file_outside_the_repository(tmp_path: Path,
                                                                               monkeypatch) -> None:
    monkeypatch.delenv("COOPWATCH_TEST_SECRET", raising=False)
    monkeypatch.delenv("COOPWATCH_TEST_SECRET_FILE", raising=False)
    assert read_secret("COOPWATCH_TEST_SECRET") == ""
    secret = tmp_path / "secret"
    secret.write_text("mat-khau-bi-mat\n", encoding="utf-8")
    monkeypatch.setenv("COOPWATCH_TEST_SECRET_FILE", str(secret))
    assert read_secret("COOPWATCH_TEST_SECRET") == "mat-khau-bi-mat"
    monkeypatch.setenv("COOPWATCH_TEST_SECRET", "tu-bien-moi-truong")
    assert read_secret("COOPWATCH_TEST_SECRET") == "tu-bien-moi-truong"  # the variable wins


@pytest.mark.parametrize("where", ["inside", "linked"])
def test_a_secret_file_inside_the_repository_is_refused(where: str, tmp_path: Path, monkeypatch) -> None:
    inside = REPO_ROOT / "pipeline" / "config.py"  # any file of the repository
    path = inside
    if where == "linked":  # a link from outside still points into the repository
        path = tmp_path / "secret"
        path.symlink_to(inside)
    monkeypatch.delenv("COOPWATCH_TEST_SECRET", raising=False)
    monkeypatch.setenv("COOPWATCH_TEST_SECRET_FILE", str(path))
    with pytest.raises(ConfigError, match="COOPWATCH_TEST_SECRET_FILE: .* is inside the repository"):
        read_secret("COOPWATCH_TEST_SECRET")


def test_a_missing_secret_file_names_the_variable(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("COOPWATCH_TEST_SECRET", raising=False)
    monkeypatch.setenv("COOPWATCH_TEST_SECRET_FILE", str(tmp_path / "none"))
    with pytest.raises(ConfigError, match="COOPWATCH_TEST_SECRET_FILE: cannot read"):
        read_secret("COOPWATCH_TEST_SECRET")


def test_the_database_url_with_its_password_may_come_from_a_file(tmp_path: Path, monkeypatch) -> None:
    url_file = tmp_path / "database-url"
    url_file.write_text("postgresql+psycopg://coopwatch:mat-khau@db.example/coopwatch\n", encoding="utf-8")
    monkeypatch.delenv("COOPWATCH_DATABASE_URL", raising=False)
    monkeypatch.setenv("COOPWATCH_DATABASE_URL_FILE", str(url_file))
    assert get_settings().database_url == "postgresql+psycopg://coopwatch:mat-khau@db.example/coopwatch"
    monkeypatch.setenv("COOPWATCH_DATABASE_URL_FILE", str(REPO_ROOT / "var" / "database-url"))
    result = subprocess.run([sys.executable, "-m", "pipeline.cli", "sources"], capture_output=True, text=True,
                            env=dict(os.environ), timeout=120)
    assert result.returncode != 0 and "is inside the repository" in result.stderr
    assert "Traceback" not in result.stderr


def test_demo_accounts_are_refused_outside_demo_mode(engine) -> None:
    production = get_settings()
    assert not production.demo_mode
    refuse_demo_accounts(engine, production)  # no demo account: fine
    create_demo_accounts(engine)
    with pytest.raises(DemoAccountsPresent, match="giamsat, bientap, lanhdao, quantri"):
        refuse_demo_accounts(engine, production)
    refuse_demo_accounts(engine, Settings(demo_mode=True))  # a demonstration
    # A demo name whose password was changed is an ordinary account.
    for name, role, _ in DEMO_ACCOUNTS[:3]:
        add_user(engine, name, role, f"{name}-mat-khau-rieng")
    assert demo_accounts_in_use(engine) == ["quantri"]


@pytest.fixture
def app_database(monkeypatch, db_url: str, engine) -> str:
    monkeypatch.setenv("COOPWATCH_DATABASE_URL", db_url)
    monkeypatch.delenv("COOPWATCH_DEMO", raising=False)
    st.cache_data.clear()
    st.cache_resource.clear()
    return db_url


def test_the_dashboard_shows_no_login_while_demo_accounts_exist(app_database, engine, monkeypatch) -> None:
    create_demo_accounts(engine)
    app = AppTest.from_file(APP, default_timeout=60).run()
    assert [e.value for e in app.error][0].startswith("Bảng điều khiển không khởi động: tài khoản demo giamsat")
    assert not app.text_input  # no login form
    monkeypatch.setenv("COOPWATCH_DEMO", "1")
    demo = AppTest.from_file(APP, default_timeout=60).run()
    assert not demo.error and len(demo.text_input) == 2  # name and password


def test_dashboard_command_refuses_demo_accounts(db_url: str, engine) -> None:
    create_demo_accounts(engine)
    result = subprocess.run([sys.executable, "-m", "pipeline.cli", "dashboard", "--port", str(free_port())],
                            capture_output=True, text=True, timeout=120,
                            env={**os.environ, "COOPWATCH_DATABASE_URL": db_url, "COOPWATCH_DEMO": "0"})
    assert result.returncode != 0
    assert "the dashboard will not start: the demo accounts giamsat" in result.stderr
    assert "Traceback" not in result.stderr


def test_secure_attribute_is_added_once() -> None:
    assert secure_cookie(b"_streamlit_xsrf=2|ab|cd|1; Path=/; SameSite=Lax") == (
        b"_streamlit_xsrf=2|ab|cd|1; Path=/; SameSite=Lax; Secure")
    assert secure_cookie(b"session=x; Path=/; secure; HttpOnly") == b"session=x; Path=/; secure; HttpOnly"
    assert secure_cookie(b"insecure=1; Path=/").endswith(b"; Secure")  # a name is no attribute


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def set_cookies(port: int, tls: bool) -> list[str]:
    """The Set-Cookie headers of a request to the dashboard."""
    if tls:
        context = ssl.create_default_context()
        context.check_hostname, context.verify_mode = False, ssl.CERT_NONE  # our self-signed test cert
        connection: http.client.HTTPConnection = http.client.HTTPSConnection("127.0.0.1", port, timeout=5,
                                                                             context=context)
    else:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", "/_stcore/health")
        response = connection.getresponse()
        assert response.status == 200
        return response.headers.get_all("set-cookie") or []
    finally:
        connection.close()


def self_signed(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1)).sign(key, hashes.SHA256()))
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


@pytest.fixture
def dashboard(db_url: str, tmp_path: Path) -> Iterator:
    """Starts `coopwatch dashboard` with extra settings; yields a function returning (process, port)."""
    started: list[subprocess.Popen] = []

    def start(tls: bool = False, **settings: str) -> tuple[subprocess.Popen, int]:
        port = free_port()
        env = {**os.environ, "COOPWATCH_DATABASE_URL": db_url, **settings}
        process = subprocess.Popen([sys.executable, "-m", "pipeline.cli", "dashboard", "--port", str(port)],
                                   env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        started.append(process)
        deadline = time.monotonic() + 120
        while True:
            assert process.poll() is None, process.stderr.read().decode() if process.stderr else ""
            try:
                set_cookies(port, tls)
                return process, port
            except (OSError, http.client.HTTPException):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)

    yield start
    for process in started:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_behind_an_https_proxy_every_cookie_is_secure(dashboard) -> None:
    process, port = dashboard(COOPWATCH_PUBLIC_URL="https://coopwatch.example.vn")
    cookies = set_cookies(port, tls=False)
    assert cookies and all(c.rstrip().endswith("; Secure") for c in cookies), cookies
    assert any(c.startswith("_streamlit_xsrf=") for c in cookies)  # XSRF protection is on
    # Set up for users: no traceback on screen, no Deploy button or developer menu.
    command = Path(f"/proc/{process.pid}/cmdline").read_bytes().split(b"\0")
    assert b"--client.showErrorDetails" in command and b"--client.toolbarMode" in command
    assert command[command.index(b"--client.showErrorDetails") + 1] == b"none"
    assert command[command.index(b"--client.toolbarMode") + 1] == b"viewer"


def test_served_over_https_itself_with_a_cookie_secret_from_a_file(dashboard, tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    secret = tmp_path / "cookie-secret"
    secret.write_text("khoa-ky-cookie-rat-dai-va-ngau-nhien\n", encoding="utf-8")
    process, port = dashboard(tls=True, COOPWATCH_TLS_CERT_FILE=str(cert), COOPWATCH_TLS_KEY_FILE=str(key),
                              COOPWATCH_COOKIE_SECRET_FILE=str(secret))
    cookies = set_cookies(port, tls=True)
    assert cookies and all("Secure" in c for c in cookies), cookies
    # The secret reaches Streamlit through its environment, never on the command line.
    environ = Path(f"/proc/{process.pid}/environ").read_bytes().split(b"\0")
    assert b"STREAMLIT_SERVER_COOKIE_SECRET=khoa-ky-cookie-rat-dai-va-ngau-nhien" in environ
    assert b"khoa-ky" not in Path(f"/proc/{process.pid}/cmdline").read_bytes()
    with pytest.raises((ssl.SSLError, http.client.HTTPException, ConnectionError)):
        set_cookies(port, tls=False)  # no plain HTTP on that port
