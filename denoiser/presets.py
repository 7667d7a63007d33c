"""Architecture presets: one record per network, the one place that describes it.

Everything that offers, configures or explains a preset reads its :class:`Preset`
record from :data:`PRESETS`: :class:`~denoiser.config.ModelConfig` validation and its
``tutorial()`` / ``lstm()`` shortcuts, ``TrainConfig.for_preset``, the CLI's choices
and defaults, the search, and the app's Model page (labels, "auto" window, layer notes).
The network itself is built by a function in :mod:`denoiser.model` registered under
the same name with ``@builder("name")``.

Adding a preset therefore touches two files: its record here and its builder in
``denoiser/model.py`` (see CONTRIBUTING.md). This module must not import Keras:
``config.py`` validates names against it and stays numpy-only.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

#: Settings a form (the app's training form, ``python -m denoiser train``) may set.
FORM_FIELDS = ("window", "filters", "scaling")


@dataclass(frozen=True)
class Preset:
    """Everything the package, the CLI and the app know about one architecture.

    Attributes
    ----------
    name : the ``ModelConfig.preset`` value, saved in model files (never rename one)
    label : one line for the app's architecture choice
    short : a short name for model lists and run descriptions ("U-Net")
    defaults : the ``ModelConfig`` fields this preset sets, ``window`` always among them
        (``ModelConfig``'s own defaults fill the rest)
    tunable : which of :data:`FORM_FIELDS` a form may change; the other defaults are fixed
    learning_rate : Adam's step that ``TrainConfig.for_preset`` gives it
    layer_notes : Markdown for the Model page: what its layers do
    form_note : a caption under the app's architecture choice ("" for none)
    searchable : offered by the app's and the CLI's hyperparameter search
    scalings : the scalings it accepts (None: every one), and ``scaling_rule`` says why
    bias_free : whether ``bias=False`` (a bias-free, scale-equivariant net) exists for it,
        else ``bias_note`` says why not
    """

    name: str
    label: str
    short: str
    defaults: Mapping[str, Any]
    tunable: tuple[str, ...] = FORM_FIELDS
    learning_rate: float = 1e-3
    layer_notes: str = ""
    form_note: str = ""
    searchable: bool = True
    scalings: tuple[str, ...] | None = None
    scaling_rule: str = ""
    bias_free: bool = False
    bias_note: str = ""

    def __post_init__(self) -> None:
        # Read-only, so a record cannot be changed behind every user's back.
        object.__setattr__(self, "defaults", MappingProxyType(dict(self.defaults)))
        if "window" not in self.defaults or not set(self.tunable) <= set(FORM_FIELDS):
            raise ValueError(f"Preset {self.name!r}: defaults need a window and tunable only {FORM_FIELDS}.")

    @property
    def window(self) -> int:
        """The window the preset is used at unless one is given (the app's "auto")."""
        return int(self.defaults["window"])

    @property
    def fixed(self) -> dict[str, Any]:
        """The defaults a form cannot change (e.g. the tutorial net's min-max scaling)."""
        return {k: v for k, v in self.defaults.items() if k not in self.tunable}


_UNET_NOTES = (
    "**Encoder levels** (enc1, enc2, …) halve the length each time: every position there looks at a "
    "twice wider stretch of the input, so they see shape and trend rather than single samples. The "
    "**bottleneck** has the widest view. **Decoder levels** (up…, dec…) double the length again and "
    "mix in the encoder's fine detail through the skip connections; the last layer, *correction*, is "
    "what gets added to the noisy window."
)
_SEED_NOTES = (
    "The tutorial net's **encoder** (enc1, enc2) convolves 3 samples at a time, so each position "
    "sees only a few neighbours; the **decoder** (dec2, dec1) spreads that back out and the last "
    "layer squeezes 128 channels into the denoised value."
)
_LSTM_NOTES = (
    "Each **LSTM layer** reads the window one sample at a time and carries a memory along; a "
    "bidirectional layer reads it forwards and backwards, so each position knows both sides. The "
    "second layer works on the first one's summaries. The *correction* is added to the noisy window."
)

#: The presets by name, in the order they are offered (the first is the default).
PRESETS: dict[str, Preset] = {
    "unet": Preset(
        "unet",
        label="Default: Conv1D U-Net autoencoder (wide receptive field, linear output)",
        short="U-Net",
        defaults={"window": 256},
        learning_rate=1e-3,
        layer_notes=_UNET_NOTES,
        bias_free=True,
    ),
    "seed": Preset(
        "seed",
        label="Tutorial (seed): the MachineCurve network, 28,737 parameters",
        short="Tutorial net",
        defaults={"window": 150, "scaling": "minmax", "kernel_size": 3},
        tunable=("window",),
        learning_rate=1e-3,
        layer_notes=_SEED_NOTES,
        # Its own scaling and window; a search trial of a few epochs tells nothing about it.
        searchable=False,
        scalings=("minmax", "global-minmax"),
        scaling_rule="ends in a sigmoid (outputs in [0, 1]), so it needs a min-max scaling",
        bias_note="the seed net ends in a sigmoid",
    ),
    "lstm": Preset(
        # LSTMs learn little at 1e-3 in a few epochs (0.6 dB after 5 epochs on 2,000 windows of 128)
        # but 5.5 dB at 3e-3. A recurrent layer steps through the window sample by sample, so its cost
        # grows with the window: 128 by default (~2.5 CPU-s per epoch on 2,000 windows, 1.5x the U-Net's).
        "lstm",
        label="LSTM: stacked bidirectional LSTMs, a value per time step (slower on CPU)",
        short="LSTM",
        defaults={"window": 128},
        tunable=("window", "scaling"),
        learning_rate=3e-3,
        layer_notes=_LSTM_NOTES,
        form_note="The LSTM reads each window one sample at a time: on a CPU it trains several times "
        "slower than the U-Net per window, so keep its window at 128 or less.",
        bias_note="LSTM gates are not scale-equivariant",
    ),
}
#: The preset of ``ModelConfig()`` and of the bundled models.
DEFAULT = "unet"


def searchable() -> list[str]:
    """Names of the presets the app's and the CLI's search offer."""
    return [name for name, p in PRESETS.items() if p.searchable]


def with_form_field(name: str) -> list[str]:
    """Names of the presets whose form takes ``name`` (one of :data:`FORM_FIELDS`)."""
    return [n for n, p in PRESETS.items() if name in p.tunable]


def window_text() -> str:
    """Each preset's own window, for "auto" choices: 'U-Net 256, Tutorial net 150, LSTM 128'."""
    return ", ".join(f"{p.short} {p.window}" for p in PRESETS.values())


def learning_rate_text() -> str:
    """Each preset's learning rate: 'U-Net 0.001, Tutorial net 0.001, LSTM 0.003'."""
    return ", ".join(f"{p.short} {p.learning_rate:g}" for p in PRESETS.values())


class Column(Mapping[str, Any]):
    """One attribute of every preset, by name: a live, read-only view of :data:`PRESETS`.

    Keeps the older per-attribute dicts (``config.PRESET_LABELS``, ``config.LEARNING_RATES``)
    working and always in step with the registry.
    """

    def __init__(self, attribute: str) -> None:
        self.attribute = attribute

    def __getitem__(self, name: str) -> Any:
        return getattr(PRESETS[name], self.attribute)

    def __iter__(self) -> Iterator[str]:
        return iter(PRESETS)

    def __len__(self) -> int:
        return len(PRESETS)

    def __repr__(self) -> str:
        return f"Column({self.attribute!r}: {dict(self)!r})"
