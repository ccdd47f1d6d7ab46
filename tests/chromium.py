"""A real browser for the tests: Debian's Chromium, driven by Playwright.

Playwright's own browser downloads are not used (they need the internet); the tests
drive the system's Chromium. CI installs it (.ci/run); elsewhere `apt install chromium`.
"""

import contextlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ROOT = Path(__file__).resolve().parent.parent
# Screenshots go to test-artifacts/; `make screenshots` sends them to docs/images/ for the
# docs, which get only those they already have: a new one is copied there by hand, once.
ARTIFACTS = ROOT / "test-artifacts"
SCREENSHOTS = ROOT / os.environ.get("SCREENSHOT_DIR", "test-artifacts")
DOCS_IMAGES = ROOT / "docs" / "images"


def require_chromium() -> None:
    """Skip where Chromium is missing, but never in CI, which must have it."""
    if not CHROMIUM:
        if os.environ.get("CI"):
            raise RuntimeError("CI must have Chromium for the browser tests (.ci/run installs it)")
        pytest.skip("Chromium is not installed (apt install chromium)")


@contextlib.contextmanager
def chromium() -> Iterator:
    """A headless Chromium (a Playwright Browser), closed afterwards."""
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            # No background traffic: this machine, like a conference room, may be offline.
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"],
        )  # fmt: skip
        try:
            yield browser
        finally:
            browser.close()


def screenshot(page, name: str) -> Path:
    """Save what the page shows, whole, as SCREENSHOTS/<name>.png."""
    folder = SCREENSHOTS
    if folder.resolve() == DOCS_IMAGES.resolve() and not (folder / f"{name}.png").exists():
        folder = ARTIFACTS  # not a picture of the docs
    folder.mkdir(exist_ok=True)
    path = folder / f"{name}.png"
    page.screenshot(path=path, full_page=True)
    return path
