"""Speed: training throughput against plain Keras, one-signal latency, a 1M-row CSV through the CLI.

* ``train``: seconds per epoch of the tutorial's ``seed`` network at the tutorial's size
  (56,000 × 150 training windows, 14,000 validation, batch 150, BCE) through
  ``denoiser.train.fit_windows`` and through a plain ``model.compile``/``model.fit`` script on
  the same arrays, in the same process. Epoch 2 is compared (epoch 1 includes tracing).
* ``latency``: ``pretrained("parabola").denoise(x)`` for one 150-point signal with a warm
  model, median of 100; ``model.predict`` and a direct ``model(x)`` call for contrast.
* ``csv``: a 1,000,000-row ``time,value`` CSV through ``python -m denoiser denoise`` under
  ``/usr/bin/time -v`` (wall seconds, peak RSS), and the result compared with denoising the
  same series in 4 overlapping pieces.
"""

from __future__ import annotations

import os
import re
import resource
import subprocess
import time
from typing import Any

import numpy as np

from bench.common import OUT, PY, ROOT, Report, Timer, fixed, log, median_ms

TRAIN_EPOCHS = 2


# ------------------------------------------------------------------ training
def _tutorial_arrays(n_train: int, n_val: int) -> tuple[np.ndarray, ...]:
    """The tutorial's data, min-max scaled per sample; (x_train, y_train, x_val, y_val) as float32 (n, 150)."""
    from denoiser.signals import tutorial_dataset

    noisy, clean = tutorial_dataset(n_train + n_val, 0.05, rng=7)

    def mm(a: np.ndarray) -> np.ndarray:
        lo, hi = a.min(axis=1, keepdims=True), a.max(axis=1, keepdims=True)
        return ((a - lo) / (hi - lo)).astype(np.float32)

    xs, ys = mm(noisy), mm(clean)
    return xs[:n_train], ys[:n_train], xs[n_train:], ys[n_train:]


def _plain(arrays: tuple[np.ndarray, ...]) -> list[float]:
    """A plain Keras script: build, compile('adam', 'binary_crossentropy'), fit on arrays. Epoch-end times."""
    import keras

    from denoiser.config import ModelConfig
    from denoiser.model import build_model

    x, y, xv, yv = arrays
    stamps: list[float] = []

    class Clock(keras.callbacks.Callback):
        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            stamps.append(time.perf_counter())

    keras.utils.set_random_seed(0)
    model = build_model(ModelConfig.tutorial())
    model.compile("adam", "binary_crossentropy")
    t0 = time.perf_counter()
    model.fit(
        x[..., None],
        y[..., None],
        batch_size=150,
        epochs=TRAIN_EPOCHS,
        validation_data=(xv[..., None], yv[..., None]),
        verbose=0,
        callbacks=[Clock()],
    )
    return [t0, *stamps]


def _ours(arrays: tuple[np.ndarray, ...]) -> list[float]:
    """The same network through the package's training loop (tf.data, callbacks, best-weights restore)."""
    import keras

    from denoiser.config import ModelConfig, TrainConfig
    from denoiser.model import build_model
    from denoiser.train import fit_windows

    x, y, xv, yv = arrays
    stamps: list[float] = []
    keras.utils.set_random_seed(0)
    model = build_model(ModelConfig.tutorial())
    t0 = time.perf_counter()
    fit_windows(
        model,
        x,
        y,
        xv,
        yv,
        TrainConfig(epochs=TRAIN_EPOCHS, batch_size=150, loss="bce", weighting="none"),
        on_epoch=lambda epoch, logs: stamps.append(time.perf_counter()),
    )
    return [t0, *stamps]


def training(quick: bool, report: Report) -> None:
    n_train = 10_000 if quick else 56_000
    n_val = n_train // 4
    arrays = _tutorial_arrays(n_train, n_val)
    # plain, ours (quick); plain, ours, ours, plain (full): the ABBA order cancels slow drifts of a shared machine
    order = ["plain", "ours"] if quick else ["plain", "ours", "ours", "plain"]
    runs: dict[str, list[list[float]]] = {"plain": [], "ours": []}
    for name in order:
        log(f"speed: training {name}")
        runs[name].append((_plain if name == "plain" else _ours)(arrays))
    rows = []
    epoch2: dict[str, float] = {}
    for name, label in (("plain", "plain Keras script (arrays)"), ("ours", "denoiser.train.fit_windows (tf.data)")):
        e1 = [r[1] - r[0] for r in runs[name]]
        e2 = [r[2] - r[1] for r in runs[name]]
        epoch2[name] = float(np.mean(e2))
        rows.append(
            [
                label,
                fixed(np.mean(e1)),
                " / ".join(fixed(v) for v in e2),
                fixed(epoch2[name]),
                fixed(n_train / epoch2[name], 0),
            ]
        )
    ratio = epoch2["ours"] / epoch2["plain"]
    report.table(
        f"Speed: training the seed network, {n_train:,} × 150 train + {n_val:,} validation, batch 150, BCE",
        ["pipeline", "epoch 1 s (incl. tracing)", "epoch 2 s (each run)", "epoch 2 s (mean)", "train windows/s"],
        rows,
        f"Ratio ours / plain (epoch 2, incl. validation): {ratio:.3f}. Runs in order {', '.join(order)}.",
    )
    report.target(
        "training s/epoch, ours vs plain Keras (seed net, " + ("10k quick" if quick else "56k") + " × 150)",
        f"{epoch2['ours']:.1f} vs {epoch2['plain']:.1f} s: ratio {ratio:.2f}",
        "ratio ≤ 1.0",
        ratio <= 1.0,
        "" if ratio <= 1.0 else f"{ratio - 1:.0%} slower",
    )


# ------------------------------------------------------------------ latency
def latency(quick: bool, report: Report) -> None:
    import tensorflow as tf

    from denoiser.bundled import pretrained
    from denoiser.signals import add_noise, make_signal

    x = add_noise(make_signal("parabola", 150, 1), "gaussian", sigma=0.1, rng=2)
    rows = []
    result = {}
    for name in ("parabola", "default"):
        den = pretrained(name)
        for _ in range(5):
            den.denoise(x)
        ts = []
        for _ in range(100):
            t0 = time.perf_counter()
            den.denoise(x)
            ts.append(time.perf_counter() - t0)
        result[name] = median_ms(ts)
        rows.append(
            [
                f"pretrained({name!r}).denoise(x), warm",
                100,
                fixed(result[name]),
                fixed(float(np.percentile(ts, 90)) * 1e3),
                fixed(min(ts) * 1e3),
            ]
        )
    model = pretrained("parabola").model_
    batch = tf.constant(((x - x.mean()) / x.std())[None, :, None].astype(np.float32))
    for label, fn, n in (
        ("model.predict(x), warm", lambda: model.predict(batch, verbose=0), 20 if quick else 50),
        ("model(x, training=False), warm", lambda: model(batch, training=False), 50),
    ):
        fn()
        fn()
        ts = []
        for _ in range(n):
            t0 = time.perf_counter()
            fn()
            ts.append(time.perf_counter() - t0)
        rows.append([label, n, fixed(median_ms(ts)), fixed(float(np.percentile(ts, 90)) * 1e3), fixed(min(ts) * 1e3)])
    report.table(
        "Speed: denoising one 150-point signal",
        ["call", "repeats", "median ms", "p90 ms", "min ms"],
        rows,
        "denoise = window, scale, traced network call, unscale, blend; predict/model(x) are the bare network.",
    )
    report.target(
        "one 150-point signal, warm x² network: median of 100",
        f"{result['parabola']:.2f} ms",
        "≤ 5 ms",
        result["parabola"] <= 5.0,
    )


# ------------------------------------------------------------------ CSV through the CLI
def _time_v(cmd: list[str]) -> dict[str, Any]:
    """Run ``cmd`` under /usr/bin/time -v (or measure it from here): wall s, peak RSS MB, stderr."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": str(ROOT)}
    if os.path.exists("/usr/bin/time"):
        t0 = time.perf_counter()
        proc = subprocess.run(["/usr/bin/time", "-v", *cmd], capture_output=True, text=True, cwd=ROOT, env=env)
        outer = time.perf_counter() - t0
        err = proc.stderr
        wall = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)", err)
        rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", err)
        secs = (int(wall.group(1) or 0) * 3600 + int(wall.group(2)) * 60 + float(wall.group(3))) if wall else outer
        return {
            "rc": proc.returncode,
            "wall": secs,
            "rss_mb": int(rss.group(1)) * 1024 / 1e6 if rss else float("nan"),
            "stderr": err,
            "tool": "/usr/bin/time -v",
        }
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=env)
    wall = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {
        "rc": proc.returncode,
        "wall": wall,
        "rss_mb": peak * 1024 / 1e6 if peak > before else float("nan"),
        "stderr": proc.stderr,
        "tool": "getrusage(RUSAGE_CHILDREN)",
    }


def _write_csv(path: os.PathLike, n: int) -> None:
    import pandas as pd

    from denoiser.signals import add_noise, make_signal

    rng = np.random.default_rng(11)
    # a long recording: sums of sines and steps, Gaussian noise, a time axis in seconds
    clean = np.concatenate(
        [
            make_signal(fam, 10_000, rng)
            for fam in ("sines", "square", "chirp", "smooth", "spikes")
            for _ in range(-(-n // 50_000))
        ]
    )[:n]
    noisy = add_noise(clean, "gaussian", sigma=0.1, rng=rng)
    pd.DataFrame({"time": np.arange(n) * 1e-3, "value": noisy}).to_csv(path, index=False, float_format="%.6f")


def _in_pieces(den: Any, x: np.ndarray, pieces: int = 4) -> np.ndarray:
    """Denoise ``x`` in ``pieces`` parts that overlap by 8 windows, keeping each part's middle.

    Part boundaries are multiples of the hop, so every kept sample sees the same windows as in
    one pass over the whole series.
    """
    hop, w, n = den.config.step, den.config.window, x.size
    cuts = [int(round(k * n / pieces / hop)) * hop for k in range(pieces)] + [n]
    overlap = -(-8 * w // hop) * hop
    out = np.empty_like(x)
    for a, b in zip(cuts[:-1], cuts[1:]):
        lo, hi = max(0, a - overlap), min(n, b + overlap)
        out[a:b] = den.denoise(x[lo:hi])[a - lo : b - lo]
    return out


def csv_cli(quick: bool, report: Report) -> None:
    import pandas as pd

    n = 100_000 if quick else 1_000_000
    OUT.mkdir(parents=True, exist_ok=True)
    src, dst = OUT / f"series_{n}.csv", OUT / f"series_{n}_denoised.csv"
    with Timer() as t_write:
        _write_csv(src, n)
    log(f"speed: wrote {src.name} ({src.stat().st_size / 1e6:.1f} MB) in {t_write.s:.1f} s; running the CLI")
    # start-up alone first: it also warms the file cache for the libraries, as on any second run
    startup = _time_v([PY, "-c", "import denoiser.cli, denoiser.io, denoiser.core, denoiser.bundled"])
    run = _time_v([PY, "-m", "denoiser", "denoise", str(src), "-o", str(dst), "--model", "default"])
    inner = re.search(r"rows in ([\d.]+) s", run["stderr"])
    if run["rc"] != 0:
        tail = run["stderr"].strip().splitlines()[-3:]
        report.note(f"The CLI failed (exit {run['rc']}): {' | '.join(tail)}")
        report.target(f"{n:,}-row CSV through the CLI", "n/a", "≤ 10 s, ≤ 1.5 GB", False, "CLI failed")
        return
    rows = [
        ["python -m denoiser denoise (whole run)", fixed(run["wall"]), fixed(run["rss_mb"], 0)],
        ["  of which read + denoise + write (CLI's own clock)", inner.group(1) if inner else "n/a", ""],
        ["python start + import denoiser.cli/io/core/pretrained", fixed(startup["wall"]), fixed(startup["rss_mb"], 0)],
    ]
    report.table(
        f"Speed: {n:,}-row CSV (time,value; {src.stat().st_size / 1e6:.0f} MB) through the CLI, default model",
        ["step", "wall s", "peak RSS MB"],
        rows,
        f"Measured with {run['tool']}.",
    )

    from denoiser.bundled import pretrained
    from denoiser.io import read_series

    x = read_series(src).column("value")
    cli = pd.read_csv(dst, comment="#")["value_denoised"].to_numpy(np.float64)  # what was applied: "#" lines on top
    den = pretrained("default")
    whole = den.denoise(x)
    pieces = _in_pieces(den, x)
    w = den.config.window
    inner_sl = slice(w, n - w)
    d_pieces = float(np.max(np.abs(cli[inner_sl] - pieces[inner_sl])))
    d_pieces_all = float(np.max(np.abs(cli - pieces)))
    d_whole = float(np.max(np.abs(cli - whole)))
    tol = 1e-5 * float(np.std(x))
    report.table(
        "Speed: CLI output vs denoising the same series in Python",
        ["comparison", "max |difference|"],
        [
            ["CLI vs Denoiser.denoise(whole series) in-process", f"{d_whole:.2e}"],
            ["CLI vs 4 pieces overlapping by 8 windows, interior (first/last window excluded)", f"{d_pieces:.2e}"],
            ["CLI vs 4 pieces, every sample", f"{d_pieces_all:.2e}"],
        ],
        f"Series std {np.std(x):.3f}; 'same' means within 1e-5 × std = {tol:.1e} (float32 network).",
    )
    report.target(
        f"{n:,}-row CSV through the CLI: wall time",
        f"{run['wall']:.1f} s" + (f" (inner {inner.group(1)} s)" if inner else ""),
        "≤ 10 s",
        run["wall"] <= 10.0,
        ("quick run: 100k rows only; " if quick else "") + f"start-up + imports {startup['wall']:.1f} s",
    )
    report.target(
        f"{n:,}-row CSV through the CLI: peak memory", f"{run['rss_mb']:.0f} MB", "≤ 1.5 GB", run["rss_mb"] <= 1500.0
    )
    report.target(
        f"{n:,}-row CSV: same result as in 4 pieces", f"max |diff| {d_pieces:.1e}", f"≤ {tol:.0e}", d_pieces <= tol
    )
    for p in (src, dst):
        p.unlink(missing_ok=True)


def run(quick: bool, report: Report, parts: set[str]) -> None:
    for name, fn in (("train", training), ("latency", latency), ("csv", csv_cli)):
        if name in parts:
            try:
                fn(quick, report)
            except Exception as err:  # noqa: BLE001 - keep the other parts' figures
                import traceback

                traceback.print_exc()
                report.target(
                    f"speed/{name} ran", "n/a", "runs to the end", False, f"crashed: {type(err).__name__}: {err}"
                )
