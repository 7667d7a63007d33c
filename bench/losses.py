"""Loss choice and the LSTM preset on the mixed family.

Same data, same budget for every model: mixed families (sines, chirps, steps,
pulses, smooth curves) in windows of 128 with Gaussian or impulse noise. Each
model is scored on fresh 1,000-sample signals per noise kind: gain in dB over
the noisy input (MSE) and MAE. Impulse noise is where MAE / Huber should pay off.
"""

from __future__ import annotations

import numpy as np

from bench.common import Report, Timer, fixed, log
from denoiser import metrics, signals
from denoiser.config import ModelConfig, TrainConfig
from denoiser.core import Denoiser

NOISES = ("gaussian", "impulse")


def _models() -> list[tuple[str, ModelConfig, str]]:
    unet = ModelConfig(window=128, filters=16, depth=4)
    return [
        ("unet", unet, "mse"),
        ("unet", unet, "mae"),
        ("unet", unet, "huber"),
        ("lstm", ModelConfig.lstm(), "mse"),
        ("lstm", ModelConfig.lstm(), "huber"),
    ]


def run(quick: bool, report: Report) -> None:
    n_train, epochs, n_test = (800, 3, 6) if quick else (4000, 12, 20)
    noisy, clean = signals.training_pairs("mixed", n_train, 128, NOISES, (0.05, 0.3), rng=11)
    rng = np.random.default_rng(12)
    tests = {}
    for noise in NOISES:
        c = signals.make_signals("mixed", n_test, 1000, rng)
        tests[noise] = (c, signals.add_noise(c, noise, sigma=0.15, rng=rng))
    rows, gains = [], {}
    for preset, config, loss in _models():
        train = TrainConfig.for_preset(preset, epochs=epochs, loss=loss, patience=3, seed=0)
        log(f"losses: {preset} / {loss}")
        with Timer() as t:
            den = Denoiser(config).fit(noisy, clean, train)
        row = [preset, loss, fixed(t.s, 1), den.train_info_["epochs_run"]]
        for noise, (c, y) in tests.items():
            out = den.denoise(y)
            g = float(np.mean([metrics.gain_db(a, b, o) for a, b, o in zip(c, y, out)]))
            gains[(preset, loss, noise)] = g
            row += [fixed(g, 2), fixed(metrics.mae(c, out), 4)]
        rows.append(row)
    headers = ["preset", "loss", "fit s", "epochs"] + [f"{n} {m}" for n in NOISES for m in ("gain dB", "MAE")]
    report.table(
        f"Loss choice and LSTM: {n_train} mixed windows of 128, ≤ {epochs} epochs each; "
        f"{n_test} fresh 1,000-sample signals per noise kind at sigma 0.15",
        headers,
        rows,
    )
    best_imp = max(("mse", "mae", "huber"), key=lambda loss: gains[("unet", loss, "impulse")])
    report.target(
        "impulse noise: best loss for the U-Net",
        best_imp,
        "MAE/Huber ≥ MSE (report)",
        None,
        ", ".join(f"{loss} {gains[('unet', loss, 'impulse')]:.2f} dB" for loss in ("mse", "mae", "huber")),
    )
    report.target(
        "LSTM vs U-Net, same data and budget (gaussian / impulse gain)",
        f"{gains[('lstm', 'mse', 'gaussian')]:.2f} / {gains[('lstm', 'mse', 'impulse')]:.2f} dB vs "
        f"{gains[('unet', 'mse', 'gaussian')]:.2f} / {gains[('unet', 'mse', 'impulse')]:.2f} dB",
        "report",
        None,
    )
