"""Write the sample CSVs in assets/samples/ (seeded: the same files every time).

    python assets/make_samples.py

Each sample shows a different side of the Upload page:

* ``x2_tutorial.csv``   -- the tutorial's x² with Gaussian noise, plus the clean curve
                           (so Compare can score the result).
* ``two_sensors.csv``   -- a time column in seconds, two noisy channels (sines with
                           white noise, steps with impulse spikes) and their clean versions.
* ``temperature_semicolon.csv`` -- a European spreadsheet export: semicolons, decimal
                           commas, timestamps, a metadata line, a few gaps; no clean
                           reference (the real-data case).
* ``eeg_two_rates.edf`` -- an EDF+ recording as an amplifier saves it: two EEG channels at
                           256 Hz (alpha rhythm, 50 Hz hum, noise) in microvolts and a skin
                           temperature at 1 Hz: two rate groups to choose from, an annotation.
* ``vibration.wav``     -- a 16-bit stereo WAV at 8 kHz from a DAQ front-end: a machine's
                           hum and harmonics with broadband noise.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from denoiser.signals import add_noise, make_signal, x_grid

OUT = Path(__file__).resolve().parent / "samples"


def x2_tutorial(rng: np.random.Generator) -> pd.DataFrame:
    clean = make_signal("x2", 150)
    return pd.DataFrame({"x": x_grid(150), "noisy": add_noise(clean, "gaussian", sigma=0.05, rng=rng), "clean": clean})


def two_sensors(rng: np.random.Generator) -> pd.DataFrame:
    n = 2000
    clean_a = make_signal("sines", n, rng)
    clean_b = make_signal("square", n, rng)
    return pd.DataFrame(
        {
            "time_s": np.arange(n) / 100.0,  # 100 Hz
            "sensor_a": add_noise(clean_a, "gaussian", sigma=0.15, rng=rng),
            "sensor_b": add_noise(clean_b, "impulse", sigma=0.2, rng=rng, rate=0.03),
            "clean_a": clean_a,
            "clean_b": clean_b,
        }
    )


def temperature(rng: np.random.Generator) -> pd.DataFrame:
    n = 1440  # one day, one reading per minute
    minutes = np.arange(n)
    daily = 18 + 4 * np.sin(2 * np.pi * (minutes - 540) / n)  # warmest mid-afternoon
    reading = add_noise(daily, "pink", sigma=0.3, rng=rng)
    reading[rng.choice(n, 12, replace=False)] = np.nan  # a flaky sensor drops a few readings
    times = pd.date_range("2024-03-01 00:00", periods=n, freq="min")
    return pd.DataFrame({"timestamp": times.strftime("%Y-%m-%d %H:%M"), "temperature_C": reading})


def eeg_two_rates(rng: np.random.Generator) -> bytes:
    import io

    import edfio

    seconds = 30
    t = np.arange(seconds * 256) / 256
    alpha = 20 * np.sin(2 * np.pi * 10 * t) * (1 + 0.5 * np.sin(2 * np.pi * t / 7))
    channels = [alpha + 5 * np.sin(2 * np.pi * 50 * t) + 8 * rng.standard_normal(t.size) for _ in range(2)]
    temp = 33.5 + 0.2 * np.sin(np.arange(seconds) / 5) + 0.02 * rng.standard_normal(seconds)
    rec = edfio.Edf(
        [
            edfio.EdfSignal(channels[0], 256, label="EEG O1", physical_dimension="uV"),
            edfio.EdfSignal(channels[1], 256, label="EEG O2", physical_dimension="uV"),
            edfio.EdfSignal(temp, 1, label="Temp skin", physical_dimension="degC"),
        ],
        annotations=[edfio.EdfAnnotation(10.0, None, "eyes closed")],
    )
    buffer = io.BytesIO()
    rec.write(buffer)
    return buffer.getvalue()


def vibration(rng: np.random.Generator) -> bytes:
    import io

    import soundfile as sf

    t = np.arange(2 * 8000) / 8000
    hum = 0.3 * np.sin(2 * np.pi * 60 * t) + 0.1 * np.sin(2 * np.pi * 180 * t)
    left = hum + 0.08 * rng.standard_normal(t.size)
    right = 0.5 * hum + 0.08 * rng.standard_normal(t.size)
    buffer = io.BytesIO()
    sf.write(buffer, np.rint(np.stack([left, right], 1) * 20000).astype(np.int16), 8000, subtype="PCM_16", format="WAV")
    return buffer.getvalue()


def main() -> None:
    OUT.mkdir(exist_ok=True)
    rng = np.random.default_rng(2024)
    x2_tutorial(rng).to_csv(OUT / "x2_tutorial.csv", index=False, float_format="%.6f")
    two_sensors(rng).to_csv(OUT / "two_sensors.csv", index=False, float_format="%.5f")
    with open(OUT / "temperature_semicolon.csv", "w", encoding="utf-8", newline="") as fh:
        fh.write("# Logger 7, greenhouse north; exported 2024-03-02\n")
        temperature(rng).to_csv(fh, sep=";", decimal=",", index=False, float_format="%.3f", na_rep="")
    other = np.random.default_rng(22)  # its own stream: the CSVs above stay byte for byte as they were
    (OUT / "eeg_two_rates.edf").write_bytes(eeg_two_rates(other))
    (OUT / "vibration.wav").write_bytes(vibration(other))
    for path in sorted(OUT.iterdir()):
        print(f"{path.name}: {path.stat().st_size / 1024:.0f} KB")


if __name__ == "__main__":
    main()
