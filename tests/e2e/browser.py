"""Headless Chromium for browser tests: Debian's ``chromium`` driven through its
``chromedriver`` (``make install`` installs both) with Selenium. Screenshots go to the test's
folder, and to ``CLIENTGRAPH_SCREENSHOTS`` when set (how docs/images/ is made)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.support.ui import WebDriverWait

from tests.conftest import unreachable

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"


@contextmanager
def chromium(width: int = 1400, height: int = 1000) -> Iterator[webdriver.Chrome]:
    """A headless Chromium; skipped (failed under CI) when Debian's packages are missing."""
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        unreachable("chromium / chromedriver", FileNotFoundError(CHROMIUM))
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                     "--disable-gpu", f"--window-size={width},{height}"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


def wait_for(driver: webdriver.Chrome, condition: Callable[[Any], Any], seconds: float = 20) -> Any:
    return WebDriverWait(driver, seconds, poll_frequency=0.1).until(condition)


def screenshot(driver: webdriver.Chrome, tmp_path: Path, name: str) -> Path:
    """Save a PNG in the test's folder (and in ``CLIENTGRAPH_SCREENSHOTS`` if set)."""
    path = tmp_path / name
    assert driver.save_screenshot(str(path)), "chromium took no screenshot"
    if target := os.environ.get("CLIENTGRAPH_SCREENSHOTS"):
        shutil.copyfile(path, Path(target) / name)
    return path


