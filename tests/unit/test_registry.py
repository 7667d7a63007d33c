"""The preset and noise-kind registries: every record is offered everywhere, and a new one
needs only its record (plus, for a preset, its builder) to show up everywhere.

The "fake" tests register a preset (``tiny``) and a noise kind (``hum``) the way
CONTRIBUTING.md says to -- a record in ``denoiser/presets.py`` / ``denoiser/signals.py`` and a
``@builder`` in ``denoiser/model.py`` -- and then find them in ModelConfig validation, the
CLI, training, saving, the search and the app without touching any other file.
"""

from __future__ import annotations

import argparse
import contextlib
import io

import numpy as np
import pandas as pd
import pytest

from denoiser import cli, config, presets, signals
from denoiser.config import ModelConfig, TrainConfig
from denoiser.errors import InputError
from denoiser.presets import PRESETS, Preset
from denoiser.signals import NOISES, NoiseKind, NoiseParam
from tests.support import start


# ------------------------------------------------------------------ helpers
def choices(command: str, flag: str) -> list[str]:
    """The ``choices`` of one option of one CLI subcommand, as argparse holds them."""
    top = cli.parser()
    sub = next(a for a in top._actions if isinstance(a, argparse._SubParsersAction)).choices[command]
    return list(next(a for a in sub._actions if flag in a.option_strings).choices)


def cli_help(command: str) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit):
        cli.parser().parse_args([command, "--help"])
    return " ".join(out.getvalue().split())  # argparse wraps lines


def _tiny(config: ModelConfig):  # a keras.Model
    """A fake preset's network: one convolution added to the input."""
    import keras
    from keras import layers

    inputs = keras.Input(shape=(config.window, 1), name="noisy")
    correction = layers.Conv1D(1, config.kernel_size, padding="same", name="correction")(inputs)
    return keras.Model(inputs, layers.Add(name="denoised")([inputs, correction]), name="tiny")


TINY = Preset(
    "tiny",
    label="Tiny: one convolution (a test preset)",
    short="Tiny",
    defaults={"window": 96, "kernel_size": 7, "scaling": "minmax"},
    tunable=("window",),
    learning_rate=5e-3,
    layer_notes="**correction**: one convolution.",
    scalings=("minmax",),
    scaling_rule="is a test preset, so it needs a min-max scaling",
    bias_note="it is a test preset",
)


@pytest.fixture
def tiny_preset(monkeypatch):
    """The fake preset registered as a contributor would: its record, and (when Keras loads) its builder."""
    monkeypatch.setitem(PRESETS, "tiny", TINY)
    yield TINY


@pytest.fixture
def tiny_builder(tiny_preset, monkeypatch):
    from denoiser import model

    monkeypatch.setitem(model.BUILDERS, "tiny", _tiny)
    yield tiny_preset


def _hum(shape: tuple[int, ...], rng: np.random.Generator, period: float | np.ndarray) -> np.ndarray:
    """A fake noise kind: mains hum, a sine of ``period`` samples with a random phase per signal."""
    phase = rng.uniform(0, 2 * np.pi, (*shape[:-1], 1))
    return np.sqrt(2) * np.sin(2 * np.pi * np.arange(shape[-1]) / period + phase)


HUM = NoiseKind(
    "hum",
    "Mains hum",
    _hum,
    params=(NoiseParam("period", "Hum period", 20.0, 2.0, 1000.0, ui=(4.0, 200.0, 1.0), help="Samples per cycle."),),
)


@pytest.fixture
def hum_kind(monkeypatch):
    monkeypatch.setitem(NOISES, "hum", HUM)
    yield HUM


# ------------------------------------------------------------------ presets
def test_the_registry_keeps_the_older_names():
    assert config.PRESETS is PRESETS and list(config.PRESETS) == ["unet", "seed", "lstm"]
    assert "lstm" in config.PRESETS and "UNet" not in config.PRESETS
    assert dict(config.PRESET_LABELS) == {n: p.label for n, p in PRESETS.items()}
    assert dict(config.LEARNING_RATES) == {"unet": 1e-3, "seed": 1e-3, "lstm": 3e-3}
    assert ModelConfig.tutorial() == ModelConfig(preset="seed", window=150, scaling="minmax", kernel_size=3)
    assert ModelConfig.lstm(units=8) == ModelConfig(preset="lstm", window=128, units=8)
    assert ModelConfig() == ModelConfig.for_preset(presets.DEFAULT) and ModelConfig().window == 256
    with pytest.raises(InputError, match="preset must be one of unet, seed, lstm; got 'x'"):
        ModelConfig.for_preset("x")


@pytest.mark.parametrize("name", list(PRESETS))
def test_every_preset_builds_a_window_to_window_network_from_its_defaults(name):
    from denoiser.model import BUILDERS, build_model, builder_for

    spec = PRESETS[name]
    assert builder_for(name) is BUILDERS[name]
    for cfg in (ModelConfig.for_preset(name), ModelConfig.from_form(name, window=64, filters=8, scaling="minmax")):
        net = build_model(cfg)
        assert tuple(net.input_shape) == tuple(net.output_shape) == (None, cfg.window, 1)
    assert ModelConfig.for_preset(name).window == spec.window
    # What a form may not change stays at the record's value (the tutorial net's scaling).
    chosen = ModelConfig.from_form(name, window="auto", filters=64, scaling="standard")
    for key, value in spec.fixed.items():
        assert getattr(chosen, key) == value
    assert TrainConfig.for_preset(name).learning_rate == spec.learning_rate


def test_every_builder_belongs_to_a_preset_and_a_name_builds_once():
    from denoiser import model

    assert set(model.BUILDERS) == set(PRESETS)
    with pytest.raises(ValueError, match="already has a builder"):
        model.builder("unet")(_tiny)


def test_every_preset_and_noise_kind_is_a_cli_choice():
    assert choices("train", "--preset") == list(PRESETS)
    assert choices("search", "--preset") == presets.searchable() == ["unet", "lstm"]
    for command in ("train", "search", "generate"):
        assert choices(command, "--noise") == list(NOISES)
    text = cli_help("train")
    assert all(f"{n} {p.window}" in text and f"{n} {p.learning_rate:g}" in text for n, p in PRESETS.items())
    assert "--rate RATE" in text and "Impulse rate for impulse noise, in (0, 1] (default: 0.05)" in text


def test_a_preset_record_sets_its_validation_rules(tiny_preset):
    assert ModelConfig(preset="tiny", scaling="minmax").preset == "tiny"
    with pytest.raises(InputError, match=r"the tiny preset is a test preset, so it needs a min-max scaling \(minmax\)"):
        ModelConfig(preset="tiny")
    with pytest.raises(InputError, match="exists for the unet preset only; it is a test preset"):
        ModelConfig(preset="tiny", scaling="minmax", bias=False)
    assert ModelConfig.for_preset("tiny") == ModelConfig(preset="tiny", window=96, kernel_size=7, scaling="minmax")
    assert TrainConfig.for_preset("tiny").learning_rate == 5e-3 and config.LEARNING_RATES["tiny"] == 5e-3
    with pytest.raises(InputError, match="preset must be one of"):
        ModelConfig(preset=["unet"])  # unhashable: still the clear message, not a TypeError


def test_a_new_preset_is_offered_by_the_cli_and_trains_saves_and_loads(tiny_builder, tmp_path, monkeypatch):
    from denoiser.core import Denoiser

    assert choices("train", "--preset")[-1] == "tiny" and "tiny" in choices("search", "--preset")
    assert "tiny 96" in cli_help("train")
    # `train --preset tiny` builds the record's config (window 96, kernel 7) and trains that network.
    fitted = {}
    original = Denoiser.fit

    def fit(self, *args, **kwargs):
        fitted["config"] = self.config
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Denoiser, "fit", fit)
    out = tmp_path / "tiny.keras"
    status = cli.main(["train", "--preset", "tiny", "--n-signals", "60", "--epochs", "1", "-o", str(out)])
    assert status == 0 and fitted["config"] == ModelConfig.for_preset("tiny")
    loaded = Denoiser.load(out)
    assert loaded.config == ModelConfig.for_preset("tiny") and loaded.model_.name == "tiny"
    x = signals.add_noise(signals.make_signal("sines", 300, 0), sigma=0.1, rng=1)
    assert loaded.denoise(x).shape == x.shape


def test_a_search_trial_of_another_preset_brings_its_fixed_settings(tiny_preset):
    from denoiser.search import _configs

    base = ModelConfig(filters=8)  # standard scaling: the tiny preset's fixed min-max comes with it
    model_cfg, _ = _configs({"preset": "tiny", "window": 64}, base, TrainConfig())
    assert (model_cfg.preset, model_cfg.window, model_cfg.scaling, model_cfg.kernel_size) == ("tiny", 64, "minmax", 7)
    with pytest.raises(InputError, match="needs a min-max scaling"):  # a searched value wins over the fixed one
        _configs({"preset": "tiny", "scaling": "standard"}, base, TrainConfig())
    assert _configs({"window": 64}, base, TrainConfig())[0] == ModelConfig(filters=8, window=64)


# ------------------------------------------------------------------ noise kinds
def test_the_noise_registry_keeps_the_older_names():
    assert signals.NOISE_KINDS == ("gaussian", "uniform", "impulse", "pink", "drift") == tuple(NOISES)
    assert signals.NOISE_LABELS == {k: n.label for k, n in NOISES.items()}
    assert [p.name for p in NOISES["impulse"].params] == ["rate"] and NOISES["impulse"].params[0].default == 0.05


@pytest.mark.parametrize("kind", list(NOISES))
def test_every_noise_kind_honours_its_parameters(kind):
    spec, clean = NOISES[kind], np.zeros((4, 2048))
    plain = signals.add_noise(clean, kind, sigma=1.0, rng=0)
    defaults = {p.name: p.default for p in spec.params}
    np.testing.assert_array_equal(plain, signals.add_noise(clean, kind, sigma=1.0, rng=0, **defaults))
    assert abs(plain.std() - 1) < 0.1  # unit noise times sigma
    for p in spec.params:
        lo, hi, _ = p.ui
        low = signals.add_noise(clean, kind, sigma=1.0, rng=0, **{p.name: lo})
        high = signals.make_noise(clean.shape, kind, 1.0, 0, **{p.name: hi})
        assert not np.array_equal(low, high)
        for bad in (p.lo - 1, p.hi + 1, "0.1"):
            with pytest.raises(InputError, match=p.label):
                signals.add_noise(clean, kind, sigma=1.0, rng=0, **{p.name: bad})
        # training_pairs: a range is drawn per signal; an upside-down one is refused
        noisy, _ = signals.training_pairs("sines", 20, 64, kind, 0.1, rng=0, **{p.name: (lo, hi)})
        assert noisy.shape == (20, 64) and np.isfinite(noisy).all()
        with pytest.raises(InputError, match=f"{p.label} range"):
            signals.training_pairs("sines", 20, 64, kind, 0.1, rng=0, **{p.name: (hi, lo)})
    # another kind's parameter is ignored (rate is always passed); one no kind has is a mistake
    if "rate" not in defaults:
        np.testing.assert_array_equal(plain, signals.add_noise(clean, kind, sigma=1.0, rng=0, rate=0.5))
    with pytest.raises(InputError, match="Unknown noise parameter ratee"):
        signals.add_noise(clean, kind, sigma=1.0, rng=0, ratee=0.1)


def test_impulse_rate_is_the_fraction_of_samples_hit():
    for rate in (0.02, 0.3):
        noise = signals.make_noise(200_000, "impulse", 1.0, 0, rate=rate)
        assert abs(np.mean(noise != 0) - rate) < 0.1 * rate


def test_a_new_noise_kind_works_in_the_package_and_the_cli(hum_kind, tmp_path):
    clean = np.zeros(400)
    noise = signals.add_noise(clean, "hum", sigma=0.5, rng=0, period=40)
    assert abs(noise.std() - 0.5) < 0.02
    spectrum = np.abs(np.fft.rfft(noise))
    assert np.argmax(spectrum) == 400 // 40  # the period asked for
    with pytest.raises(InputError, match=r"Hum period must be in \(2, 1000\]"):
        signals.add_noise(clean, "hum", sigma=0.5, period=1)
    noisy, _ = signals.training_pairs("sines", 10, 64, ("gaussian", "hum"), 0.1, rng=0, period=(10, 30))
    assert noisy.shape == (10, 64)
    # The CLI offers it with its own option and passes the value on.
    assert "hum" in choices("generate", "--noise") and "--period PERIOD" in cli_help("generate")
    out = tmp_path / "hum.csv"
    assert cli.main(["generate", "--noise", "hum", "--period", "25", "--seed", "1", "-o", str(out)]) == 0
    clean = signals.make_signals("x2", 1, 150, rng=1)
    expected = signals.add_noise(clean, "hum", sigma=0.05, rng=2, period=25)[0]
    np.testing.assert_allclose(pd.read_csv(out)["noisy"], expected, atol=1e-5)
    assert cli.main(["generate", "--noise", "gaussian", "--period", "25", "-o", str(out)]) == 2  # not hum's


# ------------------------------------------------------------------ the app
def test_the_app_offers_every_preset_and_kind_and_a_new_one(tiny_builder, hum_kind):
    at = start()
    at.switch_page("app_pages/model.py").run()
    assert not at.exception and not at.error
    assert at.radio(key="tr_preset").options == [p.label for p in PRESETS.values()]
    assert PRESETS["tiny"].label == at.radio(key="tr_preset").options[-1]
    assert at.multiselect(key="se_preset").options == [PRESETS[n].short for n in presets.searchable()]
    assert (
        "Tiny" in at.multiselect(key="se_preset").options
        and "Tutorial net" not in at.multiselect(key="se_preset").options
    )
    auto = next(o for o in at.select_slider(key="tr_window").options if o.startswith("auto"))
    assert all(f"{p.short} {p.window}" in auto for p in PRESETS.values())
    for key in ("tr_noise", "se_noise"):
        assert at.multiselect(key=key).options == [k.label for k in NOISES.values()]
    assert at.slider(key="tr_period").label == "Hum period (hum noise only)"
    assert at.slider(key="tr_rate").label == "Impulse rate (impulse noise only)"
    # Generate: the new kind with its own slider; the value reaches the noise and the shared link.
    at.switch_page("app_pages/generate.py").run()
    at.selectbox(key="gen_noise").set_value("hum").run()
    at.slider(key="gen_period").set_value(50.0).run()
    assert not at.exception and not at.error
    g = at.session_state.generated
    assert g.recipe["kind"] == "hum" and g.recipe["noise_params"] == {"period": 50.0}
    rng = np.random.default_rng(g.recipe["seed"])
    clean = signals.make_signal(g.recipe["family"], g.recipe["length"], rng)
    np.testing.assert_array_equal(
        g.noisy, signals.add_noise(clean, "hum", sigma=g.recipe["sigma"], rng=rng, period=50.0)
    )
    assert at.query_params["gen_period"] == "50"
    assert not [s for s in at.slider if s.key == "gen_rate"]  # impulse's slider only for impulse noise


def test_old_shared_links_still_work_and_choices_are_keys():
    at = start(
        query={
            "gen_level_by": "SNR (dB)",
            "gen_snr": "5",
            "gen_noise": "impulse",
            "gen_rate": "0.2",
            "gen_method": "network",
        }
    )
    at.switch_page("app_pages/generate.py").run()
    assert not at.exception and not at.error
    assert at.radio(key="gen_level_by").value == "snr" and at.slider(key="gen_snr").value == 5
    assert at.radio(key="gen_level_by").options == ["sigma", "SNR (dB)"]  # shown as before
    assert at.radio(key="gen_method").value == "network"
    assert at.radio(key="gen_method").options == ["The network (autoencoder)", "Automatic (no-harm check)"]
    recipe = at.session_state.generated.recipe
    assert recipe["noise_params"] == {"rate": 0.2} and recipe["snr_db"] == 5
    assert at.query_params["gen_level_by"] == "snr"  # links written now carry the key
