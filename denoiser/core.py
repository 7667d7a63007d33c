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
import warnings
import zipfile
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import IO, Any

import keras
import numpy as np
import tensorflow as tf

from denoiser import metrics, windows
from denoiser.config import ModelConfig, TrainConfig
from denoiser.errors import InputError
from denoiser.model import build_model
from denoiser.train import EpochHook, StopFlag, fit_windows, make_loss, split_indices

FORMAT = "denoiser-model"
FORMAT_VERSION = 1
MAX_MODEL_BYTES = 64 * 1024**2           # a model file larger than this is refused unread
_MEMBERS = {"denoiser.json": 1024**2, "config.json": 4 * 1024**2, "metadata.json": 64 * 1024,
            "model.weights.h5": MAX_MODEL_BYTES}
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

        Raises
        ------
        InputError
            if the file is not a Denoiser model, is damaged, too large, or its
            weights do not fit the architecture its config describes.
        """
        data = _read_limited(source)
        try:
            zf = zipfile.ZipFile(io.BytesIO(data))
            names = zf.namelist()
        except (zipfile.BadZipFile, OSError, ValueError) as err:
            raise InputError("This is not a model file (not a .keras archive, or it is damaged). "
                             "Choose a .keras file saved by Denoiser.") from err
        with zf:
            meta = _read_meta(zf, names)
            config = ModelConfig.from_dict(meta.get("config"))
            den = cls(config)
            try:
                den.model_ = build_model(config)
            except Exception as err:  # a config that validates but that Keras cannot build
                raise InputError(f"This model file describes a network that cannot be built ({err}).") from err
            _load_weights(den.model_, zf)
        den.history_ = _dict_of_floats(meta.get("history"), lists=True)
        den.test_metrics_ = _dict_of_floats(meta.get("test_metrics"))
        den.train_info_ = meta.get("train_info") if isinstance(meta.get("train_info"), dict) else {}
        return den


# ------------------------------------------------------------ helpers
def _json_default(obj: Any) -> Any:
    if isinstance(obj, (np.floating, np.integer)):
        return obj.item()
    raise TypeError(f"not JSON-serialisable: {type(obj).__name__}")


def _read_limited(source: str | os.PathLike | bytes | IO[bytes]) -> bytes:
    """All bytes of a model file, refusing anything larger than MAX_MODEL_BYTES before reading it."""
    too_big = f"The model file is larger than {MAX_MODEL_BYTES // 1024**2} MB; Denoiser models are a few MB at most."
    if isinstance(source, (bytes, bytearray)):
        data = bytes(source)
    elif isinstance(source, (str, os.PathLike)):
        try:
            if os.path.getsize(source) > MAX_MODEL_BYTES:
                raise InputError(too_big)
            data = Path(source).read_bytes()
        except OSError as err:
            raise InputError(f"Cannot read the model file {os.fspath(source)!r}: {err.strerror or err}.") from err
    else:
        data = source.read(MAX_MODEL_BYTES + 1)
    if len(data) > MAX_MODEL_BYTES:
        raise InputError(too_big)
    if not data:
        raise InputError("The model file is empty. Choose a .keras file saved by Denoiser.")
    return data


def _read_meta(zf: zipfile.ZipFile, names: list[str]) -> dict[str, Any]:
    """Check the archive's members and read ``denoiser.json``."""
    odd = [n for n in names if n not in _MEMBERS]
    if odd:
        shown = ", ".join(repr(n) for n in odd[:3])
        raise InputError(f"This .keras file holds unexpected entries ({shown}); it was not saved by Denoiser and is refused.")
    for info in zf.infolist():
        if info.file_size > _MEMBERS[info.filename]:
            raise InputError(f"The entry {info.filename!r} in this model file is too large; the file is refused.")
    if "denoiser.json" not in names:
        raise InputError("This .keras file was not saved by Denoiser (it has no denoiser.json), so it is refused: "
                         "only Denoiser models can be loaded. Train one on the Model page or with `python -m denoiser train`.")
    if "model.weights.h5" not in names:
        raise InputError("This model file has no weights (model.weights.h5 is missing); it is damaged.")
    try:
        meta = json.loads(zf.read("denoiser.json"))
    except (ValueError, zipfile.BadZipFile, OSError, EOFError) as err:
        raise InputError("The model file's denoiser.json is damaged or not valid JSON.") from err
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise InputError("This .keras file's denoiser.json is not a Denoiser model description; the file is refused.")
    if meta.get("version") != FORMAT_VERSION:
        raise InputError(f"This model file has format version {meta.get('version')!r}; this Denoiser reads version {FORMAT_VERSION}.")
    if "config.json" in names:
        _check_keras_config(zf.read("config.json"))
    return meta


_CODE_CLASSES = {"Lambda", "TFOpLambda", "SlicingOpLambda", "function", "__lambda__"}


def _check_keras_config(raw: bytes) -> None:
    """Refuse a Keras config that names code: Lambda layers or classes outside Keras.

    We never deserialise this config (the architecture is rebuilt from our own
    code), but a file that carries one was not written by us and may target
    other tools that do load it; refusing it says so plainly.
    """
    try:
        tree = json.loads(raw)
    except ValueError as err:
        raise InputError("The model file's config.json is damaged or not valid JSON.") from err
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            module, cls = node.get("module"), node.get("class_name")
            if isinstance(module, str) and module and module.split(".")[0] not in ("keras", "builtins"):
                raise InputError(f"This model file refers to code outside Keras (module {module[:60]!r}); it is refused.")
            if cls in _CODE_CLASSES:
                raise InputError(f"This model file contains a {cls} layer, which carries code; it is refused.")
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


def _load_weights(model: keras.Model, zf: zipfile.ZipFile) -> None:
    """Extract the weights to a private temp folder (size-capped) and load them into ``model``."""
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "model.weights.h5"
        try:
            with zf.open("model.weights.h5") as src, open(target, "wb") as dst:
                copied = 0
                while chunk := src.read(1 << 20):
                    copied += len(chunk)
                    if copied > _MEMBERS["model.weights.h5"]:
                        raise InputError("The model's weights are larger than their entry claims; the file is refused.")
                    dst.write(chunk)
            with warnings.catch_warnings():  # Keras warns per missing group before it raises
                warnings.simplefilter("ignore")
                model.load_weights(target)
        except InputError:
            raise
        except Exception as err:  # h5py/Keras raise many types for damaged or mismatched weights
            raise InputError("The model's weights do not match the architecture its configuration describes, "
                             f"or they are damaged ({type(err).__name__}); the file is refused.") from err


def _dict_of_floats(obj: Any, *, lists: bool = False) -> dict:
    """Keep only str -> float (or list of floats) entries of untrusted JSON."""
    if not isinstance(obj, dict):
        return {}
    out: dict = {}
    for k, v in obj.items():
        try:
            out[str(k)] = [float(e) for e in v] if lists else float(v)
        except (TypeError, ValueError):
            continue
    return out
