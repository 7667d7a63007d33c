"""The Denoiser: window, scale, run the network, unscale, blend -- plus fit, save and load.

A saved model is one ``.keras`` file: Keras' own archive (so ``keras.models.load_model``
works in a notebook for files you trust) plus ``denoiser.json`` with our config and
training record. Loading never uses Keras deserialisation: it reads only
``denoiser.json`` (validated data) and the weights (``model.weights.h5``), rebuilds
the architecture from this package's code and loads weights of the expected shapes.
"""
from __future__ import annotations

import io
import json
import os
import tempfile
import threading
import zipfile
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import IO, Any

import keras
import numpy as np
import tensorflow as tf

from denoiser import metrics, modelfile, windows
from denoiser.config import ModelConfig, TrainConfig
from denoiser.errors import InputError
from denoiser.model import build_model
from denoiser.train import EpochHook, StopFlag, fit_windows, make_loss, split_indices

from denoiser.modelfile import FORMAT, FORMAT_VERSION, MAX_MODEL_BYTES  # noqa: F401 (public names kept here)
_CHUNK = 1024                            # windows per network call: bounded memory on long series


class Denoiser:
    """Denoise 1-D signals with a convolutional autoencoder or a recurrent (LSTM) network.

    Parameters
    ----------
    config : ModelConfig, default ``ModelConfig()`` (the default U-Net preset)

    Attributes
    ----------
    model_ : keras.Model, after :meth:`fit` or :meth:`load`
    history_ : dict of per-epoch lists (``loss``, ``val_loss``)
    test_metrics_ : dict of MSE/MAE of noisy input and denoised output on the test split
    train_info_ : dict describing the training run (config, epochs, seconds, data)
    """

    def __init__(self, config: ModelConfig | None = None) -> None:
        self.config = config or ModelConfig()
        self.model_: keras.Model | None = None
        self.history_: dict[str, list[float]] = {}
        self.test_metrics_: dict[str, float] = {}
        self.train_info_: dict[str, Any] = {}
        self._fn = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        state = "fitted" if self.model_ is not None else "not fitted"
        return f"Denoiser({self.config}, {state})"

    # ------------------------------------------------------------ training
    def fit(self, noisy: np.ndarray, clean: np.ndarray, train: TrainConfig | None = None, *,
            on_epoch: EpochHook | None = None, should_stop: StopFlag | None = None,
            data_note: str = "", verbose: int = 0) -> "Denoiser":
        """Train a fresh network on noisy/clean pairs.

        Parameters
        ----------
        noisy, clean : ndarrays, shape (length,) for one recording or (n_signals, length)
        train : TrainConfig
        on_epoch : ``on_epoch(epoch, logs)`` after each epoch (logs: loss, val_loss, seconds)
        should_stop : polled after every batch; True stops training, keeping the best weights
        data_note : a description of the data, kept in the saved model

        Returns
        -------
        self
        """
        train = train or TrainConfig()
        x, y, contiguous = self._training_windows(noisy, clean)
        rng = np.random.default_rng(train.seed)
        i_train, i_val, i_test = split_indices(len(x), train, contiguous=contiguous, rng=rng)
        if self.config.uses_global_stats:
            # From the noisy training windows only: validation and test stay unseen, and
            # the same numbers are all that denoise() will have.
            offset, scale = windows.global_stats(x[i_train], self.config.scaling)
            self.config = replace(self.config, global_offset=offset, global_scale=scale)
        offset, scale = self._stats(x)
        xs, ys = windows.scale(x, offset, scale), windows.scale(y, offset, scale)

        keras.utils.set_random_seed(train.seed)  # weight init and shuffling repeat
        self.model_ = build_model(self.config)
        self._fn = None
        info = fit_windows(self.model_, xs[i_train], ys[i_train], xs[i_val], ys[i_val], train,
                           on_epoch=on_epoch, should_stop=should_stop, verbose=verbose)
        # The fitted model keeps Keras' training graph alive (~50 MB even for a tiny net) for as
        # long as it lives, and an app session keeps its model: keep a bare copy instead.
        self.model_ = self._inference_copy(self.model_, make_loss(train.loss))
        self.history_ = info.pop("history")
        self.train_info_ = {**info, "train_config": train.__dict__.copy(), "windows": {
            "train": len(i_train), "val": len(i_val), "test": len(i_test)}, "data": data_note}
        self.test_metrics_ = self._window_metrics(x[i_test], y[i_test]) if len(i_test) else {}
        return self

    def _inference_copy(self, model: keras.Model, loss: Any) -> keras.Model:
        """The same network and weights without optimizer state or training graphs."""
        bare = build_model(self.config)
        bare.set_weights(model.get_weights())
        bare.compile(loss=loss)  # records the loss it was trained with; builds no graph
        return bare

    def _training_windows(self, noisy: np.ndarray, clean: np.ndarray) -> tuple[np.ndarray, np.ndarray, bool]:
        noisy, clean = np.asarray(noisy, np.float64), np.asarray(clean, np.float64)
        if noisy.shape != clean.shape or noisy.ndim not in (1, 2):
            raise InputError(f"noisy and clean must have the same 1-D or 2-D shape; got {noisy.shape} and {clean.shape}.")
        if not (np.isfinite(noisy).all() and np.isfinite(clean).all()):
            raise InputError("Training data contains NaN or infinite values; fill or drop them first.")
        rows = noisy[None] if noisy.ndim == 1 else noisy
        targets = clean[None] if clean.ndim == 1 else clean
        w, hop = self.config.window, max(1, self.config.window // 2)
        xs = [windows.frame(r, w, hop)[0] for r in rows]
        ys = [windows.frame(r, w, hop)[0] for r in targets]
        return np.concatenate(xs), np.concatenate(ys), noisy.ndim == 1

    def _window_metrics(self, x: np.ndarray, y: np.ndarray) -> dict[str, float]:
        """MSE/MAE of noisy and denoised test windows against clean, in the data's units."""
        out = self._denoise_frames(x)
        return {"noisy_mse": metrics.mse(y, x), "noisy_mae": metrics.mae(y, x),
                "mse": metrics.mse(y, out), "mae": metrics.mae(y, out), "gain_db": metrics.gain_db(y, x, out)}

    # ------------------------------------------------------------ inference
    @property
    def is_fitted(self) -> bool:
        return self.model_ is not None

    def _check_fitted(self) -> keras.Model:
        if self.model_ is None:
            raise InputError("This Denoiser has no trained network yet: call fit() or Denoiser.load() first.")
        return self.model_

    def _network(self, scaled: np.ndarray) -> np.ndarray:
        """Run the network on scaled windows (n, window) in chunks; returns (n, window)."""
        model = self._check_fitted()
        with self._lock:  # trace once even when several threads (app sessions) start together
            if self._fn is None:
                spec = tf.TensorSpec([None, self.config.window, 1], tf.float32)
                self._fn = tf.function(partial(model.__call__, training=False), input_signature=[spec],
                                       autograph=False)  # no Python control flow to convert
        out = np.empty(scaled.shape, np.float64)
        for i in range(0, len(scaled), _CHUNK):
            batch = scaled[i:i + _CHUNK, :, None].astype(np.float32)
            out[i:i + _CHUNK] = self._fn(batch).numpy()[..., 0]
        return out

    def _stats(self, frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Offset and scale per window, shape (n, 1): the window's own, or the stored global ones."""
        c = self.config
        return windows.window_stats(frames, c.scaling, global_offset=c.global_offset, global_scale=c.global_scale)

    def _denoise_frames(self, frames: np.ndarray) -> np.ndarray:
        """Scale each window by noisy statistics (its own or the training split's), denoise, undo the scaling."""
        offset, scale = self._stats(frames)
        out = windows.unscale(self._network(windows.scale(frames, offset, scale)), offset, scale)
        flat = windows.is_flat(frames)
        out[flat] = frames[flat]  # nothing to denoise; the network's biases would add an offset
        return out

    def denoise(self, x: np.ndarray, *, hop: int | None = None) -> np.ndarray:
        """Denoise a series (or a batch of series) in its own units.

        Parameters
        ----------
        x : ndarray, shape (length,) or (n_signals, length); any length >= 2, any units.
            NaN/inf samples are bridged for the network and come back as NaN.
        hop : step between windows (default ``config.step``, half a window); 3/4 of a
            window costs half as much for a few hundredths of a dB

        Returns
        -------
        denoised : ndarray, same shape as ``x``, float64
        """
        x = np.asarray(x, dtype=np.float64)
        if x.ndim not in (1, 2):
            raise InputError(f"Expected a 1-D series or a 2-D batch of series; got shape {x.shape}.")
        self._check_fitted()
        rows = x[None] if x.ndim == 1 else x
        bad = ~np.isfinite(rows)
        out = np.full(rows.shape, np.nan)
        todo = [i for i in range(len(rows)) if not bad[i].all()]
        # All windows of all rows go through the network together: one batched pass.
        step = int(hop) if hop else self.config.step
        framed = [windows.frame(windows.bridge_gaps(rows[i]), self.config.window, step) for i in todo]
        if framed:
            done = self._denoise_frames(np.concatenate([frames for frames, _ in framed]))
            parts = np.split(done, np.cumsum([fr.n_windows for _, fr in framed])[:-1])
            for i, part, (_, fr) in zip(todo, parts, framed):
                out[i] = windows.overlap_add(part, fr)
        out[bad] = np.nan
        return out[0] if x.ndim == 1 else out

    def layers(self) -> list[dict[str, Any]]:
        """The architecture as rows: name, kind, output shape, parameters (for tables)."""
        model = self._check_fitted()
        return [{"layer": layer.name, "kind": type(layer).__name__,
                 "output shape": str(tuple(layer.output.shape[1:])), "parameters": layer.count_params()}
                for layer in model.layers]

    def activations(self, window: np.ndarray) -> dict[str, np.ndarray]:
        """What each layer sees: the outputs of every convolution (or LSTM) for one window.

        Parameters
        ----------
        window : ndarray, shape (config.window,) -- raw (unscaled) samples

        Returns
        -------
        acts : dict layer name -> ndarray (length_at_layer, channels), in layer order
        """
        model = self._check_fitted()
        x = np.asarray(window, dtype=np.float64)
        if x.shape != (self.config.window,):
            raise InputError(f"activations() takes one window of {self.config.window} samples; got shape {x.shape}.")
        offset, scale = self._stats(x[None])
        kinds = (keras.layers.Conv1D, keras.layers.Conv1DTranspose, keras.layers.LSTM, keras.layers.Bidirectional)
        conv = [layer for layer in model.layers if isinstance(layer, kinds)]
        probe = keras.Model(model.inputs, [layer.output for layer in conv])
        outs = probe(windows.scale(x[None], offset, scale)[..., None].astype(np.float32), training=False)
        return {layer.name: np.asarray(o)[0] for layer, o in zip(conv, outs)}

    def summary(self) -> str:
        """The network's layer table as text."""
        lines: list[str] = []
        self._check_fitted().summary(print_fn=lambda s, **_: lines.append(s))
        return "\n".join(lines)

    # ------------------------------------------------------------ files
    def save(self, path: str | os.PathLike | IO[bytes]) -> None:
        """Write the model as one ``.keras`` file (or into a binary buffer)."""
        model = self._check_fitted()
        if isinstance(path, (str, os.PathLike)) and not str(path).endswith(".keras"):
            raise InputError(f"Model files end in .keras; got {os.fspath(path)!r}.")
        meta = {"format": FORMAT, "version": FORMAT_VERSION, "config": self.config.to_dict(),
                "history": self.history_, "test_metrics": self.test_metrics_, "train_info": self.train_info_}
        with tempfile.TemporaryDirectory() as tmp:
            archive = Path(tmp) / "model.keras"
            # An uncompiled copy: the file carries weights only, not Adam's state (3x the size).
            bare = build_model(self.config)
            bare.set_weights(model.get_weights())
            bare.save(archive)
            with zipfile.ZipFile(archive, "a", zipfile.ZIP_DEFLATED) as zf:
                zf.writestr("denoiser.json", json.dumps(meta, default=_json_default))
            data = archive.read_bytes()
        if isinstance(path, (str, os.PathLike)):
            Path(path).write_bytes(data)
        else:
            path.write(data)

    def to_bytes(self) -> bytes:
        """The saved model file as bytes (for a download button)."""
        buf = io.BytesIO()
        self.save(buf)
        return buf.getvalue()

    @classmethod
    def load(cls, source: str | os.PathLike | bytes | IO[bytes]) -> "Denoiser":
        """Load a model file saved by :meth:`save`: config as data, weights only.

        The file is read and validated by :mod:`denoiser.modelfile` (every resource
        bounded before it is spent; the weights' shapes checked from HDF5 metadata
        before any value is read).

        Raises
        ------
        InputError
            if the file is not a Denoiser model, is damaged, too large, or its
            weights do not fit the architecture its config describes; never any
            other exception for a bad file.
        """
        try:
            mf = modelfile.read_model_file(source)
            config = ModelConfig.from_dict(mf.config)
            den = cls(config)
            try:
                den.model_ = build_model(config)
            except Exception as err:  # a config that validates but that Keras cannot build
                raise InputError("This model file describes a network that cannot be built "
                                 f"({modelfile._why(err)}).") from None
            arch = {k: v for k, v in config.to_dict().items() if k not in ("hop", "scaling", "global_offset", "global_scale")}
            modelfile.load_weights(den.model_, mf.weights, json.dumps(arch, sort_keys=True))
        except InputError:
            raise
        except RecursionError:
            raise InputError("This model file is nested too deeply to be a Denoiser model; it is refused.") from None
        except Exception as err:  # last line: a bad file is an InputError, never a traceback
            raise InputError(f"This model file could not be loaded ({modelfile._why(err)}); "
                             "choose a .keras file saved by Denoiser.") from None
        den.history_ = mf.history
        den.test_metrics_ = mf.test_metrics
        den.train_info_ = mf.train_info
        return den


# ------------------------------------------------------------ helpers
def _json_default(obj: Any) -> Any:
    if isinstance(obj, (np.floating, np.integer)):
        return obj.item()
    raise TypeError(f"not JSON-serialisable: {type(obj).__name__}")
