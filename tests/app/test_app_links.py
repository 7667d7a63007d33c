"""A shared link (the page's query parameters) in Streamlit's AppTest: it reproduces what the sender
saw on every page, follows every control that changes what is shown, says what it cannot reproduce
(an upload or a model the recipient lacks) without applying any of it, and takes hostile values
(out of range, not numbers, thousands of digits) without an error.
"""

from __future__ import annotations

import pytest

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest  # after importorskip

from tests.support import (  # after importorskip
    APP,
    SAMPLES,
    TIMEOUT,
    button,
    metric,
    start,
    texts,
    upload,
)

GOOD_CSV = (SAMPLES / "x2_tutorial.csv").read_bytes()


def test_a_shared_link_reproduces_generate_and_compare_settings() -> None:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params.update(
        {
            "gen_family": "sines",
            "gen_length": "512",
            "gen_noise": "uniform",
            "gen_sigma": "0.2",
            "gen_seed": "7",
            "cmp_sg": "31",
            "cmp_method": "network",
            "model": "bundled",
            "data": "generated",
        }
    )
    at.run()
    at.switch_page("app_pages/compare.py").run()  # straight to Compare: the link's signal, not the x² demo
    assert not at.exception and not at.error
    recipe = at.session_state.generated.recipe
    assert (recipe["family"], recipe["length"], recipe["kind"], recipe["seed"]) == ("sines", 512, "uniform", 7)
    assert recipe["sigma"] == pytest.approx(0.2)
    assert at.number_input(key="cmp_sg").value == 31
    assert at.radio(key="cmp_method").value == "network"
    at.switch_page("app_pages/generate.py").run()
    assert at.selectbox(key="gen_family").value == "sines" and at.slider(key="gen_length").value == 512
    # ...and the URL follows the controls (the link a user copies)
    at.slider(key="gen_sigma").set_value(0.1).run()
    assert at.query_params["gen_sigma"] == "0.1" and at.query_params["gen_family"] == "sines"
    assert at.query_params["model"] == "bundled" and at.query_params["cmp_method"] == "network"
    # Nonsense in a link is ignored, not an error
    bad = AppTest.from_file(APP, default_timeout=TIMEOUT)
    bad.query_params.update({"gen_family": "<script>", "gen_length": "1e9", "gen_sigma": "nan"})
    bad.run()
    bad.switch_page("app_pages/generate.py").run()
    assert not bad.exception and not bad.error
    assert bad.selectbox(key="gen_family").value == "x2" and bad.slider(key="gen_length").value == 150


def test_every_control_that_changes_what_is_shown_is_in_the_link() -> None:
    """Issue 19, item 3: Generate's headline, Home's demo, the Learn step and projection mode, Compare's
    method, noise level and quiet stretch are in the link, kept across pages, and a second session
    opened on that link shows the same."""
    a = start("generate")
    a.radio(key="gen_method").set_value("auto").run()
    a.selectbox(key="gen_family").set_value("sines").run()
    a.switch_page("app_pages/compare.py").run()  # Generate's widgets are not drawn here...
    assert a.query_params["gen_method"] == "auto"  # ...and the link still carries its headline
    a.radio(key="cmp_method").set_value("auto").run()
    a.radio(key="cmp_noise_mode").set_value("quiet").run()
    a.slider(key="cmp_quiet").set_value((40, 120)).run()
    assert a.query_params["cmp_quiet"] == "40-120" and a.query_params["cmp_noise_mode"] == "quiet"
    a.switch_page("app_pages/home.py").run()
    a.slider(key="home_sigma").set_value(0.12).run()
    button(a, "New noise draw").click().run()
    a.radio(key="home_method").set_value("auto").run()
    home_a = {m.label: m.value for m in a.metric}
    assert (a.query_params["home_sigma"], a.query_params["home_seed"], a.query_params["home_method"]) == (
        "0.12",
        "1",
        "auto",
    )
    a.switch_page("app_pages/learn.py").run()
    next(b for b in a.button if b.key == "learn_next").click().run()
    next(b for b in a.button if b.key == "learn_next").click().run()
    a.toggle(key="learn_projection").set_value(True).run()
    assert a.query_params["learn_step"] == "3" and a.query_params["learn_projection"] == "true"
    assert not a.exception

    b = AppTest.from_file(APP, default_timeout=TIMEOUT)  # another session, nothing shared but the link
    b.query_params.update({k: a.query_params[k] for k in a.query_params})
    b.run()
    assert {m.label: m.value for m in b.metric} == home_a  # the same demo: sigma, draw and headline
    assert b.radio(key="home_method").value == "auto"
    b.switch_page("app_pages/generate.py").run()
    assert b.radio(key="gen_method").value == "auto" and b.selectbox(key="gen_family").value == "sines"
    b.switch_page("app_pages/compare.py").run()
    assert b.radio(key="cmp_noise_mode").value == "quiet" and b.slider(key="cmp_quiet").value == (40, 120)
    assert "from a quiet segment" in texts(b.caption)
    b.switch_page("app_pages/learn.py").run()
    assert b.session_state.learn_step == 3 and b.toggle(key="learn_projection").value is True
    assert "Step 3 of 7" in texts(b.subheader)
    assert not b.exception


def test_a_link_to_an_upload_the_recipient_lacks_says_so_and_applies_nothing_of_it() -> None:
    """Issue 19, item 3: data=upload with the sender's sigma, opened without the file: one line says so,
    the generated signal is shown, and the sender's noise level is not applied to it."""
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params.update(
        {"data": "upload", "cmp_noise_mode": "given", "cmp_sigma": "12.77", "cmp_method": "auto", "model": "bundled"}
    )
    at.run()
    line = "This link refers to an uploaded file you don't have"
    assert line in texts(at.sidebar.caption) and "12.77" in texts(at.sidebar.caption)
    at.switch_page("app_pages/compare.py").run()
    assert not at.exception and not at.error
    assert line in texts(at.info)
    assert at.session_state.active == "generated"
    assert at.radio(key="cmp_noise_mode").value == "estimate"  # not the sender's typed sigma
    assert metric(at, "Noise level σ") != "12.8" and "12.77" not in texts(at.code)
    assert "cmp_sigma" not in at.query_params and at.query_params["data"] == "generated"
    # Once a file is uploaded the line goes (it was about the missing file).
    at.switch_page("app_pages/upload.py").run()
    upload(at, "mine.csv", GOOD_CSV)
    assert line not in texts(at.sidebar.caption)


def test_a_link_to_a_model_of_another_session_says_so() -> None:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params["model"] = "U-Net on sines"
    at.run()
    assert not at.exception
    assert at.session_state.model_choice == "Bundled (automatic)"
    assert "upload its .keras file" in texts(at.sidebar.caption)


# ------------------------------------------------------------------ hostile values in a link
LINK_VALUES = ["1e20", "-1e20", "1e400", "nan", "-inf", "9" * 5000, "0x10", "", " ", "7.5e3", "1;DROP"]


def test_every_link_parameter_is_parsed_range_checked_or_ignored() -> None:
    """gen_seed=1e20 gave a TypeError with server paths and no sidebar (no Reset): every field of the link
    parser, with every hostile value, leaves a working page, the Reset button and only in-range values."""
    from app_pages.ui import links

    fields = links.query_fields()
    for key, parse in fields.items():
        for raw in LINK_VALUES:
            value = parse(raw)  # never raises
            assert value is None or isinstance(value, (int, float, str)), (key, raw, value)
            assert not isinstance(value, (int, float)) or abs(value) <= 1e12, (key, raw, value)
    for key in ("gen_seed", "gen_length", "cmp_sg"):
        at = start(query={key: "1e20"})
        assert at.sidebar.button(key="reset_session")  # the sidebar, with Reset, is drawn
        at.switch_page("app_pages/compare.py").run()
        assert not at.exception, at.exception
        at.switch_page("app_pages/generate.py").run()
        assert not at.exception, at.exception
        assert key not in at.session_state.qp_initial
    everything = start(query={key: "1e20" for key in fields})
    assert everything.session_state.qp_initial == {"model": "1e20"}  # a (missing) model's name, said so
    assert everything.sidebar.button(key="reset_session")
