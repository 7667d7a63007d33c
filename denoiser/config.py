"""Configuration dataclasses: every knob of a model and of a training run, with defaults.

``ModelConfig`` travels inside a saved model file (as JSON), so it holds plain
values only and :func:`ModelConfig.from_dict` validates what it reads.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from denoiser import presets
from denoiser.errors import InputError
from denoiser.presets import FORM_FIELDS
from denoiser.windows import GLOBAL_SCALINGS, SCALINGS

# The architecture presets live in denoiser.presets (one record each). These names stay for
# older imports: PRESETS is the registry itself (iterating gives the names), the others are
# live views of one attribute of every record.
PRESETS = presets.PRESETS
PRESET_LABELS = presets.Column("label")
LEARNING_RATES = presets.Column("learning_rate")  # Adam's step per preset (TrainConfig.for_preset)
ALL_SCALINGS = SCALINGS + GLOBAL_SCALINGS
SCALING_LABELS = {
    "standard": "Standardise each window (its own mean and std)",
    "minmax": "Min-max each window (its own min and max)",
    "global": "Standardise with the training split's mean and std (z-score)",
    "global-minmax": "Min-max with the training split's min and max",
}
LOSSES = ("mse", "mae", "huber", "bce")
INITS = ("", "default", "parabola")  # TrainConfig.init: fresh weights, or a bundled model's
DISTRIBUTE = (None, "auto", "mirrored", "multiworker")  # TrainConfig.distribute (see train.strategy_for)
SELFSUP_DEFAULTS: dict[str, Any] = dict(
    self_supervised=True,
    init="default",
    epochs=30,
    batch_size=32,
    learning_rate=3e-4,
    patience=5,
    weighting="none",
    blind_spot=4,
)


@dataclass(frozen=True)
class ModelConfig:
    """Architecture and data handling of a denoising network."""

    preset: str = presets.DEFAULT  # a name in denoiser.presets.PRESETS: "unet", "seed" (the tutorial's), "lstm"
    window: int = presets.PRESETS[presets.DEFAULT].window  # samples the network sees at once (256)
    hop: int = 0  # step between windows when denoising; 0 means window // 2
    scaling: str = "standard"  # per-window "standard" (mean/std) or "minmax", from the noisy window;
    # "global" / "global-minmax": from the noisy training split (below)
    filters: int = 16  # unet: channels of the first level (levels grow to 4x this); 16 -> 223k parameters, < 1 MB
    depth: int = 4  # unet: stride-2 levels; receptive field grows ~2**depth
    kernel_size: int = 5  # unet: kernel of every convolution
    units: int = 32  # lstm: units per LSTM (per direction); on CPU the step-by-step loop,
    # not the units, sets the cost (16 and 32 train at about the same speed)
    lstm_layers: int = 2  # lstm: stacked LSTM layers
    bidirectional: bool = True  # lstm: also read each window backwards (2x the cost; sees both sides)
    bias: bool = True  # unet: False drops every additive bias (bias-free, Mohan et al. 2020): the
    # network is then positively homogeneous, net(c*x) = c*net(x) for c > 0,
    # so it behaves the same at every noise level and signal amplitude
    blind_spot: int = 0  # 0: the network once per window; k >= 2: J-invariant inference (k passes, each
    # sample read where it was masked), set by a self-supervised fit
    # (the global scalings' offset and scale are learned: Denoiser.global_offset_ / global_scale_, not config)

    def __post_init__(self) -> None:
        spec = PRESETS.get(self.preset) if isinstance(self.preset, str) else None
        checks = [
            (spec is not None, f"preset must be one of {', '.join(PRESETS)}; got {self.preset!r}"),
            (
                _is_int(self.window) and 8 <= self.window <= 8192,
                f"window must be an integer in [8, 8192]; got {self.window!r}",
            ),
            (
                _is_int(self.hop) and 0 <= self.hop <= self.window,
                f"hop must be an integer in [0, window]; got {self.hop!r}",
            ),
            *self._preset_checks(spec),
            (self.scaling in ALL_SCALINGS, f"scaling must be one of {', '.join(ALL_SCALINGS)}; got {self.scaling!r}"),
            (
                _is_int(self.filters) and 1 <= self.filters <= 256,
                f"filters must be an integer in [1, 256]; got {self.filters!r}",
            ),
            (_is_int(self.depth) and 0 <= self.depth <= 8, f"depth must be an integer in [0, 8]; got {self.depth!r}"),
            (
                _is_int(self.kernel_size) and 1 <= self.kernel_size <= 31,
                f"kernel_size must be an integer in [1, 31]; got {self.kernel_size!r}",
            ),
            (
                _is_int(self.units) and 1 <= self.units <= 512,
                f"units must be an integer in [1, 512]; got {self.units!r}",
            ),
            (
                _is_int(self.lstm_layers) and 1 <= self.lstm_layers <= 8,
                f"lstm_layers must be an integer in [1, 8]; got {self.lstm_layers!r}",
            ),
            (isinstance(self.bidirectional, bool), f"bidirectional must be true or false; got {self.bidirectional!r}"),
            (isinstance(self.bias, bool), f"bias must be true or false; got {self.bias!r}"),
            (
                _is_int(self.blind_spot) and (self.blind_spot == 0 or 2 <= self.blind_spot <= 16),
                f"blind_spot must be 0 or an integer in [2, 16]; got {self.blind_spot!r}",
            ),
        ]
        for ok, msg in checks:
            if not ok:
                raise InputError(f"Invalid model configuration: {msg}.")

    def _preset_checks(self, spec: presets.Preset | None) -> list[tuple[bool, str]]:
        """The rules a preset's record sets: the scalings it accepts, whether it can be bias-free."""
        if spec is None:
            return []
        checks = []
        if spec.scalings is not None:
            checks.append(
                (
                    self.scaling in spec.scalings,
                    f"the {spec.name} preset {spec.scaling_rule} ({' or '.join(spec.scalings)})",
                )
            )
        if not spec.bias_free:
            able = [name for name, p in PRESETS.items() if p.bias_free]
            checks.append(
                (
                    self.bias is not False,
                    f"bias=False (a bias-free network) exists for the {' and '.join(able)} "
                    f"preset{'s' if len(able) > 1 else ''} only; {spec.bias_note or 'not for ' + spec.name}",
                )
            )
        return checks

    @property
    def step(self) -> int:
        """The hop actually used when denoising."""
        return self.hop or max(1, self.window // 2)

    def to_dict(self) -> dict[str, Any]:
        """Every field as plain values (what a saved model file stores)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Any) -> ModelConfig:
        """Build from untrusted JSON data: only known keys of the right types are accepted."""
        if not isinstance(data, dict):
            raise InputError("The model's configuration is not a JSON object.")
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise InputError(f"The model's configuration has unknown fields: {', '.join(sorted(map(str, unknown)))}.")
        try:
            return cls(**data)
        except (TypeError, ValueError) as err:  # e.g. a string where a number belongs
            if isinstance(err, InputError):
                raise
            raise InputError(f"The model's configuration has a value of the wrong type ({err}).") from err

    @classmethod
    def for_preset(cls, preset: str, **changes: Any) -> ModelConfig:
        """A preset at its own defaults (its record in ``denoiser.presets``), plus ``changes``."""
        if preset not in PRESETS:
            raise InputError(
                f"Invalid model configuration: preset must be one of {', '.join(PRESETS)}; got {preset!r}."
            )
        return cls(**{**PRESETS[preset].defaults, "preset": preset, **changes})

    @classmethod
    def from_form(cls, preset: str, **choices: Any) -> ModelConfig:
        """The config a form describes (the app's training form, ``python -m denoiser train``).

        ``None`` or ``"auto"`` keeps a preset's default; fields the preset does not let a form
        change (``Preset.tunable``) are ignored.

        >>> ModelConfig.from_form("seed", window="auto", filters=64, scaling="standard").window
        150
        """
        unknown = set(choices) - set(FORM_FIELDS)
        if unknown:
            raise TypeError(f"from_form takes {', '.join(FORM_FIELDS)}; got {', '.join(sorted(unknown))}")
        spec = PRESETS[preset]
        picked = {k: v for k, v in choices.items() if k in spec.tunable and v is not None and v != "auto"}
        return cls.for_preset(preset, **picked)

    @classmethod
    def tutorial(cls) -> ModelConfig:
        """The tutorial's network and data handling: window 150, min-max scaling."""
        return cls.for_preset("seed")

    @classmethod
    def lstm(cls, **changes: Any) -> ModelConfig:
        """The LSTM preset at its interactive defaults: window 128, 2 bidirectional layers of 32 units.

        A recurrent layer steps through the window one sample at a time, so its cost
        grows with the window (and doubles with each layer or direction); at 128 an epoch
        on 2,000 windows takes ~2.5 CPU-seconds on 2 cores, 1.5x the default U-Net's.
        Train it with ``TrainConfig.for_preset("lstm")`` (learning rate 3e-3).
        """
        return cls.for_preset("lstm", **changes)

    @property
    def uses_global_stats(self) -> bool:
        """Whether scaling uses statistics of the training split (learned by fit: ``Denoiser.global_offset_``)."""
        return self.scaling in GLOBAL_SCALINGS


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True)
class TrainConfig:
    """How a network is trained."""

    epochs: int = 30  # upper bound; EarlyStopping usually ends sooner
    batch_size: int = 64
    learning_rate: float = 1e-3  # Adam; the lstm preset wants 3e-3 (see for_preset)
    loss: str = "mse"  # "mse", "mae", "huber" (robust to outliers) or "bce" (tutorial only)
    patience: int = 5  # epochs without validation improvement before stopping
    val_fraction: float = 0.15  # of the windows, for EarlyStopping and model choice
    test_fraction: float = 0.15  # of the windows, never seen in training; metrics reported on it
    seed: int = 0  # data split, shuffling and weight initialisation
    weighting: str = "noise"  # "noise": weigh windows by 1/noise power (train for gain); "none"
    self_supervised: bool = False  # learn from the noisy data alone (blind-spot masking; Denoiser.fit(noisy))
    init: str = ""  # "" fresh weights; "default" / "parabola": start from that bundled model
    blind_spot: int = 4  # self-supervised: every k-th sample of a window is masked (k in [2, 16])
    distribute: str | None = None  # tf.distribute strategy for fit: None, "auto", "mirrored", "multiworker" (TF_CONFIG)

    def __post_init__(self) -> None:
        checks = [
            (
                _is_int(self.epochs) and 1 <= self.epochs <= 10_000,
                f"epochs must be an integer in [1, 10000]; got {self.epochs!r}",
            ),
            (
                _is_int(self.batch_size) and 1 <= self.batch_size <= 65_536,
                f"batch_size must be an integer in [1, 65536]; got {self.batch_size!r}",
            ),
            (0 < float(self.learning_rate) <= 1, f"learning_rate must be in (0, 1]; got {self.learning_rate!r}"),
            (self.loss in LOSSES, f"loss must be one of {', '.join(LOSSES)}; got {self.loss!r}"),
            (_is_int(self.patience) and self.patience >= 1, f"patience must be an integer >= 1; got {self.patience!r}"),
            (self.weighting in ("noise", "none"), f"weighting must be 'noise' or 'none'; got {self.weighting!r}"),
            (
                0 < self.val_fraction < 0.5 and 0 <= self.test_fraction < 0.5,
                "val_fraction must be in (0, 0.5) and test_fraction in [0, 0.5)",
            ),
            (
                isinstance(self.self_supervised, bool),
                f"self_supervised must be true or false; got {self.self_supervised!r}",
            ),
            (
                self.init in INITS,
                f"init must be one of {', '.join(map(repr, INITS))} ('' = fresh weights); got {self.init!r}",
            ),
            (
                _is_int(self.blind_spot) and 2 <= self.blind_spot <= 16,
                f"blind_spot must be an integer in [2, 16]; got {self.blind_spot!r}",
            ),
            (
                self.distribute in DISTRIBUTE,
                f"distribute must be one of {', '.join(map(repr, DISTRIBUTE))}; got {self.distribute!r}",
            ),
            (
                not self.self_supervised or self.loss in ("mse", "mae", "huber"),
                f"self-supervised training takes the loss mse, mae or huber; got {self.loss!r}",
            ),
        ]
        for ok, msg in checks:
            if not ok:
                raise InputError(f"Invalid training configuration: {msg}.")

    @classmethod
    def for_preset(cls, preset: str, **changes: Any) -> TrainConfig:
        """Training defaults suited to an architecture preset (its learning rate), plus ``changes``."""
        spec = PRESETS.get(preset) if isinstance(preset, str) else None
        return cls(**{"learning_rate": spec.learning_rate if spec else 1e-3, **changes})

    @classmethod
    def selfsup(cls, **changes: Any) -> TrainConfig:
        """Defaults for self-supervised fine-tuning on one noisy recording, plus ``changes``.

        Starts from the bundled default model, with a lower learning rate than training
        from scratch; about a minute on 2 CPU cores for 5k-25k samples.
        """
        return cls(**{**SELFSUP_DEFAULTS, **changes})

    def with_(self, **changes: Any) -> TrainConfig:
        """A copy with ``changes`` applied (the config is frozen)."""
        return replace(self, **changes)
