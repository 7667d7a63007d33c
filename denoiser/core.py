"""The Denoiser: window, scale, run the network, unscale, blend -- plus fit, save and load.

(One class, one concept: its methods share the window pipeline and the fitted state, so they
stay together past the ~500-line mark; training loops live in :mod:`denoiser.train`, the file
format in :mod:`denoiser.modelfile`.)

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
from collections.abc import Callable, Iterable
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
from denoiser.modelfile import FORMAT, FORMAT_VERSION, MAX_MODEL_BYTES  # noqa: F401 (public names kept here)
from denoiser.text import cut, quoted
from denoiser.train import (
    MIN_ROWS_FOR_ROW_SPLIT,
    EpochHook,
    StopFlag,
    fit_windows,
    frame_parts,
    make_loss,
    part_hops,
    split_series,
    strategy_for,
)

_CHUNK = 1024  # windows per network call: bounded memory on long series


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
    global_offset_, global_scale_ : float, learned by :meth:`fit` for the global scalings
        (``config.scaling`` "global" / "global-minmax": mean and std, or min and max-min, of
        the noisy training windows); 0 and 1 otherwise. Saved in the model file, never in the config.
    """

    def __init__(self, config: ModelConfig | None = None) -> None:
        self._config_given = config is not None  # fit(init=...) may take a bundled model's architecture
        self.config = config or ModelConfig()
        self.model_: keras.Model | None = None
        self.history_: dict[str, list[float]] = {}
        self.test_metrics_: dict[str, float] = {}
        self.train_info_: dict[str, Any] = {}
        self.global_offset_, self.global_scale_ = 0.0, 1.0
        self._fn = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        state = "fitted" if self.model_ is not None else "not fitted"
        return f"Denoiser({self.config}, {state})"

    # ------------------------------------------------------------ training
    def fit(
        self,
        noisy: np.ndarray,
        clean: np.ndarray | None = None,
        train: TrainConfig | None = None,
        *,
        on_epoch: EpochHook | None = None,
        should_stop: StopFlag | None = None,
        data_note: str = "",
        verbose: int = 0,
    ) -> Denoiser:
        """Train the network on noisy/clean pairs, or on noisy data alone (self-supervised).

        The data is split into train / validation / test *before* it is cut into windows
        (whole signals, or contiguous time ranges of one recording with a gap between
        them; :func:`denoiser.train.split_series`), so no test window overlaps training.

        Without ``clean`` the training is self-supervised (:mod:`denoiser.selfsup`):
        blind-spot masking learns from the noisy recording itself, by default fine-tuning
        the bundled default model (``TrainConfig.selfsup()``: ``init="default"``). With
        ``Denoiser()`` (no config given) the architecture is then the bundled model's.
        Its test figures are ``blind_spot_mse`` (true MSE + noise variance, in
        expectation) and ``neighbour_mse``; pass the fitted Denoiser to
        ``denoiser.denoise(x, model=den)`` for a no-harm check and a gain estimate.

        Parameters
        ----------
        noisy : ndarray, shape (length,) for one recording or (n_signals, length)
        clean : ndarray, same shape as ``noisy``, or None to learn from ``noisy`` alone
        train : TrainConfig; default ``TrainConfig()``, or ``TrainConfig.selfsup()`` without ``clean``
            (a config without ``self_supervised`` is switched to it when ``clean`` is None)
        on_epoch : ``on_epoch(epoch, logs)`` after each epoch (logs: loss, val_loss, seconds)
        should_stop : polled after every batch; True stops training, keeping the best weights
        data_note : a description of the data, kept in the saved model

        Returns
        -------
        self
        """
        blind = clean is None
        train, init = self._prepare_fit(train, blind, "call fit(noisy) without clean")
        noisy, clean = self._training_arrays(noisy, clean)
        w = self.config.window
        parts = split_series(noisy, train, w, rng=np.random.default_rng(train.seed))
        hops = part_hops(w, blind)  # self-supervised: a denser hop on the training part
        x = {k: frame_parts(noisy, parts[k], w, hops[k]) for k in parts}
        y = None if clean is None else {k: frame_parts(clean, parts[k], w, hops[k]) for k in parts}
        self.global_offset_, self.global_scale_ = 0.0, 1.0
        if self.config.uses_global_stats:
            # From the noisy training windows only: validation and test stay unseen, and
            # the same numbers are all that denoise() will have.
            offset, scale = windows.global_stats(x["train"], self.config.scaling)
            self.global_offset_, self.global_scale_ = float(offset), float(scale)

        def scaled(part: str) -> tuple[np.ndarray, np.ndarray | None]:
            offset, scale = self._stats(x[part])
            return (windows.scale(x[part], offset, scale), None if y is None else windows.scale(y[part], offset, scale))

        with np.errstate(over="ignore", invalid="ignore"):  # an overflow is refused just below, with a reason
            (xs_train, ys_train), (xs_val, ys_val) = scaled("train"), scaled("val")
        _check_scaled(xs_train, ys_train, xs_val, ys_val)
        # Seeded weights from a generator of this fit's own, never a process-wide reseed: with
        # several training slots, fits run in parallel threads and must not reseed each other.
        # (Shuffling and masks use op-level seeds in tf.data.)
        # Variables, optimizer and fit under the strategy (train.distribute); the default
        # strategy when None, i.e. one device as before.
        with strategy_for(train.distribute).scope():
            self._start_network(init, train.seed)
            if blind:
                from denoiser import selfsup

                info = selfsup.fit_blind_spot(
                    self.model_, xs_train, xs_val, train, on_epoch=on_epoch, should_stop=should_stop, verbose=verbose
                )
            else:
                assert ys_train is not None and ys_val is not None  # supervised: clean targets exist
                info = fit_windows(
                    self.model_,
                    xs_train,
                    ys_train,
                    xs_val,
                    ys_val,
                    train,
                    on_epoch=on_epoch,
                    should_stop=should_stop,
                    verbose=verbose,
                )
        # The fitted model keeps Keras' training graph alive (~50 MB even for a tiny net) for as
        # long as it lives, and an app session keeps its model: keep a bare copy instead.
        self.model_ = self._finished_network(self.model_, train)
        self.history_ = info.pop("history")
        by = "signals" if noisy.ndim == 2 and len(noisy) >= MIN_ROWS_FOR_ROW_SPLIT else "time"
        self.train_info_ = {
            **info,
            "train_config": train.__dict__.copy(),
            "windows": {k: len(v) for k, v in x.items()},
            "split": by,
            "init": f"bundled '{train.init}' model" if init is not None else "fresh weights",
            "data": data_note,
        }
        if not len(x["test"]):
            self.test_metrics_ = {}
        elif blind:
            from denoiser import selfsup

            self.test_metrics_ = selfsup.blind_spot_metrics(self._plain_frames, x["test"], train.blind_spot)
        else:
            assert y is not None
            self.test_metrics_ = self._window_metrics(x["test"], y["test"])
        return self

    def fit_stream(
        self,
        data: str | os.PathLike | Iterable[str | os.PathLike],
        train: TrainConfig | None = None,
        *,
        columns: Iterable[str] | None = None,
        clean_column: str | None = None,
        shuffle_buffer: int | None = None,
        on_epoch: EpochHook | None = None,
        should_stop: StopFlag | None = None,
        on_skip: Callable[[str, str], None] | None = None,
        data_note: str = "",
        verbose: int = 0,
    ) -> Denoiser:
        """Train on windows streamed from many CSV files (:mod:`denoiser.stream`), one file in memory at a time.

        Every file is read once first (bad files are skipped with a warning that gives the
        reason), then split by ``train.seed``: whole files into train / validation / test
        when there are at least 10, else each series in time as :meth:`fit` splits one
        recording. Each epoch reads the training files again in a new seeded order; windows
        are framed and scaled as in :meth:`fit`, shuffled in a buffer of ``shuffle_buffer``
        windows, so memory is bounded by that buffer and one file, not by the archive.

        Without ``clean_column`` the training is self-supervised (blind-spot masking, as
        ``fit(noisy)``; a config without ``self_supervised`` is switched to it). The
        global scalings' offset and scale come from one more streaming pass over the
        training files.

        Parameters
        ----------
        data : a path or glob pattern (``**`` matches folders at any depth), or several
        train : TrainConfig; default ``TrainConfig.selfsup()``, or ``TrainConfig()`` with ``clean_column``
        columns : the value columns to learn from (every file must have them); default
            every value column of each file, as ``denoise`` on the command line
        clean_column : the column of each file holding the clean version (supervised training)
        shuffle_buffer : windows held for shuffling (default ``denoiser.stream.SHUFFLE_BUFFER``)
        on_epoch, should_stop, data_note, verbose : as :meth:`fit`
        on_skip : ``on_skip(path, reason)`` for every file left out (default: a warning)

        Returns
        -------
        self ; ``train_info_["stream"]`` says how many files were used and skipped, and why
        """
        from denoiser import stream

        blind = clean_column is None
        train, init = self._prepare_fit(train, blind, "leave out clean_column (--clean-column)", "recordings")
        skip = stream.warn_skip if on_skip is None else on_skip
        plan = stream.make_plan(
            data, self.config.window, train, columns=columns, clean_column=clean_column, on_skip=skip
        )
        hops = part_hops(self.config.window, blind)
        self.global_offset_, self.global_scale_ = 0.0, 1.0
        if self.config.uses_global_stats:  # the training files' noisy windows only, as fit()
            self.global_offset_, self.global_scale_ = stream.global_stats(
                plan, self.config.scaling, hops["train"], on_skip=skip
            )
        kw: dict[str, Any] = dict(
            global_offset=self.global_offset_,
            global_scale=self.global_scale_,
            on_skip=skip,
            shuffle_buffer=stream.SHUFFLE_BUFFER if shuffle_buffer is None else shuffle_buffer,
        )
        train_ds, val_ds = (stream.dataset(plan, self.config, train, part, **kw) for part in ("train", "val"))
        # Datasets built outside the strategy's scope, model and fit inside: Keras distributes
        # the batches itself (as TensorFlow's distributed-training guide shows for model.fit).
        with strategy_for(train.distribute).scope():
            self._start_network(init, train.seed)
            info = stream.fit(
                self.model_,
                train_ds,
                val_ds,
                train,
                on_epoch=on_epoch,
                should_stop=should_stop,
                train_steps=stream.steps(plan, self.config, train, "train"),
                val_steps=stream.steps(plan, self.config, train, "val"),
                verbose=verbose,
            )
        self.model_ = self._finished_network(self.model_, train)
        self.history_ = info.pop("history")
        self.train_info_ = {
            **info,
            "train_config": train.__dict__.copy(),
            "windows": {k: plan.n_windows(k, hops[k]) for k in plan.parts},
            "split": plan.split,
            "init": f"bundled '{train.init}' model" if init is not None else "fresh weights",
            "data": cut(data_note, 500),
            "stream": _stream_record(plan, self.config.window, train),
        }
        if blind:
            from denoiser import selfsup

            k = train.blind_spot
            figures = lambda x, y: selfsup.blind_spot_metrics(self._plain_frames, x, k)  # noqa: E731 -- one-line figures, chosen by mode
        else:
            figures = lambda x, y: metrics.report(y, x, self._denoise_frames(x))  # noqa: E731 -- one-line figures, chosen by mode
        self.test_metrics_ = stream.stream_metrics(plan, hops["test"], figures, on_skip=skip)
        return self

    def _start_network(self, init: Denoiser | None, seed: int) -> None:
        """Build the network (inside the caller's strategy scope) with the bundled weights or seeded fresh ones."""
        self.model_ = build_model(self.config)
        if init is not None:
            assert init.model_ is not None  # a loaded bundled model is fitted
            self.model_.set_weights(init.model_.get_weights())
        else:
            seed_weights(self.model_, np.random.default_rng(seed))
        self._fn = None

    def _prepare_fit(
        self, train: TrainConfig | None, blind: bool, drop_clean: str, what: str = "data"
    ) -> tuple[TrainConfig, Denoiser | None]:
        """The training config for a fit with (``blind=False``) or without clean targets, and the start weights.

        Without clean data a fit is self-supervised (the config says so, unweighted); with clean data a
        self-supervised config is a contradiction, refused with ``drop_clean`` as the way out.
        """
        train = train or (TrainConfig.selfsup() if blind else TrainConfig())
        if blind and not train.self_supervised:
            train = train.with_(self_supervised=True, weighting="none")
        if not blind and train.self_supervised:
            raise InputError(
                f"self_supervised=True learns from the noisy {what} alone: {drop_clean}, "
                "or set self_supervised=False to train on the pairs."
            )
        init = self._init_model(train.init)
        if blind:
            self.config = replace(self.config, blind_spot=train.blind_spot)
        return train, init

    def _init_model(self, name: str) -> Denoiser | None:
        """The bundled model whose weights start training (None for fresh weights).

        Without a config of its own this Denoiser takes the bundled model's architecture;
        a given config must describe the same network (its window may differ: the U-Net's
        weights do not depend on it).
        """
        if not name:
            return None
        from denoiser.assets import bundled_path

        src = Denoiser.load(bundled_path(name))
        if not self._config_given:
            self.config = replace(src.config, blind_spot=0)
            return src
        keep = ("window", "hop", "blind_spot")
        mine = {k: v for k, v in self.config.to_dict().items() if k not in keep}
        theirs = {k: v for k, v in src.config.to_dict().items() if k not in keep}
        differ = sorted(k for k in mine if mine[k] != theirs.get(k))
        if differ or (self.config.preset != "unet" and self.config.window != src.config.window):
            what = (
                ", ".join(f"{k} {mine[k]!r} vs {theirs.get(k)!r}" for k in differ)
                or f"window {self.config.window} vs {src.config.window}"
            )
            raise InputError(
                f"init='{name}' starts from the bundled '{name}' model, whose network differs from "
                f"this config ({what}). Use Denoiser() (its architecture), a matching config, "
                "or init='' for fresh weights."
            )
        return src

    def _finished_network(self, model: keras.Model, train: TrainConfig) -> keras.Model:
        """The fitted network as kept (:meth:`_inference_copy`); refused if training left NaN or inf in it.

        A diverged run (a learning rate far too high) ends with weights that turn every input
        into NaN: the Denoiser is left unfitted and the caller gets an InputError saying so.
        """
        bare = self._inference_copy(model, make_loss(train.loss))
        try:
            modelfile.check_finite_weights(bare.get_weights(), "The trained network's")
        except InputError:
            self.model_, self._fn = None, None
            raise
        return bare

    def _inference_copy(self, model: keras.Model, loss: Any) -> keras.Model:
        """The same network and weights without optimizer state or training graphs."""
        bare = build_model(self.config)
        bare.set_weights(model.get_weights())
        bare.compile(loss=loss)  # records the loss it was trained with; builds no graph
        return bare

    def _training_arrays(self, noisy: np.ndarray, clean: np.ndarray | None) -> tuple[np.ndarray, np.ndarray | None]:
        """Training data as float64 arrays, checked: same 1-D or 2-D shape, finite."""
        noisy = np.asarray(noisy, np.float64)
        clean = None if clean is None else np.asarray(clean, np.float64)
        if noisy.ndim not in (1, 2) or (clean is not None and noisy.shape != clean.shape):
            got = f"{noisy.shape}" + ("" if clean is None else f" and {clean.shape}")
            raise InputError(
                f"Training data must be one 1-D recording or a 2-D batch (noisy and clean of the "
                f"same shape); got {got}."
            )
        if not (np.isfinite(noisy).all() and (clean is None or np.isfinite(clean).all())):
            raise InputError("Training data contains NaN or infinite values; fill or drop them first.")
        return noisy, clean

    def _window_metrics(self, x: np.ndarray, y: np.ndarray) -> dict[str, float]:
        """MSE/MAE of noisy and denoised test windows against clean, in the data's units."""
        return metrics.report(y, x, self._denoise_frames(x))

    # ------------------------------------------------------------ inference
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
                self._fn = tf.function(
                    partial(model.__call__, training=False), input_signature=[spec], autograph=False
                )  # no Python control flow to convert
        out = np.empty(scaled.shape, np.float64)
        for i in range(0, len(scaled), _CHUNK):
            batch = scaled[i : i + _CHUNK, :, None].astype(np.float32)
            out[i : i + _CHUNK] = self._fn(batch).numpy()[..., 0]  # type: ignore[misc]  # set just above
        return out

    def _stats(self, frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Offset and scale per window, shape (n, 1): the window's own, or the stored global ones."""
        return windows.window_stats(
            frames, self.config.scaling, global_offset=self.global_offset_, global_scale=self.global_scale_
        )

    def _denoise_frames(self, frames: np.ndarray, invariant: bool | None = None) -> np.ndarray:
        """Denoise windows: plainly, or J-invariantly for a self-supervised model (``config.blind_spot``)."""
        if self.config.blind_spot and invariant is not False:
            from denoiser.selfsup import invariant_frames

            return invariant_frames(self._plain_frames, frames, self.config.blind_spot)
        return self._plain_frames(frames)

    def _plain_frames(self, frames: np.ndarray) -> np.ndarray:
        """Scale each window by noisy statistics (its own or the training split's), denoise, undo the scaling."""
        offset, scale = self._stats(frames)
        out = windows.unscale(self._network(windows.scale(frames, offset, scale)), offset, scale)
        flat = windows.is_flat(frames)
        out[flat] = frames[flat]  # nothing to denoise; the network's biases would add an offset
        return out

    def denoise(self, x: np.ndarray, *, hop: int | None = None, invariant: bool | None = None) -> np.ndarray:
        """Denoise a series (or a batch of series) in its own units.

        Parameters
        ----------
        x : ndarray, shape (length,) or (n_signals, length); any length >= 2, any units.
            NaN/inf samples are bridged for the network and come back as NaN.
        hop : step between windows (default ``config.step``, half a window); 3/4 of a
            window costs half as much for a few hundredths of a dB
        invariant : for a self-supervised model, whether a sample's output leaves its own input out
            (J-invariance, the default: what its blind-spot figures assume). ``False`` uses the
            sample too, as the automatic pipeline does: its risk estimate measures the cost of
            that, and a J-invariant output, which costs nothing in that estimate, would be
            over-trusted wherever the noise level is not known exactly.

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
            done = self._denoise_frames(np.concatenate([frames for frames, _ in framed]), invariant)
            parts = np.split(done, np.cumsum([fr.n_windows for _, fr in framed])[:-1])
            for i, part, (_, fr) in zip(todo, parts, framed):
                out[i] = windows.overlap_add(part, fr)
        out[bad] = np.nan
        return out[0] if x.ndim == 1 else out

    def noise_sigma(self, x: np.ndarray) -> float:
        """The noise level of a recording estimated from this self-supervised model's blind-spot residuals.

        Only for a model with J-invariant inference (``config.blind_spot``, set by
        ``fit(noisy)``); see :func:`denoiser.selfsup.residual_sigma`. An estimate from
        above, tight where part of the recording is predictable from its neighbours; the
        automatic pipeline can take it as ``sigma`` (e.g. the smaller of it and its own
        upper bound).

        Parameters
        ----------
        x : ndarray, shape (length,) -- the recording (NaN allowed: gaps are bridged)

        Returns
        -------
        sigma : float, in the recording's units
        """
        from denoiser.selfsup import residual_sigma

        if not self.config.blind_spot:
            raise InputError("noise_sigma() needs a self-supervised model (blind-spot inference): fit(noisy) first.")
        x = np.asarray(x, np.float64)
        if x.ndim != 1 or np.isfinite(x).sum() < 2:
            raise InputError(f"noise_sigma() takes one 1-D recording with at least 2 numbers; got shape {x.shape}.")
        filled = windows.bridge_gaps(x)
        return residual_sigma(filled, self.denoise(filled))

    def layers(self) -> list[dict[str, Any]]:
        """The architecture as rows: name, kind, output shape, parameters (for tables)."""
        model = self._check_fitted()
        return [
            {
                "layer": layer.name,
                "kind": type(layer).__name__,
                "output shape": str(tuple(layer.output.shape[1:])),
                "parameters": layer.count_params(),
            }
            for layer in model.layers
        ]

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
        probe = keras.Model(model.input, [layer.output for layer in conv])  # one input: called with one tensor
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
            raise InputError(f"Model files end in .keras; got {quoted(os.fspath(path))}.")
        weights = model.get_weights()
        modelfile.check_finite_weights(weights, "This model's")  # its own loader would refuse the file
        # Text in train_info (a column or file name) made as the loader wants it: what saves, loads.
        meta = {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "config": self.config.to_dict(),
            "fitted": {"global_offset": self.global_offset_, "global_scale": self.global_scale_},
            "history": self.history_,
            "test_metrics": self.test_metrics_,
            "train_info": modelfile.storable_train_info(self.train_info_),
        }
        with tempfile.TemporaryDirectory() as tmp:
            archive = Path(tmp) / "model.keras"
            # An uncompiled copy: the file carries weights only, not Adam's state (3x the size).
            bare = build_model(self.config)
            bare.set_weights(weights)
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
    def load(cls, source: str | os.PathLike | bytes | IO[bytes]) -> Denoiser:
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
            except Exception as err:  # noqa: BLE001 -- a config that validates but that Keras cannot build
                raise InputError(
                    f"This model file describes a network that cannot be built ({modelfile._why(err)})."
                ) from None
            arch = {k: v for k, v in config.to_dict().items() if k not in ("hop", "scaling")}
            modelfile.load_weights(den.model_, mf.weights, json.dumps(arch, sort_keys=True))
        except InputError:
            raise
        except RecursionError:
            raise InputError("This model file is nested too deeply to be a Denoiser model; it is refused.") from None
        except Exception as err:  # noqa: BLE001 -- last line: a bad file is an InputError, never a traceback
            raise InputError(
                f"This model file could not be loaded ({modelfile._why(err)}); choose a .keras file saved by Denoiser."
            ) from None
        den.history_ = mf.history
        den.test_metrics_ = mf.test_metrics
        den.train_info_ = mf.train_info
        den.global_offset_, den.global_scale_ = mf.fitted["global_offset"], mf.fitted["global_scale"]
        return den


# ------------------------------------------------------------ helpers
_INITIALISED = {"recurrent_initializer": "recurrent_kernel"}  # where the name is not <x>_initializer -> <x>


def seed_weights(model: keras.Model, rng: np.random.Generator) -> int:
    """Give every randomly initialised weight of ``model`` a value drawn with a seed from ``rng``.

    Each layer's own initializer (Glorot, orthogonal, ...) is rebuilt with an explicit
    seed, so the result depends on ``rng`` alone: no global seed is read or set.
    Constant initialisers (zeros, ones, LSTM's unit forget bias) are left as built.

    Returns
    -------
    int, the number of weights drawn (0 for a model without random initialisers)
    """
    from keras.src.initializers.random_initializers import RandomInitializer

    drawn = 0
    for layer in model._flatten_layers(include_self=False, recursive=True):
        for attr, init in list(vars(layer).items()):
            if not (attr.endswith("_initializer") and isinstance(init, RandomInitializer)):
                continue
            var = getattr(layer, _INITIALISED.get(attr, attr[: -len("_initializer")]), None)
            if not isinstance(var, keras.Variable):
                continue
            seeded = type(init).from_config({**init.get_config(), "seed": int(rng.integers(2**31 - 1))})
            var.assign(seeded(var.shape, dtype=var.dtype))
            drawn += 1
    return drawn


def _check_scaled(*arrays: np.ndarray | None) -> None:
    """Refuse training windows that are not finite after scaling: the network's weights would become NaN.

    The data is finite (checked before), but values near the float limit (e.g. +-1e308) overflow
    when a window's mean and spread are taken; a network trained on the result is all NaN.
    """
    if not all(a is None or np.isfinite(a).all() for a in arrays):
        raise InputError(
            "Training data holds values so large (near +-1e308) that scaling its windows overflows "
            "to infinity; the network would learn nothing but NaN. Divide the data by a large "
            "factor, or drop those values, and train again."
        )


def _stream_record(plan: Any, window: int, train: TrainConfig) -> dict[str, Any]:
    """What a streamed fit read, for ``train_info_`` (bounded and printable: model files check it)."""
    return {
        "files": plan.files,
        "series": len({(s.path, s.column) for part in plan.parts.values() for s in part}),
        "skipped": len(plan.skipped),
        "skipped_files": [cut(f"{p}: {r}", 300) for p, r in plan.skipped[:20]],
        "window": window,
        "seed": train.seed,
    }


def _json_default(obj: Any) -> Any:
    if isinstance(obj, (np.floating, np.integer)):
        return obj.item()
    raise TypeError(f"not JSON-serialisable: {type(obj).__name__}")
