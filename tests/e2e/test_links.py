"""Shared links in the browser: a URL reproduces the sender's state in a second browser context, and
a link to an upload the recipient lacks says so and applies none of it.
"""

from __future__ import annotations

import pytest

from tests.e2e.steps import (
    FIRST_PAINT_MS,
    assert_healthy,
    go,
    metrics,
    number,
    open_page,
    poll,
    screenshot,
    sidebar_text,
    wait_for_text,
    wait_idle,
)

pytestmark = pytest.mark.browser


def test_a_shared_url_reproduces_the_state_in_a_second_context(new_page) -> None:
    a = new_page("a")
    open_page(a, "/generate", expect="Generate a signal", timeout=FIRST_PAINT_MS)
    metrics(a, "MSE (network)")
    shared = a.locator('[data-testid="stSidebar"] [data-testid="stCode"]').first

    def link() -> str:
        return shared.inner_text().strip()

    seed = a.get_by_label("Seed", exact=True)
    seed.fill("42")
    seed.press("Enter")
    poll("the seed in the link", lambda: "gen_seed=42" in link())
    wait_idle(a)
    family = a.get_by_role("combobox", name="Signal family")
    family.click()
    a.get_by_role("option", name="Sums of sines").click()
    poll("the family in the link", lambda: "gen_family=sines" in link())
    wait_idle(a)
    # Issue 19: the headline choice is in the link too, and stays there when the user moves on to Compare.
    a.locator('[data-testid="stRadio"]').filter(has_text="Headline result").get_by_text(
        "Automatic (no-harm check)"
    ).click()
    poll("the headline in the link", lambda: "gen_method=auto" in link())
    wait_idle(a)
    shown_a = metrics(a, "MSE (automatic)", "MAE (automatic)", "Gain (automatic)", "Gain (network)")
    url = link()
    assert url.startswith(a.app_url) and "model=bundled" in url, url
    # the address bar itself carries the same settings (page.url lags behind history.pushState)
    poll("the address bar", lambda: a.evaluate("location.href") == url)
    go(a, "Compare", expect="Downloads")
    poll("the link on Compare", lambda: "/compare?" in link())
    url = link()
    assert "gen_method=auto" in url and "gen_family=sines" in url and "gen_seed=42" in url, url

    b = new_page("b")  # another browser context: another session, nothing shared but the link
    b.goto(url)
    wait_for_text(b, "Downloads", FIRST_PAINT_MS)
    go(b, "Generate", expect="Generate a signal")
    wait_idle(b)
    shown_b = metrics(b, *shown_a)  # every card A showed (the browser may paint the last one late)
    assert shown_b == shown_a, (shown_a, shown_b)
    assert b.get_by_label("Seed", exact=True).input_value() == "42"
    assert b.get_by_role("radio", name="Automatic (no-harm check)").is_checked()
    b_link = b.locator('[data-testid="stSidebar"] [data-testid="stCode"]').first.inner_text().strip()
    gen = lambda u: sorted(p for p in u.split("?")[1].split("&") if p.startswith("gen_"))  # noqa: E731 -- a link's gen_ parameters
    assert gen(b_link) == gen(url), (b_link, url)  # the same Generate settings, headline included
    assert_healthy(b)
    screenshot(b, "shared_link.png")


def test_a_link_to_an_upload_the_recipient_lacks(page) -> None:
    """A link made after an upload (data=upload, the sender's sigma 12.77) opened in a fresh browser: one
    line says the file is missing, the generated signal is shown, and the sender's sigma is not applied."""
    open_page(
        page,
        "/compare?data=upload&cmp_noise_mode=given&cmp_sigma=12.77&cmp_method=auto&model=bundled",
        expect="Downloads",
        timeout=FIRST_PAINT_MS,
    )
    main = page.locator('[data-testid="stMain"]')
    assert "This link refers to an uploaded file you don't have" in main.inner_text()
    assert "σ 12.77" in sidebar_text(page)
    assert (
        page.get_by_role("radio", name="Generated signal").count() == 0
        or page.get_by_role("radio", name="Generated signal").is_checked()
    )
    assert page.get_by_role("radio", name="Estimate it from the data").is_checked()
    sigma = metrics(page, "Noise level σ")["Noise level σ"]
    assert number(sigma) < 1, sigma  # the x² demo's own level, not the sender's 12.77
    assert "cmp_sigma" not in page.evaluate("location.href")
    assert_healthy(page)
    screenshot(page, "link_without_upload.png")
