"""Build the networks. Nothing else: no training, no I/O.

Every preset maps a window of shape (window, 1) to a window of the same shape:
two convolutional ones (``unet``, ``seed``) and a recurrent one (``lstm``).
Each network is a function registered with ``@builder(name)`` under the name of
its record in :mod:`denoiser.presets` (which holds everything else about it).
"""

from __future__ import annotations

from collections.abc import Callable

import keras
from keras import layers

from denoiser.config import ModelConfig

Builder = Callable[[ModelConfig], keras.Model]
#: Preset name -> the function that builds its network; filled by @builder below.
BUILDERS: dict[str, Builder] = {}


def builder(name: str) -> Callable[[Builder], Builder]:
    """Register the decorated function as the network of preset ``name`` (a key of ``presets.PRESETS``)."""

    def register(fn: Builder) -> Builder:
        if name in BUILDERS:  # two networks under one saved name would load the wrong weights
            raise ValueError(f"Preset {name!r} already has a builder ({BUILDERS[name].__name__}).")
        BUILDERS[name] = fn
        return fn

    return register


def builder_for(name: str) -> Builder:
    """The function that builds preset ``name``'s network."""
    try:
        return BUILDERS[name]
    except KeyError:
        raise LookupError(
            f"No builder for preset {name!r}: add one in denoiser/model.py with @builder({name!r})."
        ) from None


def build_model(config: ModelConfig) -> keras.Model:
    """Build the network a config describes (weights freshly initialised).

    Parameters
    ----------
    config : ModelConfig

    Returns
    -------
    model : keras.Model, input and output shape (batch, config.window, 1)
    """
    return builder_for(config.preset)(config)


@builder("seed")
def _seed(config: ModelConfig) -> keras.Model:
    """The tutorial's network, layer for layer (28,737 parameters at window 150).

    Valid-padded convolutions shrink the window by 2 twice and the transposed ones
    grow it back, so its output depends on only 11 input samples.
    """
    k = dict(kernel_size=3, kernel_constraint=keras.constraints.MaxNorm(2.0), kernel_initializer="he_uniform")
    inputs = keras.Input(shape=(config.window, 1), name="noisy")
    # encoder
    # Explicit names: Keras' automatic ones come from a global counter that another
    # thread (Streamlit resets Keras after every script run) can reset mid-build.
    x = layers.Conv1D(128, activation="relu", name="enc1", **k)(inputs)
    x = layers.Conv1D(32, activation="relu", name="enc2", **k)(x)
    # decoder
    x = layers.Conv1DTranspose(32, activation="relu", name="dec2", **k)(x)
    x = layers.Conv1DTranspose(128, activation="relu", name="dec1", **k)(x)
    outputs = layers.Conv1D(1, activation="sigmoid", padding="same", name="denoised", **k)(x)
    return keras.Model(inputs, outputs, name="seed")


@builder("unet")
def _unet(config: ModelConfig) -> keras.Model:
    """The default: a Conv1D encoder / Conv1DTranspose decoder with skip connections.

    Each encoder level halves the length with a strided Conv1D, so after ``depth``
    levels one bottleneck sample sees ~``kernel_size * 2**depth`` input samples
    (the tutorial's stack sees 11). Skips carry detail past the bottleneck, so
    steps and spikes survive; the output is linear and added to the input, so
    the network learns the correction (identity is easy: "do no harm").

    With ``config.bias=False`` no layer has an additive bias (bias-free, Mohan et al.
    2020): convolutions, ReLU, zero padding, concatenation and the residual sum are all
    positively homogeneous, so ``net(c*x) == c*net(x)`` for every ``c > 0``. The net is
    then locally linear in its input, which is what lets it generalise across noise
    levels (including ones it never saw) instead of memorising one offset per level.
    """
    f, k, depth = config.filters, config.kernel_size, config.depth
    use_bias = config.bias
    widths = [min(f * 2**level, 4 * f) for level in range(depth + 1)]
    # Strided levels need a length divisible by 2**depth: pad inside, crop at the end.
    multiple = 2**depth
    pad = (-config.window) % multiple
    conv = dict(kernel_size=k, padding="same", activation="relu", use_bias=use_bias)

    inputs = keras.Input(shape=(config.window, 1), name="noisy")
    x0 = layers.ZeroPadding1D((0, pad), name="pad")(inputs) if pad else inputs
    # encoder
    x = layers.Conv1D(widths[0], name="enc0", **conv)(x0)
    skips = []
    for level in range(1, depth + 1):
        skips.append(x)
        x = layers.Conv1D(widths[level], strides=2, name=f"enc{level}", **conv)(x)
    x = layers.Conv1D(widths[depth], name="bottleneck", **conv)(x)
    # decoder
    for level in range(depth, 0, -1):
        x = layers.Conv1DTranspose(widths[level - 1], strides=2, name=f"up{level}", **conv)(x)
        x = layers.Concatenate(name=f"skip{level}")([x, skips[level - 1]])
        x = layers.Conv1D(widths[level - 1], name=f"dec{level}", **conv)(x)
    correction = layers.Conv1D(1, 1, use_bias=use_bias, name="correction")(x)
    x = layers.Add(name="residual")([x0, correction])
    outputs = layers.Cropping1D((0, pad), name="denoised")(x) if pad else layers.Identity(name="denoised")(x)
    return keras.Model(inputs, outputs, name="unet")


@builder("lstm")
def _lstm(config: ModelConfig) -> keras.Model:
    """Stacked (bidirectional) LSTMs, sequence to sequence: a value for every time step.

    Every LSTM returns its whole sequence, so each output sample is read from the
    recurrent state at that sample (both directions when ``bidirectional``: the
    past and the future of the window). A per-step linear Dense(1) gives the
    correction, added to the input as in the U-Net. LSTM settings stay at Keras'
    defaults (tanh/sigmoid, no recurrent dropout, not unrolled) so a GPU runs the
    fused cuDNN kernel.
    """
    inputs = keras.Input(shape=(config.window, 1), name="noisy")
    x = inputs
    for i in range(config.lstm_layers):
        rnn = layers.LSTM(config.units, return_sequences=True, name=f"lstm{i}")
        x = layers.Bidirectional(rnn, name=f"bilstm{i}")(x) if config.bidirectional else rnn(x)
    correction = layers.Dense(1, name="correction")(x)  # Dense on (batch, time, units) acts per step
    outputs = layers.Add(name="denoised")([inputs, correction])
    return keras.Model(inputs, outputs, name="lstm")
