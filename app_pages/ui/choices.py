"""Option lists of the controls that several pages and the shareable link share.

Each control stores a stable key (also the link's value) and shows a label; a link written
before a key existed may carry an alias. Nothing here draws or reads the session.
"""

from __future__ import annotations

# The method of Compare and the headline result of the demos (Home, Generate).
AUTOMATIC = "auto"
NETWORK_ONLY = "network"
METHOD_LABELS = {AUTOMATIC: "Automatic (no-harm check)", NETWORK_ONLY: "Network only"}
#: The demos' headline choice: both results are shown and scored, one leads.
DEMO_LABELS = {NETWORK_ONLY: "The network (autoencoder)", AUTOMATIC: "Automatic (no-harm check)"}
DEMO_NAMES = {NETWORK_ONLY: "network", AUTOMATIC: "automatic"}

#: Where the automatic pipeline's noise level comes from (Compare; ``{prefix}_noise_mode``).
NOISE_MODES = {
    "estimate": "Estimate it from the data",
    "given": "I know sigma",
    "quiet": "Measure it on a quiet stretch",
}

#: The Generate page's "Noise level as" choice: key -> label. A link written before the keys
#: carried the label, so LEVEL_ALIASES maps it too.
LEVEL_LABELS = {"sigma": "sigma", "snr": "SNR (dB)"}
LEVEL_ALIASES = {"SNR (dB)": "snr"}

# The Learn page's controls.
LEARN_UNET = {"bottleneck": "the bottleneck only", "skips": "the bottleneck and the skips (detail shrunk)"}
LEARN_FAMILIES = ("sines", "square", "chirp", "spikes", "smooth", "piecewise")
LEARN_STEPS = 7
