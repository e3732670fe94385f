"""Dashboard pages run with Streamlit's AppTest on a seeded database."""
from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from pipeline.ingest import Ingestor
from pipeline.users import add_user
from tests.test_ingest import wire_copies

APP = str(Path(__file__).resolve().parent.parent / "dashboard" / "app.py")


@pytest.fixture
def seeded(monkeypatch, sqlite_url, engine, classifier) -> str:
    Ingestor(engine, classifier).ingest(wire_copies())
    add_user(engine, "lan", "monitor", "mat-khau-dai")
    monkeypatch.setenv("COOPWATCH_DATABASE_URL", sqlite_url)
    from pipeline import runtime

    runtime.shared_engine.cache_clear()
    return sqlite_url


def test_login_is_required_and_wrong_passwords_are_refused(seeded) -> None:
    app = AppTest.from_file(APP, default_timeout=60).run()
    assert not app.exception
    assert app.text_input[0].label == "Tên đăng nhập"
    app.text_input[0].input("lan")
    app.text_input[1].input("sai-mat-khau")
    app.button[0].click().run()
    assert any("Sai tên đăng nhập" in e.value for e in app.error)
    assert "role" not in app.session_state


def test_overview_shows_counts_per_label_in_vietnamese(seeded) -> None:
    app = AppTest.from_file(APP, default_timeout=60).run()
    app.text_input[0].input("lan")
    app.text_input[1].input("mat-khau-dai")
    app.button[0].click().run()
    assert not app.exception
    assert app.header[0].value == "Tổng quan"
    metrics = {m.label: m.value for m in app.metric}
    assert metrics["Tổng số tin, bài"] == "3"
    table = app.dataframe[0].value
    assert int(table.to_numpy().sum()) == 3
    assert "12/11/2026" in list(table.index)
