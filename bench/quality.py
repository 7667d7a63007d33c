"""Quality: every method on exactly the same seeded noisy signals, against the clean ones.

Sets
----
* ``x2``: the tutorial's distribution (y = x² on its 150-point grid), Gaussian sigma 0.05/0.1/0.2;
* ``parabola``: y = a·(x−b)²+c, a∈[0.5,2], b∈[−0.3,0.5], c∈[−0.2,0.2], same sigmas;
* ``mixed``: sines / chirp / square / spikes / smooth × gaussian / impulse / pink noise ×
  lengths 150 / 1,000 / 10,000, noise sigma drawn per signal log-uniformly in [0.02, 0.3].

Methods
-------
noisy input; the app's x² network (``pretrained("parabola")``, parabola sets only); the general
default (``pretrained("default")``); the tutorial's ``seed`` network trained exactly as the tutorial
trains it and inverted with the noisy sample's own min/max; the default architecture trained
"in-app" with quick settings under a 60 s budget; Savitzky-Golay and moving average with windows
tuned on a separate tuning set; wavelet shrinkage (BayesShrink, untuned); and for the parabola
sets the limit, a least-squares quadratic per signal.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from bench.common import Report, Timer, fixed, log
from denoiser import classical
from denoiser.signals import MIXED, add_noise, make_signals, training_pairs, tutorial_dataset, x_grid

SIGMAS = (0.05, 0.1, 0.2)
MIXED_NOISES = ("gaussian", "impulse", "pink")
MIXED_SIGMA = (0.02, 0.3)
SEED = 4


@dataclass(frozen=True)
class Settings:
    n_test: int  # test signals per (family, sigma)
    n_tune: int  # tuning signals per (family, sigma), for the classical windows
    tutorial_samples: int  # the tutorial's data set size (it uses 100k)
    tutorial_epochs: int
    app_signals: int  # "in-app quick training": parabola training pairs
    app_epochs: int
    app_patience: int
    app_budget_s: float  # training stops when this many seconds have passed
    mixed_counts: tuple[tuple[int, int], ...]  # (length, test signals per kind and noise)
    mixed_tune: tuple[tuple[int, int], ...]  # (length, tuning signals per kind and noise)


FULL = Settings(
    2000,
    500,
    100_000,
    5,
    6000,
    15,
    3,
    60.0,
    ((150, 200), (1000, 50), (10_000, 5)),
    ((150, 60), (1000, 15), (10_000, 3)),
)
QUICK = Settings(
    200, 100, 10_000, 1, 6000, 15, 3, 60.0, ((150, 40), (1000, 10), (10_000, 2)), ((150, 30), (1000, 8), (10_000, 2))
)

NOISY, SPEC, DEFAULT, SEEDNET, APP = (
    "Noisy input",
    "x² network (pretrained parabola)",
    "Default model (pretrained default)",
    "Tutorial seed net (honest inverse)",
    "Quick in-app training",
)
SG, MA, WAV, LIMIT = "Savitzky-Golay (tuned)", "Moving average (tuned)", "Wavelet BayesShrink", "Limit: LSQ quadratic"


# ------------------------------------------------------------------ helpers
def batch_denoise(den: Any, x: np.ndarray) -> np.ndarray:
    """Denoise a batch of signals (n, length) with the public API: ``Denoiser.denoise`` frames
    every row and sends all windows through the network in one batched pass."""
    return den.denoise(np.asarray(x, dtype=np.float64))


def per_signal(clean: np.ndarray, est: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-signal MSE and MAE."""
    d = est - clean
    return np.mean(d**2, axis=1), np.mean(np.abs(d), axis=1)


def polyfit_limit(noisy: np.ndarray) -> np.ndarray:
    """Least-squares quadratic per signal (np.polyfit, deg 2), evaluated on the grid."""
    x = x_grid(noisy.shape[1])
    coef = np.polyfit(x, noisy.T, 2)  # (3, n)
    return (np.vander(x, 3) @ coef).T


def rows_apply(fn: Callable[[np.ndarray], np.ndarray], x: np.ndarray) -> np.ndarray:
    return np.stack([fn(r) for r in x])


def gain(mse_noisy: float, mse_est: float) -> float:
    return float(10 * np.log10(mse_noisy / mse_est)) if mse_est > 0 else float("inf")


def rng_for(*tags: int) -> np.random.Generator:
    return np.random.default_rng([SEED, *tags])


# ------------------------------------------------------------------ the trained comparison networks
def train_tutorial(s: Settings, report: Report) -> Any:
    """The tutorial's seed network, trained the tutorial's way, wrapped for honest use.

    100k copies of x² + N(0, 0.05²); each sample min-max scaled to [0, 1] on its own
    (noisy by its min/max, clean by its min/max); first 70 % train, validation_split 0.2;
    Adam, binary cross-entropy, 5 epochs, batch 150. At use time the only inverse
    available is the noisy sample's own min/max: a ``Denoiser`` with the tutorial config
    (min-max scaling from the noisy window) does exactly that.
    """
    import keras

    from denoiser.config import ModelConfig
    from denoiser.core import Denoiser
    from denoiser.model import build_model

    noisy, clean = tutorial_dataset(s.tutorial_samples, 0.05, rng=rng_for(90))

    def mm(a: np.ndarray) -> np.ndarray:
        lo, hi = a.min(axis=1, keepdims=True), a.max(axis=1, keepdims=True)
        return ((a - lo) / (hi - lo)).astype(np.float32)[..., None]

    xs, ys = mm(noisy), mm(clean)
    del noisy, clean
    n_train = int(0.7 * len(xs))
    keras.utils.set_random_seed(0)
    model = build_model(ModelConfig.tutorial())
    model.compile(optimizer="adam", loss="binary_crossentropy")
    with Timer() as t:
        hist = model.fit(
            xs[:n_train], ys[:n_train], epochs=s.tutorial_epochs, batch_size=150, validation_split=0.2, verbose=0
        )
    test_bce = float(model.evaluate(xs[n_train:], ys[n_train:], batch_size=1000, verbose=0))
    report.note(
        f"Tutorial seed network: {s.tutorial_samples:,} samples, {s.tutorial_epochs} epoch(s) in {t.s:.0f} s; "
        f"val BCE {hist.history['val_loss'][-1]:.4f}, test BCE (last 30 %, scaled) {test_bce:.4f} "
        "(the article reports 0.3556; the exact quadratic scores ~0.357)."
    )
    den = Denoiser(ModelConfig.tutorial())
    den.model_ = model
    return den


def train_in_app(s: Settings, report: Report) -> tuple[Any, dict[str, Any]]:
    """The default architecture trained with quick settings, as the app's Model page would, within a budget."""
    from denoiser.config import ModelConfig, TrainConfig
    from denoiser.core import Denoiser

    noisy, clean = training_pairs("parabola", s.app_signals, 150, "gaussian", (0.02, 0.3), rng=rng_for(91))
    cfg = ModelConfig(window=150, filters=8, depth=4)
    train = TrainConfig(epochs=s.app_epochs, patience=s.app_patience, seed=0)
    t0 = time.perf_counter()
    den = Denoiser(cfg).fit(noisy, clean, train, should_stop=lambda: time.perf_counter() - t0 > s.app_budget_s)
    seconds = time.perf_counter() - t0
    info = {
        "seconds": seconds,
        "epochs": den.train_info_.get("epochs_run"),
        "best_epoch": den.train_info_.get("best_epoch"),
        "stopped": den.train_info_.get("stopped_by_user"),
        "signals": s.app_signals,
    }
    report.note(
        f"Quick in-app training: U-Net filters 8, depth 4, window 150 on {s.app_signals:,} parabola pairs "
        f"(sigma 0.02-0.3), up to {s.app_epochs} epochs, patience {s.app_patience}, budget {s.app_budget_s:.0f} s: "
        f"{info['epochs']} epochs in {seconds:.1f} s (best epoch {info['best_epoch']}"
        f"{', stopped by the time budget' if info['stopped'] else ''})."
    )
    return den, info


# ------------------------------------------------------------------ parabola sets
def parabola_sets(
    s: Settings, nets: dict[str, Any], report: Report
) -> dict[str, dict[float, dict[str, tuple[float, float]]]]:
    """MSE/MAE of every method on the x² and parabola sets; returns results[family][sigma][method]."""
    results: dict[str, dict[float, dict[str, tuple[float, float]]]] = {}
    windows_used: dict[str, list[str]] = {"savgol": [], "moving_average": []}
    for fi, family in enumerate(("x2", "parabola")):
        results[family] = {}
        for sigma in SIGMAS:
            code = int(sigma * 1000)
            clean = make_signals(family, s.n_test, 150, rng_for(1, fi, code, 0))
            noisy = add_noise(clean, "gaussian", sigma=sigma, rng=rng_for(1, fi, code, 1))
            t_clean = make_signals(family, s.n_tune, 150, rng_for(2, fi, code, 0))
            t_noisy = add_noise(t_clean, "gaussian", sigma=sigma, rng=rng_for(2, fi, code, 1))
            w_sg = classical.tune("savgol", t_noisy, t_clean)
            w_ma = classical.tune("moving_average", t_noisy, t_clean)
            windows_used["savgol"].append(f"{family} σ{sigma}: {w_sg}")
            windows_used["moving_average"].append(f"{family} σ{sigma}: {w_ma}")
            est = {NOISY: noisy}
            for name, den in nets.items():
                if den is not None:
                    est[name] = batch_denoise(den, noisy)
            est[SG] = rows_apply(lambda r, w=w_sg: classical.savgol(r, w), noisy)
            est[MA] = rows_apply(lambda r, w=w_ma: classical.moving_average(r, w), noisy)
            est[WAV] = rows_apply(classical.wavelet, noisy)
            est[LIMIT] = polyfit_limit(noisy)
            results[family][sigma] = {k: tuple(float(np.mean(m)) for m in per_signal(clean, v)) for k, v in est.items()}
            log(f"quality: {family} sigma {sigma} done")
    for family, label in (("x2", "x² (the tutorial's distribution)"), ("parabola", "parabola family a·(x−b)²+c")):
        methods = list(results[family][SIGMAS[0]])
        headers = ["method"]
        for sigma in SIGMAS:
            headers += [f"MSE σ{sigma}", f"MAE σ{sigma}", f"×lim σ{sigma}", f"dB σ{sigma}"]
        rows = []
        for m in methods:
            row: list[Any] = [m]
            for sigma in SIGMAS:
                r = results[family][sigma]
                row += [r[m][0], r[m][1], fixed(r[m][0] / r[LIMIT][0]), fixed(gain(r[NOISY][0], r[m][0]))]
            rows.append(row)
        report.table(
            f"Quality: {label}, {s.n_test:,} test signals per sigma, Gaussian noise",
            headers,
            rows,
            "×lim = MSE / MSE of the per-signal least-squares quadratic (the limit); dB = gain over the noisy input.",
        )
    report.note(
        "Tuned windows (on a separate tuning set of "
        f"{s.n_tune} signals per set): Savitzky-Golay (order 2) {', '.join(windows_used['savgol'])}; "
        f"moving average {', '.join(windows_used['moving_average'])}."
    )
    return results


# ------------------------------------------------------------------ mixed family
SANE_MAX = 50.0  # clean signals of the mixed families have amplitudes of order 1


def _sane(noisy: np.ndarray, clean: np.ndarray, dropped: dict[str, int], cell: str) -> tuple[np.ndarray, np.ndarray]:
    """Drop signals whose clean values are absurd (a generator fault, not a denoising problem), counting them."""
    keep = np.abs(clean).max(axis=1) <= SANE_MAX
    if not keep.all() and cell:
        dropped[cell] = int((~keep).sum())
    if not keep.any():
        return noisy, clean  # nothing sane to keep: measure what there is
    return noisy[keep], clean[keep]


def mixed_set(s: Settings, nets: dict[str, Any], report: Report) -> dict[str, Any]:
    """Per-signal MSE/MAE of every method on the mixed family."""
    recs: list[dict[str, Any]] = []  # one per (kind, noise, length) cell
    dropped: dict[str, int] = {}
    for ki, kind in enumerate(MIXED):
        for ni, noise in enumerate(MIXED_NOISES):
            for li, (length, n) in enumerate(s.mixed_counts):
                n_tune = dict(s.mixed_tune)[length]
                noisy, clean = _sane(
                    *training_pairs(kind, n, length, noise, MIXED_SIGMA, rng=rng_for(3, ki, ni, li)),
                    dropped,
                    f"{kind}/{noise}/{length}",
                )
                t_noisy, t_clean = _sane(
                    *training_pairs(kind, n_tune, length, noise, MIXED_SIGMA, rng=rng_for(4, ki, ni, li)), {}, ""
                )
                w_sg = classical.tune("savgol", t_noisy, t_clean)
                w_ma = classical.tune("moving_average", t_noisy, t_clean)
                est = {NOISY: noisy}
                for name, den in nets.items():
                    if den is not None and name != SPEC:
                        est[name] = batch_denoise(den, noisy)
                est[SG] = rows_apply(lambda r, w=w_sg: classical.savgol(r, w), noisy)
                est[MA] = rows_apply(lambda r, w=w_ma: classical.moving_average(r, w), noisy)
                est[WAV] = rows_apply(classical.wavelet, noisy)
                mse = {k: per_signal(clean, v)[0] for k, v in est.items()}
                mae = {k: per_signal(clean, v)[1] for k, v in est.items()}
                recs.append(
                    {
                        "kind": kind,
                        "noise": noise,
                        "length": length,
                        "n": n,
                        "mse": mse,
                        "mae": mae,
                        "windows": (w_sg, w_ma),
                    }
                )
        log(f"quality: mixed {kind} done")
    if dropped:
        report.note(
            f"Dropped {sum(dropped.values())} degenerate test signals (clean |value| > {SANE_MAX:g}: "
            "denoiser.signals made a huge constant offset) from cells "
            + ", ".join(f"{k} ({v})" for k, v in dropped.items())
            + "."
        )
    methods = [m for m in recs[0]["mse"] if m != NOISY]

    def db(rec: dict[str, Any], m: str) -> np.ndarray:
        return 10 * np.log10(rec["mse"][NOISY] / rec["mse"][m])

    def mean_db(sel: list[dict[str, Any]], m: str) -> float:
        return float(np.mean(np.concatenate([db(r, m) for r in sel])))

    per_kind = {k: {m: mean_db([r for r in recs if r["kind"] == k], m) for m in methods} for k in MIXED}
    average = {m: float(np.mean([per_kind[k][m] for k in MIXED])) for m in methods}
    rows = [[k, *[fixed(per_kind[k][m]) for m in methods]] for k in MIXED]
    rows.append(["average", *[fixed(average[m]) for m in methods]])
    counts = ", ".join(f"{n}×{length}" for length, n in s.mixed_counts)
    report.table(
        f"Quality: mixed family, gain in dB over the noisy input (mean of per-signal gains; per kind: "
        f"{len(MIXED_NOISES)} noises × signals of length {counts})",
        ["kind", *methods],
        rows,
        f"Noise sigma per signal log-uniform in {MIXED_SIGMA}; noise kinds {', '.join(MIXED_NOISES)}.",
    )

    # pooled MSE / MAE per method
    pooled = []
    all_noisy = np.concatenate([r["mse"][NOISY] for r in recs])
    for m in [NOISY, *methods]:
        mse_all = np.concatenate([r["mse"][m] for r in recs])
        mae_all = np.concatenate([r["mae"][m] for r in recs])
        worse = float(np.mean(10 * np.log10(all_noisy / mse_all) < -0.5)) if m != NOISY else 0.0
        pooled.append(
            [
                m,
                float(mse_all.mean()),
                float(mae_all.mean()),
                fixed(gain(all_noisy.mean(), mse_all.mean())),
                f"{100 * worse:.1f}%",
            ]
        )
    report.table(
        "Quality: mixed family, all signals pooled",
        ["method", "MSE", "MAE", "dB (pooled MSE)", "signals > 0.5 dB worse than noisy"],
        pooled,
    )

    # default vs the classical baselines in every cell
    cell_rows = []
    for kind in MIXED:
        for noise in MIXED_NOISES:
            row: list[Any] = [kind, noise]
            for length, _ in s.mixed_counts:
                r = next(r for r in recs if (r["kind"], r["noise"], r["length"]) == (kind, noise, length))
                row.append(" / ".join(fixed(float(np.mean(db(r, m))), 1) for m in (DEFAULT, SG, WAV)))
            cell_rows.append(row)
    report.table(
        "Quality: mixed family per cell, gain dB: default / Savitzky-Golay / wavelet",
        ["kind", "noise", *[f"length {length}" for length, _ in s.mixed_counts]],
        cell_rows,
    )
    worst = min((float(np.mean(db(r, DEFAULT))), f"{r['kind']}/{r['noise']}/{r['length']}") for r in recs)
    return {"per_kind": per_kind, "average": average, "worst_cell": worst}


# ------------------------------------------------------------------ targets
def _over(worst: float, goal: float) -> str:
    """How far a ratio misses its goal ('' when it does not)."""
    if worst <= goal:
        return ""
    excess = worst / goal - 1
    return (
        f"worst {worst:.2f}×: {excess:.0%} over the goal"
        if excess < 1
        else f"worst {worst:.2f}×: {worst / goal:.1f}× the goal"
    )


def judge(report: Report, para: dict[str, Any], mixed: dict[str, Any] | None, app_info: dict[str, Any] | None) -> None:
    def ratios(family: str, m: str) -> list[float]:
        return [para[family][sg][m][0] / para[family][sg][LIMIT][0] for sg in SIGMAS]

    def show(r: list[float]) -> str:
        return " / ".join(f"{v:.2f}" for v in r) + " (σ " + " / ".join(str(sg) for sg in SIGMAS) + ")"

    fam_label = {"x2": "x² set", "parabola": "parabola set"}
    if SPEC in para["x2"][SIGMAS[0]]:
        for fam in ("x2", "parabola"):
            r = ratios(fam, SPEC)
            report.target(
                f"x² network (app, specialist) MSE/limit on the {fam_label[fam]}",
                show(r),
                "≤ 1.3× at every sigma",
                max(r) <= 1.3,
                _over(max(r), 1.3),
            )
    else:
        report.target(
            "x² network (app, specialist) MSE/limit",
            "n/a",
            "≤ 1.3× at every sigma",
            None,
            "pretrained('parabola') not available",
        )
    if DEFAULT in para["x2"][SIGMAS[0]]:
        for fam in ("x2", "parabola"):
            r = ratios(fam, DEFAULT)
            report.target(
                f"default model MSE/limit on the {fam_label[fam]}",
                show(r),
                "goal ≤ 2× (report)",
                max(r) <= 2.0,
                _over(max(r), 2.0),
            )
    if APP in para["parabola"][SIGMAS[0]] and app_info:
        r = ratios("parabola", APP)
        report.target(
            "quick in-app training MSE/limit on the parabola set",
            show(r),
            "≤ 2× at every sigma",
            max(r) <= 2.0,
            f"{app_info['signals']:,} signals, {app_info['epochs']} epochs in "
            f"{app_info['seconds']:.0f} s; " + _over(max(r), 2.0),
        )
        report.target(
            "quick in-app training time (2 cores)",
            f"{app_info['seconds']:.1f} s",
            "≤ 60 s",
            app_info["seconds"] <= 60.0 + 2.0,
            "includes windowing and the test-split metrics",
        )
    if SEEDNET in para["x2"][SIGMAS[0]]:
        r = ratios("x2", SEEDNET) + ratios("parabola", SEEDNET)
        g = gain(para["x2"][0.05][NOISY][0], para["x2"][0.05][SEEDNET][0])
        report.target(
            "tutorial seed network, honest inverse: MSE/limit (both sets)",
            f"{min(r):.0f}-{max(r):.0f}×; x² σ0.05 gain {g:+.2f} dB",
            "(reference: 23-280×)",
            None,
        )
    if mixed:
        pk, avg = mixed["per_kind"], mixed["average"]
        for base in (SG, WAV):
            report.target(
                f"default model vs {base.split(' (')[0]} on the mixed family, average gain",
                f"{avg[DEFAULT]:.2f} vs {avg[base]:.2f} dB",
                "higher",
                avg[DEFAULT] > avg[base],
            )
        wins = [k for k in MIXED if pk[k][DEFAULT] > pk[k][SG] and pk[k][DEFAULT] > pk[k][WAV]]
        report.target(
            "default model beats both on most mixed kinds",
            f"{len(wins)}/{len(MIXED)} kinds",
            f"> {len(MIXED) // 2} of {len(MIXED)}",
            len(wins) > len(MIXED) // 2,
            "loses on: " + ", ".join(k for k in MIXED if k not in wins) if len(wins) < len(MIXED) else "",
        )
        worst_kind = min(MIXED, key=lambda k: pk[k][DEFAULT])
        harmful = [k for k in MIXED if pk[k][DEFAULT] < -0.5]
        report.target(
            "default model never > 0.5 dB below the noisy input on any mixed kind",
            f"worst kind {worst_kind} {pk[worst_kind][DEFAULT]:+.2f} dB",
            "≥ −0.5 dB per kind",
            not harmful,
            (f"flagged: {', '.join(harmful)}; " if harmful else "")
            + f"worst cell {mixed['worst_cell'][1]} {mixed['worst_cell'][0]:+.2f} dB",
        )


# ------------------------------------------------------------------ entry
def run(quick: bool, report: Report) -> None:
    s = QUICK if quick else FULL
    from denoiser.bundled import pretrained

    nets: dict[str, Any] = {}
    for key, name in ((SPEC, "parabola"), (DEFAULT, "default")):
        try:
            nets[key] = pretrained(name)
        except Exception as err:  # noqa: BLE001 - a missing model file is reported, the rest still runs
            report.note(f"pretrained({name!r}) unavailable: {err}")
            nets[key] = None
    log("quality: training the tutorial's seed network")
    nets[SEEDNET] = train_tutorial(s, report)
    log("quality: quick in-app training")
    nets[APP], app_info = train_in_app(s, report)

    # batch_denoise must be what Denoiser.denoise does: check on a few rows of each length
    probe = make_signals("smooth", 3, 1000, rng_for(99)) + 0.1
    probe150 = make_signals("parabola", 3, 150, rng_for(98))
    diffs = [
        float(np.max(np.abs(batch_denoise(d, p) - d.denoise(p))))
        for d in nets.values()
        if d is not None
        for p in (probe, probe150)
    ]
    report.note(
        f"Check: batched evaluation vs Denoiser.denoise row by row, max abs difference {max(diffs):.1e} "
        "(float32 network; batch size changes oneDNN's summation order)."
    )

    para = parabola_sets(s, nets, report)
    mixed = mixed_set(s, nets, report) if nets.get(DEFAULT) is not None else None
    judge(report, para, mixed, app_info)
