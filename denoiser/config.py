"""Configuration dataclasses: every knob of a model and of a training run, with defaults.

``ModelConfig`` travels inside a saved model file (as JSON), so it holds plain
values only and :func:`ModelConfig.from_dict` validates what it reads.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from denoiser.errors import InputError

PRESETS = ("unet", "seed")
PRESET_LABELS = {
    "unet": "Default: Conv1D U-Net autoencoder (wide receptive field, linear output)",
    "seed": "Tutorial (seed): the MachineCurve network, 28,737 parameters",
}
LOSSES = ("mse", "mae", "huber", "bce")


@dataclass(frozen=True)
class ModelConfig:
    """Architecture and data handling of a denoising network."""

    preset: str = "unet"      # "unet": the default; "seed": the tutorial's exact network
    window: int = 256         # samples the network sees at once; series are cut into windows
    hop: int = 0              # step between windows when denoising; 0 means window // 2
    scaling: str = "standard" # per-window "standard" (mean/std) or "minmax", from the noisy window
    filters: int = 32         # unet: channels of the first level (levels grow to 4x this)
    depth: int = 4            # unet: stride-2 levels; receptive field grows ~2**depth
    kernel_size: int = 5      # unet: kernel of every convolution

    def __post_init__(self) -> None:
        checks = [
            (self.preset in PRESETS, f"preset must be one of {', '.join(PRESETS)}; got {self.preset!r}"),
            (isinstance(self.window, int) and 8 <= self.window <= 8192, f"window must be an integer in [8, 8192]; got {self.window!r}"),
            (isinstance(self.hop, int) and 0 <= self.hop <= self.window, f"hop must be an integer in [0, window]; got {self.hop!r}"),
            (self.scaling in ("standard", "minmax"), f"scaling must be 'standard' or 'minmax'; got {self.scaling!r}"),
            (isinstance(self.filters, int) and 1 <= self.filters <= 256, f"filters must be an integer in [1, 256]; got {self.filters!r}"),
            (isinstance(self.depth, int) and 0 <= self.depth <= 8, f"depth must be an integer in [0, 8]; got {self.depth!r}"),
            (isinstance(self.kernel_size, int) and 1 <= self.kernel_size <= 31, f"kernel_size must be an integer in [1, 31]; got {self.kernel_size!r}"),
        ]
        for ok, msg in checks:
            if not ok:
                raise InputError(f"Invalid model configuration: {msg}.")

    @property
    def step(self) -> int:
        """The hop actually used when denoising."""
        return self.hop or max(1, self.window // 2)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Any) -> "ModelConfig":
        """Build from untrusted JSON data: only known keys of the right types are accepted."""
        if not isinstance(data, dict):
            raise InputError("The model's configuration is not a JSON object.")
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise InputError(f"The model's configuration has unknown fields: {', '.join(sorted(map(str, unknown)))}.")
        return cls(**data)

    @classmethod
    def tutorial(cls) -> "ModelConfig":
        """The tutorial's network and data handling: window 150, min-max scaling."""
        return cls(preset="seed", window=150, scaling="minmax", kernel_size=3)


@dataclass(frozen=True)
class TrainConfig:
    """How a network is trained."""

    epochs: int = 30              # upper bound; EarlyStopping usually ends sooner
    batch_size: int = 64
    learning_rate: float = 1e-3   # Adam
    loss: str = "mse"             # "mse", "mae", "huber" (robust to outliers) or "bce" (tutorial only)
    patience: int = 5             # epochs without validation improvement before stopping
    val_fraction: float = 0.15    # of the windows, for EarlyStopping and model choice
    test_fraction: float = 0.15   # of the windows, never seen in training; metrics reported on it
    seed: int = 0                 # data split, shuffling and weight initialisation
    weighting: str = "noise"      # "noise": weigh windows by 1/noise power (train for gain); "none"

    def __post_init__(self) -> None:
        checks = [
            (isinstance(self.epochs, int) and 1 <= self.epochs <= 10_000, f"epochs must be an integer in [1, 10000]; got {self.epochs!r}"),
            (isinstance(self.batch_size, int) and 1 <= self.batch_size <= 65_536, f"batch_size must be an integer in [1, 65536]; got {self.batch_size!r}"),
            (0 < float(self.learning_rate) <= 1, f"learning_rate must be in (0, 1]; got {self.learning_rate!r}"),
            (self.loss in LOSSES, f"loss must be one of {', '.join(LOSSES)}; got {self.loss!r}"),
            (isinstance(self.patience, int) and self.patience >= 1, f"patience must be an integer >= 1; got {self.patience!r}"),
            (self.weighting in ("noise", "none"), f"weighting must be 'noise' or 'none'; got {self.weighting!r}"),
            (0 < self.val_fraction < 0.5 and 0 <= self.test_fraction < 0.5, "val_fraction must be in (0, 0.5) and test_fraction in [0, 0.5)"),
        ]
        for ok, msg in checks:
            if not ok:
                raise InputError(f"Invalid training configuration: {msg}.")

    def with_(self, **changes: Any) -> "TrainConfig":
        return replace(self, **changes)
