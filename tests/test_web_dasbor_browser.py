"""The monitoring dashboard in a real browser (Debian's Chromium; tests/fixtures/browser.py): Chart.js draws
every chart (each canvas has painted pixels), the tables hold the pipeline's numbers, axe-core finds no
serious or critical violation, the CSP blocks nothing, a 390-px phone needs no horizontal scrolling, and
the screenshot the README shows (``NASKAH_SCREENSHOTS=1`` writes docs/img/web-monitoring.png)."""

from __future__ import annotations

import datetime as dt

from sqlmodel import select

from pipeline.archival import dashboard
from pipeline.models import User
from storage.db import session_scope
from tests.fixtures.browser import axe_violations, screenshot
from tests.test_web_dasbor import seed

PAINTED = """canvas => {
  const ctx = canvas.getContext("2d");
  const data = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
  let painted = 0;
  for (let i = 3; i < data.length; i += 4) { if (data[i] > 0) painted++; }
  return painted;
}"""


def test_the_charts_render_beside_their_tables_pass_axe_and_fit_a_phone(live, tmp_path):
    seed(live.services.engine, live.services.profile)
    page = live.sign_in("u-secretariat", viewport={"width": 1280, "height": 900})
    blocked: list[str] = []
    page.on("console", lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None)
    page.click('nav a[href="/monitoring"]')
    page.wait_for_url(f"{live.url}/monitoring")
    page.wait_for_function(
        # a function, compiled once: an expression string is evaluated in the page on every poll after the
        # first, which the page's CSP (no 'unsafe-eval') refuses
        "() => [...document.querySelectorAll('canvas[data-chart]')].every(c => window.Chart && Chart.getChart(c))"
    )
    page.wait_for_timeout(600)  # the bars' short animation
    canvases = page.locator("canvas[data-chart]")
    assert canvases.count() == 5
    for i in range(canvases.count()):
        canvas = canvases.nth(i)
        assert canvas.evaluate(PAINTED) > 500, canvas.get_attribute("data-chart")
        assert canvas.get_attribute("role") == "img" and canvas.get_attribute("aria-label")
        assert canvas.bounding_box()["height"] > 100

    with session_scope(live.services.engine) as session:
        user = session.exec(select(User).where(User.username == "u-secretariat")).one()
        d = dashboard.dashboard(session, user, live.services.profile, dt.datetime.now(dt.UTC))
    shown = page.locator("#tabel-berakhir tbody tr").first.locator('td[data-kolom="total"]').inner_text()
    assert shown == str(d.berakhir[0].total)
    late = page.locator('#tabel-proses tr[data-langkah="legal_review"] td[data-kolom="terlambat"]').inner_text()
    assert int(late) == next(r.terlambat for r in d.proses if r.langkah == "legal_review") >= 1
    assert axe_violations(page) == []
    screenshot(page, "web-monitoring", tmp_path)
    assert blocked == []

    phone = live.sign_in("u-secretariat", viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    phone.goto("/monitoring")
    phone.wait_for_function("() => [...document.querySelectorAll('canvas[data-chart]')].every(c => Chart.getChart(c))")
    widths = phone.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert widths[0] <= widths[1], widths
    assert axe_violations(phone) == []
    screenshot(phone, "web-monitoring-ponsel", tmp_path)
