"""The configurations (denoiser.config): ModelConfig and TrainConfig, their defaults, presets and
bounds, configurations read from untrusted data, and every refusal word for word.

Fast and TensorFlow-free: mutation testing (docs/TESTING.md) runs them against every mutant of the module.
"""

from __future__ import annotations

import pytest

from denoiser import presets
from denoiser.config import LEARNING_RATES, SELFSUP_DEFAULTS, ModelConfig, TrainConfig
from denoiser.errors import InputError


# ------------------------------------------------------------------ ModelConfig
def test_model_config_defaults_and_presets():
    c = ModelConfig()
    assert (c.preset, c.window, c.hop, c.scaling, c.filters, c.depth, c.kernel_size) == (
        "unet",
        256,
        0,
        "standard",
        16,
        4,
        5,
    )
    assert (c.units, c.lstm_layers, c.bidirectional, c.bias, c.blind_spot) == (32, 2, True, True, 0)
    assert c.step == 128 and ModelConfig(window=8).step == 4 and ModelConfig(window=64, hop=10).step == 10
    t = ModelConfig.tutorial()
    assert (t.preset, t.window, t.scaling, t.kernel_size) == ("seed", 150, "minmax", 3)
    lstm = ModelConfig.lstm(units=8)
    assert (lstm.preset, lstm.window, lstm.units) == ("lstm", 128, 8)
    assert ModelConfig(scaling="global").uses_global_stats and ModelConfig(scaling="global-minmax").uses_global_stats
    assert not ModelConfig().uses_global_stats and not ModelConfig(scaling="minmax").uses_global_stats
    assert ModelConfig.from_dict(c.to_dict()) == c
    assert c.to_dict()["window"] == 256


@pytest.mark.parametrize(
    "field, good, bad",
    [
        ("window", [8, 8192], [7, 8193, 64.0, True]),
        ("hop", [0, 64], [-1, 65]),
        ("filters", [1, 256], [0, 257]),
        ("depth", [0, 8], [-1, 9]),
        ("kernel_size", [1, 31], [0, 32]),
        ("units", [1, 512], [0, 513]),
        ("lstm_layers", [1, 8], [0, 9]),
        ("blind_spot", [0, 2, 16], [1, 17, -1]),
        ("bidirectional", [True, False], [1, "yes"]),
        ("bias", [True, False], [0, "no"]),
        ("scaling", ["standard", "minmax", "global", "global-minmax"], ["zscore", ""]),
        ("preset", ["unet", "lstm"], ["UNet", ""]),
    ],
)
def test_model_config_bounds(field, good, bad):
    base = {"window": 64}
    for value in good:
        assert getattr(ModelConfig(**{**base, field: value}), field) == value
    for value in bad:
        with pytest.raises(InputError, match=f"Invalid model configuration: {field} must"):
            ModelConfig(**{**base, field: value})


def test_model_config_cross_checks():
    with pytest.raises(InputError, match="seed preset ends in a sigmoid"):
        ModelConfig(preset="seed", scaling="standard")
    assert ModelConfig(preset="seed", scaling="global-minmax").scaling == "global-minmax"
    with pytest.raises(InputError, match="bias=False .* unet preset only"):
        ModelConfig(preset="lstm", bias=False)
    assert ModelConfig(bias=False).bias is False


def test_model_config_from_untrusted_data():
    for data, words in [
        ([1], "not a JSON object"),
        ({"evil": 1}, "unknown fields: evil"),
        ({"window": "64"}, "wrong type"),
        ({"hop": "0"}, "hop must be an integer"),
    ]:
        with pytest.raises(InputError, match=words):
            ModelConfig.from_dict(data)
    assert ModelConfig.from_dict({}) == ModelConfig()


# ------------------------------------------------------------------ TrainConfig
@pytest.mark.parametrize(
    "field, good, bad",
    [
        ("epochs", [1, 10_000], [0, 10_001]),
        ("batch_size", [1, 65_536], [0, 65_537]),
        ("learning_rate", [1e-6, 1.0], [0.0, 1.5]),
        ("loss", ["mse", "mae", "huber", "bce"], ["l2"]),
        ("patience", [1, 100], [0, -1]),
        ("weighting", ["noise", "none"], ["inverse"]),
        ("val_fraction", [0.01, 0.49], [0.0, 0.5]),
        ("test_fraction", [0.0, 0.49], [-0.1, 0.5]),
        ("self_supervised", [False], [1]),
        ("init", ["", "default", "parabola"], ["x2"]),
        ("blind_spot", [2, 16], [1, 17]),
    ],
)
def test_train_config_bounds(field, good, bad):
    for value in good:
        assert getattr(TrainConfig(**{field: value}), field) == value
    for value in bad:
        with pytest.raises(InputError, match=f"Invalid training configuration: .*{field}"):
            TrainConfig(**{field: value})


def test_train_config_defaults_and_helpers():
    t = TrainConfig()
    assert (t.epochs, t.batch_size, t.learning_rate, t.loss, t.patience) == (30, 64, 1e-3, "mse", 5)
    assert (t.val_fraction, t.test_fraction, t.seed, t.weighting, t.init) == (0.15, 0.15, 0, "noise", "")
    assert TrainConfig.for_preset("lstm").learning_rate == LEARNING_RATES["lstm"] == 3e-3
    assert TrainConfig.for_preset("unet", epochs=3).learning_rate == 1e-3
    assert TrainConfig.for_preset("unknown").learning_rate == 1e-3
    assert TrainConfig.for_preset("lstm", learning_rate=0.01).learning_rate == 0.01
    s = TrainConfig.selfsup(epochs=2)
    assert s.epochs == 2 and s.self_supervised and s.init == "default" and s.learning_rate == 3e-4
    assert all(getattr(TrainConfig.selfsup(), k) == v for k, v in SELFSUP_DEFAULTS.items())
    assert t.with_(epochs=7).epochs == 7 and t.epochs == 30
    with pytest.raises(InputError, match="self-supervised training takes the loss"):
        TrainConfig(self_supervised=True, loss="bce")
    assert TrainConfig(self_supervised=True, loss="huber").loss == "huber"


def test_train_config_for_an_unknown_preset_keeps_the_default_rate():
    assert TrainConfig.for_preset("lstm").learning_rate == 3e-3
    assert TrainConfig.for_preset("nope").learning_rate == 1e-3
    assert TrainConfig.for_preset(["lstm"]).learning_rate == 1e-3  # not a name: no lookup, no TypeError
    assert TrainConfig.for_preset(None, epochs=3).epochs == 3


# ------------------------------------------------------------------ the refusals, word for word
def _message(fn, *args, **kwargs) -> str:
    with pytest.raises(InputError) as err:
        fn(*args, **kwargs)
    return str(err.value)


def test_model_config_refusals_name_the_choices():
    assert _message(ModelConfig, preset="x") == (
        "Invalid model configuration: preset must be one of unet, seed, lstm; got 'x'."
    )
    # not a string (unhashable, even) is refused the same way, not with a TypeError
    assert _message(ModelConfig, preset=["unet"]) == (
        "Invalid model configuration: preset must be one of unet, seed, lstm; got ['unet']."
    )
    assert _message(ModelConfig, scaling="z") == (
        "Invalid model configuration: scaling must be one of standard, minmax, global, global-minmax; got 'z'."
    )
    assert _message(ModelConfig.for_preset, "nope") == (
        "Invalid model configuration: preset must be one of unet, seed, lstm; got 'nope'."
    )
    assert _message(ModelConfig.for_preset, "seed", scaling="standard") == (
        "Invalid model configuration: the seed preset ends in a sigmoid (outputs in [0, 1]), so it needs a "
        "min-max scaling (minmax or global-minmax)."
    )
    assert _message(ModelConfig.for_preset, "seed", bias=False) == (
        "Invalid model configuration: bias=False (a bias-free network) exists for the unet preset only; "
        "the seed net ends in a sigmoid."
    )
    assert _message(ModelConfig.from_dict, [1]) == "The model's configuration is not a JSON object."
    assert _message(ModelConfig.from_dict, {"b": 1, "a": 2, "window": 64}) == (
        "The model's configuration has unknown fields: a, b."
    )


def test_bias_message_follows_the_registry(monkeypatch):
    # A preset added to the registry (CONTRIBUTING.md) changes the message: plural, and a
    # record without a bias_note still says which preset it is about.
    toy = presets.Preset("toy", label="Toy", short="Toy", defaults={"window": 64}, bias_free=True)
    plain = presets.Preset("plain", label="Plain", short="Plain", defaults={"window": 64})
    monkeypatch.setitem(presets.PRESETS, "toy", toy)
    monkeypatch.setitem(presets.PRESETS, "plain", plain)
    assert _message(ModelConfig, preset="plain", window=64, bias=False) == (
        "Invalid model configuration: bias=False (a bias-free network) exists for the unet and toy "
        "presets only; not for plain."
    )
    assert ModelConfig(preset="toy", window=64, bias=False).bias is False


def test_train_config_refusals_name_the_choices():
    assert _message(TrainConfig, loss="l1") == (
        "Invalid training configuration: loss must be one of mse, mae, huber, bce; got 'l1'."
    )
    assert _message(TrainConfig, val_fraction=0.5) == (
        "Invalid training configuration: val_fraction must be in (0, 0.5) and test_fraction in [0, 0.5)."
    )
    assert _message(TrainConfig, init="x") == (
        "Invalid training configuration: init must be one of '', 'default', 'parabola' ('' = fresh weights); got 'x'."
    )
    assert _message(TrainConfig, distribute="x") == (
        "Invalid training configuration: distribute must be one of None, 'auto', 'mirrored', 'multiworker'; got 'x'."
    )
    assert _message(TrainConfig, self_supervised=True, loss="bce") == (
        "Invalid training configuration: self-supervised training takes the loss mse, mae or huber; got 'bce'."
    )
    for loss in ("mse", "mae", "huber"):
        assert TrainConfig(self_supervised=True, loss=loss).loss == loss
