"""What the automatic pipeline returns: the denoised series, what was applied, and how good it probably is.

One description of a result lives here. The compact ``method`` string (for experts and logs),
the plain-language :meth:`DenoiseResult.describe` (captions, CLI, file headers, scripts) and the
structured :attr:`DenoiseResult.parts` all come from the same weights, so they cannot disagree.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

SIGMA_SOURCES = ("given", "estimated", "from a quiet segment")
MIN_WEIGHT = 0.02  # parts with a smaller share are not named (they change the result by < 2 %)


@dataclass(frozen=True)
class MethodPart:
    """One ingredient of the applied blend.

    Attributes
    ----------
    name : candidate name as in ``weights`` ("savgol 33", "wavelet", "network", "input", "despike")
    kind : the candidate kind ("savgol", "wavelet", "network", "input", "despike")
    label : the same in plain words ("Savitzky-Golay, 33 samples wide, order 2")
    weight : share of the result in [0, 1] (mean over the recording); for "despike" the share
        of samples replaced
    params : the kind's parameters, e.g. ``{"width": 33, "order": 2}``
    """

    name: str
    kind: str
    label: str
    weight: float
    params: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """The part as plain JSON-ready values (what the shared link and the records carry)."""
        return {
            "name": self.name,
            "kind": self.kind,
            "label": self.label,
            "weight": float(self.weight),
            "params": dict(self.params),
        }


@dataclass(frozen=True)
class DenoiseResult:
    """What :func:`denoiser.auto.denoise` applied and how good it probably is.

    Attributes
    ----------
    denoised : ndarray, same shape as the input (NaN where the input was NaN)
    sigma : noise standard deviation used, in the data's units (Gaussian part)
    sigma_source : "given", "estimated" or "from a quiet segment"
    sigma_is_upper_bound : the recording could not tell noise from signal: the noise level
        is only bounded from above (``sigma_bound``) and a cautious part of the bound was used
    estimated_mse : estimated mean squared error of ``denoised`` against the unknown clean signal
    estimated_gain_db : 10 log10(noise power / estimated_mse); 0 means "kept as is"
    gain_band_db : (low, high) plausible range of the gain (it covers a wrong noise level too)
    trusted : whether the estimate can be relied on; never true when the noise level was not
        identified from the data (then ``identifiable`` is False)
    method : compact form of what was applied, e.g. "network 0.80 + savgol 33 0.10 (+ input 0.10)"
    notes : plain-language remarks, e.g. why the estimate is not trusted
    whiteness : in [0, 1]; 1 means what was removed looks like stationary white noise
    impulses : number of samples replaced as impulses (spikes)
    weights : candidate name -> mean weight over the recording
    parts : the applied blend, largest share first (:class:`MethodPart`); the input's own share
        is a part named "input"
    sigma_bound : the upper bound of the noise level the data allow (equals ``sigma`` when given)
    identifiable : the data showed the noise level (a flat noise floor), or it was given
    direction : when not identifiable, which way the result may be off: "too little" (noise
        left in place) or "too much" (signal removed); "" otherwise
    """

    denoised: np.ndarray
    sigma: float
    sigma_source: str
    sigma_is_upper_bound: bool
    estimated_mse: float
    estimated_gain_db: float
    gain_band_db: tuple[float, float]
    trusted: bool
    method: str
    notes: tuple[str, ...] = ()
    whiteness: float = 1.0
    impulses: int = 0
    weights: dict[str, float] = field(default_factory=dict)
    parts: tuple[MethodPart, ...] = ()
    sigma_bound: float = float("nan")
    identifiable: bool = True
    direction: str = ""

    @property
    def kept(self) -> bool:
        """Nothing was applied: the output is the input (gaps aside)."""
        return not any(p.kind != "input" for p in self.parts)

    def as_dict(self) -> dict[str, Any]:
        """Every field but ``denoised``, as plain values (for tables, CSV and JSON)."""
        d = {k: v for k, v in asdict(self).items() if k not in ("denoised", "parts")}
        d["gain_band_db"] = [float(v) for v in self.gain_band_db]
        d["notes"] = list(self.notes)
        d["parts"] = [p.as_dict() for p in self.parts]
        d["description"] = self.describe()
        return d

    def describe(self, *, compact: bool = False, network: str | None = None) -> str:
        """What was applied, in plain words (or the compact expert form).

        Parameters
        ----------
        compact : the expert string (``method``) instead
        network : what to call the network part ("the bundled x² specialist"); default "the
            neural network"

        Returns
        -------
        text : e.g. "Savitzky-Golay, 149 samples wide, order 2: 100 %" or
            "Spikes removed (12 samples); then wavelet shrinkage: 67 %, the network: 30 %,
            the input kept: 3 %"; "Kept as is: no filter was expected to improve it."
        """
        if compact:
            return self.method
        return describe_parts(self.parts, self.impulses, network)

    def summary(self) -> str:
        """One line for a terminal or a caption."""
        lo, hi = self.gain_band_db
        trust = "trusted" if self.trusted else "NOT trusted"
        bound = " (upper bound)" if self.sigma_is_upper_bound else ""
        return (
            f"{self.describe().rstrip('.')}; noise sigma {self.sigma:.4g} ({self.sigma_source}{bound}); "
            f"estimated gain {self.estimated_gain_db:+.1f} dB [{lo:+.1f}, {hi:+.1f}], {trust}"
        )


def describe_parts(
    parts: tuple[MethodPart, ...] | list[MethodPart], impulses: int = 0, network: str | None = None
) -> str:
    """Plain words for a blend (see :meth:`DenoiseResult.describe`); ``network`` names the network part."""
    shown = [p for p in parts if p.kind not in ("input", "despike") and p.weight >= MIN_WEIGHT]
    rest = sum(p.weight for p in parts if p.kind == "input")
    spikes = f"Spikes removed ({impulses:,} sample{'s' if impulses != 1 else ''})" if impulses else ""
    if not shown:
        text = "kept as is: no filter was expected to improve it" if not spikes else "nothing else changed"
        return f"{spikes}; {text}." if spikes else "Kept as is: no filter was expected to improve it."
    pieces = [f"{network if p.kind == 'network' and network else p.label}: {100 * p.weight:.0f} %" for p in shown]
    if rest >= MIN_WEIGHT:
        pieces.append(f"the input kept: {100 * rest:.0f} %")
    body = ", ".join(pieces)
    return f"{spikes}; then {body}." if spikes else body[0].upper() + body[1:] + "."


def compact_method(parts: tuple[MethodPart, ...] | list[MethodPart], impulses: int) -> str:
    """The compact expert string: "network 0.80 + savgol 33 0.10 (+ input 0.10)"."""
    used = [p for p in parts if p.kind not in ("input", "despike") and p.weight >= MIN_WEIGHT]
    rest = sum(p.weight for p in parts if p.kind == "input")
    text = " + ".join(f"{p.name} {p.weight:.2f}" for p in used)
    text = text + (f" (+ input {rest:.2f})" if used and rest >= MIN_WEIGHT else "")
    if not used:
        text = "none (kept as is)"
    return ("despike + " + text) if impulses else text
