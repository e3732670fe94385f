"""The dashboard in a real browser: Debian's headless Chromium driven by Selenium.

A seeded SQLite database, `streamlit run dashboard/app.py` on a free local port, and one
browser per test. The monitor signs in, opens the review queue and relabels an item the
model flagged as misleading (it is criticism); the review row and its history entry are
checked in the database and on the page. Editors and leaders open their pages. Screenshots
go to tests/artifacts/browser/; with COOPWATCH_UPDATE_SCREENSHOTS=1 the ones the README shows
are also copied to docs/screenshots/ (not on every run: the dates on them change daily).

`make test` installs chromium and chromium-driver (Makefile target `browser`); when they
are missing anyway the tests skip with a message.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Callable, Iterator

import pytest
from selenium import webdriver
from selenium.common.exceptions import (
    NoSuchElementException, StaleElementReferenceException, TimeoutException,
)
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from pipeline.core.db import make_engine, migrate
from pipeline.core.schema import Item, Review, utcnow
from tests.browser_seed import ACCOUNTS, DIGEST_STORY, Seeded, seed_browser_data
from tests.helpers import VN

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
ARTIFACTS = REPO / "tests" / "artifacts" / "browser"
DOCS = REPO / "docs" / "screenshots"
README_SHOTS = ("review-queue", "review-item", "overview", "coverage", "weekly-report")
WIDTH, HEIGHT = 1280, 900
WAIT = 30  # seconds for one page or one action; the first run of a page imports its libraries
NOTE = "Phản ánh có thật của thành viên, không phải tin sai. Theo dõi việc HTX trả tiền."


@dataclass(frozen=True)
class Dashboard:
    url: str
    engine: Engine
    seeded: Seeded
    log: Path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _log_tail(log: Path) -> str:
    return log.read_text(errors="replace")[-3000:] if log.exists() else "(no log)"


def _wait_healthy(url: str, process: subprocess.Popen[bytes], log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited with {process.returncode}:\n{_log_tail(log)}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"streamlit not healthy after {timeout:.0f} s:\n{_log_tail(log)}")


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dashboard]:
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not os.access(p, os.X_OK)]
    if missing:
        pytest.skip(f"browser test needs Debian's chromium and chromium-driver ({', '.join(missing)} "
                    "missing); `make test` installs them with apt-get")
    directory = tmp_path_factory.mktemp("browser")
    database_url = f"sqlite:///{directory / 'coopwatch.db'}"
    migrate(database_url)
    engine = make_engine(database_url)
    seeded = seed_browser_data(engine)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log = ARTIFACTS / "streamlit.log"
    port = _free_port()
    env = dict(os.environ, COOPWATCH_DATABASE_URL=database_url, COOPWATCH_LOG_LEVEL="WARNING")
    command = [sys.executable, "-m", "streamlit", "run", str(REPO / "dashboard" / "app.py"),
               "--server.headless", "true", "--server.port", str(port), "--server.address", "127.0.0.1",
               "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none",
               "--client.toolbarMode", "minimal"]
    with log.open("wb") as output:
        process = subprocess.Popen(command, cwd=REPO, env=env, stdout=output, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, process, log)
        yield Dashboard(url=url, engine=engine, seeded=seeded, log=log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        engine.dispose()


@pytest.fixture
def browser(dashboard: Dashboard) -> Iterator[WebDriver]:
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     f"--window-size={WIDTH},{HEIGHT}", "--lang=vi-VN", "--hide-scrollbars"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    # The window size includes no browser chrome in headless mode, but make the page exactly this.
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": WIDTH, "height": HEIGHT, "deviceScaleFactor": 1, "mobile": False})
    try:
        yield driver
    finally:
        driver.quit()


# --- helpers: everything is found by visible text, aria labels or Streamlit's widget keys ------

def wait_for(driver: WebDriver, condition: Callable[[WebDriver], object], what: str) -> object:
    """What `condition` returns once it is truthy; a timeout fails with a screenshot."""
    # An element may be replaced by the next script run between finding and reading it.
    waiting = WebDriverWait(driver, WAIT, ignored_exceptions=(StaleElementReferenceException, NoSuchElementException))
    try:
        return waiting.until(condition)
    except TimeoutException:
        shot = ARTIFACTS / f"failed-{what.replace(' ', '-')}.png"
        driver.save_screenshot(str(shot))
        raise AssertionError(f"timed out waiting for {what}; screenshot {shot}") from None


def element(driver: WebDriver, condition: Callable[[WebDriver], object], what: str) -> WebElement:
    found = wait_for(driver, condition, what)
    assert isinstance(found, WebElement)
    return found


def clickable(driver: WebDriver, by: str, locator: str, what: str) -> WebElement:
    return element(driver, EC.element_to_be_clickable((by, locator)), what)


def idle(driver: WebDriver) -> bool:
    """The script run has finished: no element left over from the previous run or still loading.

    Streamlit marks its app element with the run state (its own browser tests wait on it). Right
    after a click the new run may not have started yet, so callers first wait for content
    that only the new run shows.
    """
    return bool(driver.find_elements(By.CSS_SELECTOR, "[data-testid='stApp'][data-test-script-state='notRunning']")) \
        and not driver.find_elements(By.CSS_SELECTOR, "[data-stale='true'], [data-testid='stSkeleton']")


def shown(driver: WebDriver, xpath: str, what: str) -> WebElement:
    """Wait until the element is visible and the app has finished running; return it."""
    found = element(driver, EC.visibility_of_element_located((By.XPATH, xpath)), what)
    wait_for(driver, idle, f"{what} (idle)")
    return found


def text_xpath(tag: str, text: str) -> str:
    return f"//{tag}[normalize-space(.)={_literal(text)}]"


def _literal(text: str) -> str:
    assert "'" not in text
    return f"'{text}'"


def no_exception(driver: WebDriver) -> None:
    errors = driver.find_elements(By.CSS_SELECTOR, "[data-testid='stException']")
    assert not errors, errors[0].text


def screenshot(driver: WebDriver, name: str, top: WebElement | None = None) -> Path:
    """Save the viewport, scrolled so that `top` is at the top when given."""
    if top is not None:
        driver.execute_script("arguments[0].scrollIntoView({block: 'start'});", top)
    # Charts draw after the script run: wait for their canvas or svg.
    charts = driver.find_elements(By.CSS_SELECTOR, "[data-testid='stVegaLiteChart']")
    if charts:
        wait_for(driver, lambda d: all(c.find_elements(By.CSS_SELECTOR, "canvas, svg") for c in charts),
                 f"charts of {name}")
    wait_for(driver, lambda d: d.execute_script(
        "return [...document.images].every(i => i.complete && i.naturalWidth > 0)"), f"images of {name}")
    wait_for(driver, idle, f"{name} finished")
    path = ARTIFACTS / f"{name}.png"
    assert driver.save_screenshot(str(path)), f"could not save {path}"
    if os.environ.get("COOPWATCH_UPDATE_SCREENSHOTS") == "1" and name in README_SHOTS:
        DOCS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, DOCS / path.name)
    return path


def header(driver: WebDriver, text: str) -> WebElement:
    return shown(driver, text_xpath("h2", text), f"header {text}")


def sign_in(driver: WebDriver, url: str, name: str) -> None:
    if not driver.current_url.startswith(url):
        driver.get(url)
    clickable(driver, By.CSS_SELECTOR, "input[aria-label='Tên đăng nhập']", "login form").send_keys(name)
    driver.find_element(By.CSS_SELECTOR, "input[aria-label='Mật khẩu']").send_keys(ACCOUNTS[name][1])
    driver.find_element(By.XPATH, "//button[normalize-space(.)='Đăng nhập']").click()
    # The name is plain text (never Markdown), followed by the role in Vietnamese.
    shown(driver, f"//*[@data-testid='stSidebar']//*[@data-testid='stText']"
                  f"[starts-with(normalize-space(.), {_literal(f'Đang đăng nhập: {name} (')})]",
          f"signed in as {name}")


def sign_out(driver: WebDriver) -> None:
    driver.find_element(By.XPATH, "//*[@data-testid='stSidebar']//button[normalize-space(.)='Đăng xuất']").click()
    clickable(driver, By.CSS_SELECTOR, "input[aria-label='Tên đăng nhập']", "login form after signing out")


def menu(driver: WebDriver) -> list[str]:
    links = driver.find_elements(By.CSS_SELECTOR, "[data-testid='stSidebarNav'] a[data-testid='stSidebarNavLink']")
    return [link.text.strip() for link in links]


def open_page(driver: WebDriver, title: str) -> WebElement:
    link = driver.find_element(
        By.XPATH, f"//*[@data-testid='stSidebarNav']//a[normalize-space(.)={_literal(title)}]")
    link.click()
    page = header(driver, title)
    no_exception(driver)
    return page


def choose(driver: WebDriver, key: str, label: str, option: str) -> None:
    """Pick an option of the selectbox with this widget key and label.

    The key tells the new widget from one with the same label that the previous run left.
    """
    box = f".st-key-{key} input[role='combobox'][aria-label='{label}']"
    clickable(driver, By.CSS_SELECTOR, box, f"{label} box").click()
    clickable(driver, By.XPATH, f"//*[@role='option'][starts-with(normalize-space(.), {_literal(option)})]",
              f"option {option}").click()
    wait_for(driver, lambda d: (d.find_element(By.CSS_SELECTOR, box).get_attribute("value") or "").startswith(option),
             f"{label} = {option}")
    wait_for(driver, idle, f"{label} (idle)")


def grid(driver: WebDriver, xpath: str, what: str) -> list[dict[str, str]]:
    """The rows of the dataframe at `xpath`, once its grid has been drawn."""
    def rows(d: WebDriver) -> list[dict[str, str]] | bool:
        frames = d.find_elements(By.XPATH, xpath)
        if not frames or not frames[0].find_elements(By.CSS_SELECTOR, "thead tr[role='row']"):
            return False
        return _grid_rows(frames[0])

    found = wait_for(driver, rows, what)
    assert isinstance(found, list)
    return found


def _grid_rows(frame: WebElement) -> list[dict[str, str]]:
    """The rows of a dataframe, read from the accessible table behind the grid's canvas.

    The grid draws only the columns in view, so cells are matched to headers by column index.
    """
    def cells(row: WebElement, role: str) -> dict[str, str]:
        return {c.get_attribute("aria-colindex") or "": (c.get_attribute("textContent") or "").strip()
                for c in row.find_elements(By.CSS_SELECTOR, f"[role='{role}']")}

    columns = cells(frame.find_element(By.CSS_SELECTOR, "thead tr[role='row']"), "columnheader")
    return [{columns[index]: value for index, value in cells(row, "gridcell").items() if index in columns}
            for row in frame.find_elements(By.CSS_SELECTOR, "tbody tr[role='row']")]


def reviews(engine: Engine, item_id: int) -> list[Review]:
    with Session(engine) as session:
        return list(session.scalars(select(Review).where(Review.item_id == item_id).order_by(Review.id)))


# --- the tests --------------------------------------------------------------------------------

def test_monitor_relabels_a_flagged_item_and_the_review_is_recorded(dashboard: Dashboard, browser: WebDriver) -> None:
    target = dashboard.seeded.target_id
    before = reviews(dashboard.engine, target)
    assert [(r.reviewer, r.action) for r in before] == [("minh", "assign")]

    sign_in(browser, dashboard.url, "lan")
    assert menu(browser) == ["Tổng quan", "Rà soát", "Nguồn"]  # no editor or leader pages
    page = header(browser, "Rà soát")  # a monitor lands on the review queue
    no_exception(browser)
    queue = grid(browser, "(//*[@data-testid='stDataFrame'])[1]", "queue table")
    assert [row["Mã"] for row in queue[:2]] == [str(dashboard.seeded.rumour_id), str(target)]
    assert queue[1]["Nhãn của mô hình"] == "Sai lệch"
    screenshot(browser, "review-queue", page)

    choose(browser, "queue_pick", "Chọn tin để xem", f"#{target} ·")
    shown(browser, text_xpath("h3", f"#{target}"), "item detail")
    shown(browser, f"//*[@data-testid='stText'][normalize-space(.)={_literal(dashboard.seeded.target_title)}]",
          "item title")
    note = browser.find_element(By.CSS_SELECTOR, "textarea[aria-label='Ghi chú']")
    note.send_keys(NOTE)
    note.send_keys(Keys.TAB)  # a text area sends its value when it loses focus
    wait_for(browser, lambda d: not d.find_elements(By.CSS_SELECTOR, "[data-testid='InputInstructions']"),
             "note applied")
    wait_for(browser, idle, "note sent")
    choose(browser, f"relabel_{target}", "Nhãn đúng", "Phản ánh, phê bình")
    browser.find_element(By.XPATH, f"//*[contains(@class, 'st-key-relabel_button_{target}')]//button").click()
    shown(browser, f"//*[@data-testid='stAlert'][contains(., 'Đã ghi: Sửa nhãn – tin #{target}')]",
          "relabel confirmation")
    no_exception(browser)

    # The decision is a new review row by the signed-in monitor; the model's label is kept.
    after = reviews(dashboard.engine, target)
    assert len(after) == 2
    review = after[-1]
    assert (review.reviewer, review.action, review.label, review.note) == ("lan", "relabel", "critical", NOTE)
    assert review.expected_previous == before[-1].id  # the page sent the review it had shown
    assert not review.second_review
    with Session(dashboard.engine) as session:
        assert session.get_one(Item, target).label == "misleading"

    # Settled, the item leaves the queue and shows its history under "Đã chốt".
    queue = grid(browser, "(//*[@data-testid='stDataFrame'])[1]", "queue table")
    assert str(target) not in [row["Mã"] for row in queue]
    browser.find_element(By.XPATH, "//label[normalize-space(.)='Đã chốt']").click()
    choose(browser, "settled_pick", "Chọn tin để xem", f"#{target} ·")
    shown(browser, "//p[normalize-space(.)='Lịch sử thao tác']", "history")
    history = grid(browser, "//p[normalize-space(.)='Lịch sử thao tác']/following::*[@data-testid='stDataFrame'][1]",
                   "history table")
    assert [(row["Người thao tác"], row["Thao tác"], row["Nhãn"], row["Ghi chú"]) for row in history] == [
        ("minh", "Giao việc", "lan", "Nhờ kiểm tra với Liên minh HTX tỉnh."),
        ("lan", "Sửa nhãn", "Phản ánh, phê bình", NOTE),
    ]
    screenshot(browser, "review-item", browser.find_element(By.XPATH, text_xpath("h3", f"#{target}")))


def test_monitor_sees_the_passage_that_decided_a_long_page(dashboard: Dashboard, browser: WebDriver) -> None:
    digest = dashboard.seeded.digest_id
    sign_in(browser, dashboard.url, "lan")
    header(browser, "Rà soát")
    choose(browser, "queue_pick", "Chọn tin để xem", f"#{digest} ·")
    shown(browser, "//*[contains(normalize-space(.), 'Đoạn quyết định nhãn') and not(*)]", "passage caption")
    shown(browser, f"//*[@data-testid='stText'][normalize-space(.)={_literal(DIGEST_STORY)}]", "the passage")
    no_exception(browser)
    screenshot(browser, "review-passage", browser.find_element(By.XPATH, text_xpath("h3", f"#{digest}")))


def test_editor_and_leader_open_their_pages(dashboard: Dashboard, browser: WebDriver) -> None:
    sign_in(browser, dashboard.url, "hoa")
    assert menu(browser) == ["Tổng quan", "Độ phủ", "Báo cáo tuần", "Nguồn"]  # no review queue
    header(browser, "Tổng quan")
    no_exception(browser)
    screenshot(browser, "overview", browser.find_element(By.CSS_SELECTOR, "[data-testid='stExpander']"))  # filters and chart

    page = open_page(browser, "Độ phủ")
    shown(browser, "//h3[normalize-space(.)='Số tin, bài theo nguồn']", "coverage by outlet")
    screenshot(browser, "coverage", page)

    page = open_page(browser, "Nguồn")
    table = grid(browser, "(//*[@data-testid='stDataFrame'])[1]", "sources table")
    assert table[0]["Nguồn"] == "tinmientay-rss"  # the failing source comes first
    screenshot(browser, "sources", page)

    sign_out(browser)
    browser.get(dashboard.url)  # a fresh visit: the leader's home page, not the last page's address
    sign_in(browser, dashboard.url, "tuan")
    assert menu(browser) == ["Tổng quan", "Độ phủ", "Báo cáo tuần", "Nguồn"]
    page = header(browser, "Báo cáo tuần")  # a leader lands on the weekly report
    shown(browser, "//*[@data-testid='stImage']//img", "weekly report chart")
    # The page opens on the last finished week (weeks run Monday to Sunday, Vietnam time).
    year, week, _ = (utcnow().astimezone(VN) - timedelta(days=7)).isocalendar()
    chosen = browser.find_element(By.CSS_SELECTOR, ".st-key-wr_week input[role='combobox']")
    assert chosen.get_attribute("value") == f"{year}-W{week:02d}"
    screenshot(browser, "weekly-report", page)
