"""Training in the background: one job per session, one training at a time per server.

Why a thread: any ``st.*`` call is a point where a pending rerun (the user touched
a widget) aborts the script, so ``Denoiser.fit`` with a progress callback that
calls ``st.progress`` would be cut short; ``fit`` without ``st.*`` calls would
freeze the page instead. So ``fit`` runs in a ``threading.Thread`` that never
calls ``st.*``: it writes per-epoch logs into its :class:`TrainingJob`, which
lives in the session (``ui.state.Session.job``); the Model page polls the job from a fragment
(``st.fragment(run_every=...)``) and draws the progress. Reruns, other widgets
and page switches do not touch the thread.

Why a queue: two sessions training at once would each get half the CPU and both
crawl, so a process-wide :class:`TrainingQueue` (one ``st.cache_resource``
object) lets one job train at a time, first come first served; the others show
their place in line.

The same job runs a hyperparameter search (``denoiser.search.search``): a job
takes the work to do as a callable (:func:`train_work` or :func:`search_work`),
so both share the thread, the queue, Stop and the hand-over to the session.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import streamlit as st

from denoiser import presets
from denoiser.config import ModelConfig, TrainConfig
from denoiser.errors import InputError
from denoiser.signals import FAMILY_LABELS, training_pairs
from denoiser.text import cut, quoted
from denoiser.windows import bridge_gaps

if TYPE_CHECKING:
    from denoiser.core import Denoiser

log = logging.getLogger(__name__)
PRESET_NAMES = presets.Column("short")  # short names for model lists ("U-Net"), from the presets' records
POLL_SECONDS = 0.2  # how often a queued job looks whether it is its turn
ABANDON_SECONDS = 600  # a job nobody has looked at for this long (tab closed) stops, freeing the queue


@dataclass(frozen=True)
class TrainRequest:
    """What to train, on what data. Built by the Model page's form."""

    model: ModelConfig
    train: TrainConfig
    source: str = "synthetic"  # "synthetic" (family + noise) or "selfsup" (the upload alone)
    family: str = "mixed"
    noise: tuple[str, ...] = ("gaussian",)
    sigma: tuple[float, float] = (0.02, 0.3)  # synthetic: per-signal sigma range
    n_signals: int = 2000
    noise_params: dict[str, float] = field(default_factory=dict)  # noise kinds' parameters (impulse rate)
    series: np.ndarray | None = None  # the uploaded column (its first MAX_TRAIN_SAMPLES), for "selfsup"
    series_name: str = ""
    series_total: int = 0  # samples the whole column has (more than ``series`` when cut)


@dataclass(frozen=True)
class SearchRequest:
    """A hyperparameter search on synthetic signals. Built by the Model page's search form."""

    space: dict  # parameter -> values to try (denoiser.search)
    train: TrainConfig  # epochs per trial, batch size, seed (and the split sizes)
    base: ModelConfig = ModelConfig(filters=8)
    family: str = "mixed"
    noise: tuple[str, ...] = ("gaussian",)
    sigma: tuple[float, float] = (0.02, 0.3)
    n_signals: int = 400
    n_trials: int = 4
    minutes: float = 2.0
    noise_params: dict[str, float] = field(default_factory=dict)

    @property
    def length(self) -> int:
        """Signal length: the largest window searched, so every trial gets whole windows."""
        return max(self.space.get("window") or [self.base.window])


class TrainingQueue:
    """First come, first served: at most ``slots`` jobs train at once in this process."""

    def __init__(self, slots: int = 1) -> None:
        self._slots = threading.BoundedSemaphore(slots)
        self._lock = threading.Lock()
        self._waiting: list[str] = []

    def wait_turn(self, job_id: str, should_stop: Callable[[], bool]) -> bool:
        """Block until this job may train (True), or until it is stopped while waiting (False)."""
        with self._lock:
            self._waiting.append(job_id)
        try:
            while not should_stop():
                with self._lock:  # only the head of the line may take a free slot: keeps the order fair
                    if self._waiting[0] == job_id and self._slots.acquire(blocking=False):
                        return True
                time.sleep(POLL_SECONDS)
            return False
        finally:
            with self._lock:
                self._waiting.remove(job_id)

    def release(self) -> None:
        """Give the slot back: the next queued job may start."""
        self._slots.release()

    def position(self, job_id: str) -> int:
        """1 for the next in line, 0 when the job is not waiting."""
        with self._lock:
            return self._waiting.index(job_id) + 1 if job_id in self._waiting else 0


def training_slots() -> int:
    """Training runs at once on this server: DENOISER_TRAINING_SLOTS (default 1, at most 8).

    One run already uses every core TensorFlow finds; a second only makes both slower,
    so raise it only on a machine with many cores.
    """
    raw = os.environ.get("DENOISER_TRAINING_SLOTS", "1")
    try:
        return min(8, max(1, int(raw)))
    except ValueError:
        log.warning("DENOISER_TRAINING_SLOTS=%r is not a number; using 1", raw)
        return 1


@st.cache_resource(show_spinner=False)
def training_queue() -> TrainingQueue:
    """The one queue of this server process, shared by every session."""
    return TrainingQueue(slots=training_slots())


class TrainingJob:
    """One training run (or search) in a background thread. The thread never calls ``st.*``.

    ``work(job)`` does the run once the job has its slot and returns its result: a
    ``Denoiser`` (training) or a ``SearchResult`` (search); :meth:`model` is the model
    either one yields. By default the work trains the :class:`TrainRequest`.

    The page reads ``status``, ``logs``, ``result`` and ``error``; it writes only
    ``stop`` (an Event the training loop polls after every batch) and calls
    :meth:`seen` whenever it draws the job. A job unseen for ABANDON_SECONDS
    (the user closed the tab) stops like a Stop click, so it cannot hold the
    one training slot for hours.
    """

    def __init__(
        self,
        request: TrainRequest | SearchRequest,
        queue: TrainingQueue,
        work: Callable[[TrainingJob], Any] | None = None,
    ) -> None:
        self.id = uuid.uuid4().hex
        self.request, self.queue = request, queue
        self.kind = "search" if isinstance(request, SearchRequest) else "train"
        self.work = work or (search_work if self.kind == "search" else train_work)
        self.trials: list[dict[str, Any]] = []  # search: one row per finished trial, in run order
        self.stop = threading.Event()
        self.logs: list[dict[str, float]] = []  # appended once per epoch by the thread
        self.status = "queued"  # queued -> preparing -> training -> finished | stopped | failed | cancelled
        self.result: Any = None  # Denoiser, or SearchResult for a search
        self.error: str | None = None
        self.created = time.time()
        self.started: float | None = None  # when training (not queueing) began
        self.ended: float | None = None
        self.adopted = False  # result already handed to the session
        self.name = ""  # the result's name in the session's model list
        self.last_seen = time.time()  # last time a page drew this job
        self.abandoned = False
        self._changed = threading.Condition()  # notified on every epoch, trial and status change
        self.thread = threading.Thread(target=self._run, name=f"denoiser-train-{self.id[:8]}", daemon=True)

    # -------------------------------------------------- the thread
    def start(self) -> TrainingJob:
        """Start the job's thread (it waits in the queue for a slot); returns the job."""
        self.thread.start()
        return self

    def should_stop(self) -> bool:
        """Polled by the queue and after every training batch: a Stop click, or nobody watching."""
        if not self.stop.is_set() and time.time() - self.last_seen > ABANDON_SECONDS:
            self.abandoned = True
            self.stop.set()
        return self.stop.is_set()

    def _run(self) -> None:
        try:
            self._work()
        finally:
            self._notify()

    def _work(self) -> None:
        if not self.queue.wait_turn(self.id, self.should_stop):
            self.status, self.ended = "cancelled", time.time()
            return
        try:
            self.started, self.status = time.time(), "preparing"
            self.result = self.work(self)
            cut = self.kind == "search" and getattr(self.result, "stopped", False)  # time budget
            self.status = "stopped" if self.stop.is_set() or cut else "finished"
        except (InputError, ValueError) as err:  # bad settings for this data: the message is for the user
            self.error, self.status = str(err), "failed"
        except Exception as err:  # noqa: BLE001 -- keep the server alive and tell the user; the log has the traceback
            log.error("training job %s failed:\n%s", self.id, traceback.format_exc())
            self.error, self.status = f"Training failed unexpectedly ({type(err).__name__}: {err}).", "failed"
        finally:
            self.ended = time.time()
            self.queue.release()

    def _on_epoch(self, epoch: int, logs: dict[str, float]) -> None:
        self.logs.append({"epoch": epoch + 1, **logs})
        self._notify()

    def _on_trial(self, index: int, total: int, row: dict[str, Any]) -> None:
        self.trials.append(dict(row))
        self._notify()

    def _notify(self) -> None:
        with self._changed:
            self._changed.notify_all()

    def wait_for(self, predicate: Callable[[], bool], timeout: float | None = None) -> bool:
        """Block until ``predicate()`` holds or the run has ended (woken by each epoch, trial and the end).

        For scripts and tests that follow a run without polling; ``timeout`` only guards against a
        hang. Returns ``predicate()`` at the end.
        """
        with self._changed:
            self._changed.wait_for(lambda: predicate() or not self.thread.is_alive(), timeout)
        return predicate()

    def model(self) -> Denoiser | None:
        """The model this job produced: the trained one, or the search's best (None if none)."""
        return getattr(self.result, "best_", None) if self.kind == "search" else self.result

    # -------------------------------------------------- read by the page
    def seen(self) -> None:
        """The page showed the job just now: it is not abandoned."""
        self.last_seen = time.time()

    @property
    def running(self) -> bool:
        """Whether the job is queued or at work (not ended)."""
        return self.status in ("queued", "preparing", "training")

    @property
    def epochs(self) -> int:
        """Epochs the run may take at most (early stopping may end it sooner)."""
        return self.request.train.epochs

    @property
    def n_trials(self) -> int:
        """Trials a search plans (its budget in trials, at most the grid's size)."""
        req = self.request
        if not isinstance(req, SearchRequest):
            return 0
        planned = getattr(self.result, "n_planned", 0)
        grid = 1
        for values in req.space.values():
            grid *= len(values)
        return planned or min(req.n_trials, grid)

    def position(self) -> int:
        """Place in the queue (1: next), 0 once started."""
        return self.queue.position(self.id) if self.status == "queued" else 0

    def elapsed(self) -> float:
        """Seconds since the job started (to its end once ended); 0 before."""
        if self.started is None:
            return 0.0
        return (self.ended or time.time()) - self.started

    def eta(self) -> float | None:
        """Seconds left if every epoch runs (early stopping may end sooner); None before the first epoch."""
        logs = list(self.logs)
        if not logs:
            return None
        if len(logs) >= 2:  # the first epoch also builds and compiles the graph: leave it out
            per_epoch = (logs[-1]["seconds"] - logs[0]["seconds"]) / (len(logs) - 1)
        else:
            per_epoch = logs[0]["seconds"]
        return per_epoch * max(0, self.epochs - len(logs))

    def best_epoch(self) -> int | None:
        """1-based epoch with the lowest validation loss (the weights kept), None before the first."""
        logs = [r for r in self.logs if r.get("val_loss") is not None]
        return int(min(logs, key=lambda r: r["val_loss"])["epoch"]) if logs else None

    def model_name(self) -> str:
        """How the finished model is listed on the Model page."""
        req = self.request
        if isinstance(req, SearchRequest):
            best = params_text(getattr(self.result, "best_params", {}) or {})
            stamp = time.strftime("%H:%M:%S", time.localtime(self.ended or time.time()))
            return f"Search best: {best} ({stamp})"
        preset = PRESET_NAMES.get(req.model.preset, req.model.preset)
        data = (
            FAMILY_LABELS.get(req.family, req.family).split(" (")[0]
            if req.source == "synthetic"
            else f"'{cut(req.series_name, 40)}' (self-supervised)"
        )
        stamp = time.strftime("%H:%M:%S", time.localtime(self.ended or time.time()))
        return f"{preset} on {data}, {plural(len(self.logs), 'epoch')} ({stamp})"


def train_work(job: TrainingJob) -> Denoiser:
    """A job's work for a TrainRequest: make the data, fit one Denoiser with live epochs and Stop."""
    req = job.request
    assert isinstance(req, TrainRequest)  # TrainingJob picks this work for a TrainRequest only
    noisy, clean, note = training_data(req)
    from denoiser.core import Denoiser  # TensorFlow; already loaded by the bundled models

    job.status = "training"
    if req.source == "selfsup":  # fine-tunes the bundled default, at the request's window
        from dataclasses import replace

        from denoiser.bundled import pretrained

        den = Denoiser(replace(pretrained("default").config, window=req.model.window))
    else:
        den = Denoiser(req.model)
    return den.fit(noisy, clean, req.train, on_epoch=job._on_epoch, should_stop=job.should_stop, data_note=note)


def search_work(job: TrainingJob) -> Any:
    """A job's work for a SearchRequest: synthetic pairs, then ``denoiser.search.search``."""
    req = job.request
    assert isinstance(req, SearchRequest)  # TrainingJob picks this work for a SearchRequest only
    noisy, clean = training_pairs(
        req.family, req.n_signals, req.length, req.noise, req.sigma, rng=req.train.seed, **req.noise_params
    )
    from denoiser.search import search  # TensorFlow

    job.status = "training"
    result = search(
        noisy,
        clean,
        req.space,
        base_config=req.base,
        train=req.train,
        n_trials=req.n_trials,
        budget_seconds=req.minutes * 60,
        on_trial=job._on_trial,
        should_stop=job.should_stop,
    )
    if result.best_ is not None:
        result.best_.train_info_["data"] = (
            f"search over {', '.join(req.space)} on {req.n_signals} synthetic signals ({req.family}, "
            f"noise {'/'.join(req.noise)}, sigma {req.sigma[0]:g}-{req.sigma[1]:g}, length {req.length})"
        )
    return result


def training_data(req: TrainRequest) -> tuple[np.ndarray, np.ndarray | None, str]:
    """Noisy/clean pairs (clean None: self-supervised) and a one-line description, for the request's source."""
    window = req.model.window
    if req.source == "selfsup":
        series = _filled(req.series)
        part = (
            f"the first {series.size:,} of {req.series_total:,} samples"
            if req.series_total > series.size
            else f"{series.size} samples"
        )
        note = (
            f"uploaded column '{cut(req.series_name)}' ({part}), self-supervised "
            "(its own noise) from the bundled default"
        )
        if series.size < 4 * window:
            raise InputError(
                f"The column {quoted(req.series_name)} has {series.size} samples; training on it needs "
                f"at least {4 * window} (4 windows of {window}). Pick a smaller window or train on "
                "synthetic data."
            )
        return series, None, note
    noisy, clean = training_pairs(
        req.family, req.n_signals, window, req.noise, req.sigma, rng=req.train.seed, **req.noise_params
    )
    note = (
        f"{req.family} family, noise {'/'.join(req.noise)}, sigma {req.sigma[0]:g}-{req.sigma[1]:g}, "
        f"{req.n_signals} signals"
    )
    return noisy, clean, note


def _filled(values: np.ndarray | None) -> np.ndarray:
    """The series with gaps bridged linearly: the network trains on finite numbers only."""
    if values is None or np.isfinite(values).sum() < 2:
        raise InputError("The chosen column has fewer than 2 numbers; pick another column or synthetic data.")
    return bridge_gaps(values)


def start_job(request: TrainRequest | SearchRequest) -> TrainingJob:
    """Create this session's job (training or search) and start its thread (it queues if another session trains)."""
    return TrainingJob(request, training_queue()).start()


def take_result(job: TrainingJob | None) -> tuple[str, Denoiser] | None:
    """Once this session's job has ended with a model: its name and the model (None otherwise, or again)."""
    if job is None or job.running or job.adopted:
        return None
    job.adopted = True
    model = job.model()
    if model is None:
        return None
    job.name = job.model_name()
    return job.name, model


def params_text(params: dict[str, Any]) -> str:
    """Searched parameters, short, for people: 'LSTM, window 128, lr 0.003, MSE'."""

    def text(key: str, v: Any) -> str:
        if key == "preset":
            return PRESET_NAMES.get(v, v)
        if key == "loss":
            return str(v).upper()
        name = {"learning_rate": "lr"}.get(key, key.replace("_", " "))
        return f"{name} {v:g}" if isinstance(v, float) else f"{name} {v}"

    return ", ".join(text(k, v) for k, v in params.items())


def plural(n: int, word: str) -> str:
    """'1 epoch', '2 epochs'."""
    return f"{n} {word}{'' if n == 1 else 's'}"


def describe(request: TrainRequest | SearchRequest) -> str:
    """One line about a request, shown while it trains."""
    if isinstance(request, SearchRequest):
        searched = "; ".join(f"{k}: {', '.join(map(str, v))}" for k, v in request.space.items())
        return (
            f"Search over {searched}: up to {request.n_trials} trials of {request.train.epochs} epochs, "
            f"at most {request.minutes:g} min, on {request.n_signals} synthetic signals ({request.family})."
        )
    preset = PRESET_NAMES.get(request.model.preset, request.model.preset)
    data = (
        f"{request.n_signals} synthetic signals ({request.family})"
        if request.source == "synthetic"
        else f"the uploaded column '{cut(request.series_name)}' alone (self-supervised, from the bundled default)"
        + (
            f", its first {request.series.size:,} of {request.series_total:,} samples"
            if request.series is not None and request.series_total > request.series.size
            else ""
        )
    )
    return f"{preset}, window {request.model.window}, up to {request.train.epochs} epochs on {data}."
