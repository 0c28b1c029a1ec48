"""The web page in a real headless browser (Debian's chromium and chromedriver, driven by selenium): log in,
the list shows a saved recommendation, its page draws the Pareto chart; screenshots are checked not blank."""

from __future__ import annotations

import shutil
from pathlib import Path

import httpx
import pytest
from service_helpers import TOKEN, auth, profile_data

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
ORANGE = (217, 72, 15)  # the Pareto front's colour in the page's style sheet

pytestmark = pytest.mark.skipif(not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()),
                                reason="needs Debian's chromium and chromium-driver (.ci/run installs them)")


@pytest.fixture
def browser(tmp_path):
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--window-size=1200,1100",
                 f"--user-data-dir={tmp_path / 'chromium-profile'}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


def _not_blank(png: Path) -> tuple[int, float]:
    """(distinct colours, share of pixels that are not the page's white) of a screenshot."""
    import numpy as np
    from PIL import Image

    with Image.open(png) as img:
        pixels = np.asarray(img.convert("RGB")).reshape(-1, 3)
    colours = len(np.unique(pixels, axis=0))
    inked = float(np.mean(np.any(pixels != 255, axis=1)))
    return colours, inked


def test_the_page_shows_a_saved_recommendation_and_its_chart(server, browser, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    job = {"profile": profile_data("browser_model"), "dataset_size": 60000, "epochs": 3}
    rec = httpx.post(server.url + "/v1/recommendations", json=job, headers=auth(), timeout=60).json()
    httpx.post(f"{server.url}/v1/recommendations/{rec['id']}/outcome", headers=auth(), timeout=60,
               json={"actual_seconds": rec["chosen"]["seconds"] * 1.15})

    browser.get(server.url + "/")
    assert browser.current_url.endswith("/login")
    field = browser.find_element(By.NAME, "token")
    field.send_keys(TOKEN)
    field.submit()
    # submit() does not wait for the next page: wait (bounded) for the list instead of racing the navigation.
    row = WebDriverWait(browser, 15).until(expected_conditions.presence_of_element_located(
        (By.XPATH, f"//a[@href='/recommendations/{rec['id']}']/ancestor::tr")))
    assert "browser_model" in row.text and rec["chosen"]["instance_type"] in row.text
    assert row.text.count("-") < len(row.text)  # predicted and actual both shown
    browser.save_screenshot(str(tmp_path / "list.png"))

    browser.find_element(By.XPATH, f"//a[@href='/recommendations/{rec['id']}']").click()
    chart = WebDriverWait(browser, 15).until(expected_conditions.presence_of_element_located((By.ID, "pareto")))
    assert chart.size["width"] > 500 and chart.size["height"] > 300
    circles = chart.find_elements(By.TAG_NAME, "circle")
    assert len(circles) >= len(rec["candidates"])
    front = chart.find_elements(By.CSS_SELECTOR, "circle.pareto, circle.chosen")
    assert front and all(c.is_displayed() for c in front)
    fill = browser.execute_script("return getComputedStyle(document.querySelector('circle.point')).fill")
    assert fill.startswith("rgb(")  # the style sheet applied
    page_png, chart_png = tmp_path / "recommendation.png", tmp_path / "chart.png"
    browser.save_screenshot(str(page_png))
    chart.screenshot(str(chart_png))

    for png in (tmp_path / "list.png", page_png, chart_png):
        colours, inked = _not_blank(png)
        assert colours > 20 and inked > 0.02, (png, colours, inked)
    import numpy as np
    from PIL import Image

    with Image.open(chart_png) as img:
        pixels = np.asarray(img.convert("RGB")).reshape(-1, 3).astype(int)
    orange = int(np.sum(np.all(np.abs(pixels - np.array(ORANGE)) < 40, axis=1)))
    assert orange > 50, "the Pareto front is not drawn"
