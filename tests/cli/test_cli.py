"""The command line end to end, as a user runs it.

``cli`` runs ``denoiser.cli.main`` in this process (conftest.py); the messy-CSV test runs the real
``python -m denoiser`` in a subprocess, without TF_CPP_MIN_LOG_LEVEL, so the entry point and the
CLI's own silencing of TensorFlow's C++ logging are tested too. Hostile input (tests/hostile/craft.py's
files: the ``hostile`` fixture) ends in one short line on stderr, never a traceback.
"""

import os
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from denoiser.io import read_series
from tests.support import ROOT, cli_subprocess

run_subprocess = partial(cli_subprocess, quiet_tf=False)


def test_help_for_every_command(tmp_path, cli):
    res = run_subprocess("--help", cwd=tmp_path)
    assert res.returncode == 0 and "usage:" in res.stdout and "denoise" in res.stdout
    for cmd in (["denoise"], ["train"], ["generate"], ["search"]):
        res = cli(*cmd, "--help")
        assert res.returncode == 0 and "usage:" in res.stdout and cmd[0] in res.stdout


def test_generate_then_denoise_messy_csv(tmp_path, cli):
    run = partial(run_subprocess, cwd=tmp_path)
    res = cli("generate", "--family", "x2", "--sigma", "0.1", "--seed", "3", "-o", "gen.csv")
    assert res.returncode == 0, res.stderr
    gen = pd.read_csv(tmp_path / "gen.csv")
    assert list(gen.columns) == ["x", "noisy", "clean"] and len(gen) == 150
    np.testing.assert_allclose(gen["clean"], gen["x"] ** 2, atol=1e-5)

    # The same data as an instrument might write it: ';' delimiter, decimal comma, a preamble.
    messy = tmp_path / "messy.csv"
    body = gen[["x", "noisy"]].rename(columns={"x": "time", "noisy": "signal"})
    text = body.to_csv(sep=";", decimal=",", index=False)
    messy.write_text("# Instrument: demo\n# Units: V\n" + text, encoding="utf-8")
    # 150 samples are too few to tell noise from signal blind: the level is given, as the
    # instrument's datasheet would give it.
    res = run("denoise", str(messy), "-o", "out.csv", "--model", "parabola", "--sigma", "0.1")
    assert res.returncode == 0, res.stderr
    assert "noise sigma 0.1 (given)" in res.stderr
    # TensorFlow's start-up lines (cpu_feature_guard, oneDNN, "I0000 ...") are kept off stderr
    assert "tensorflow" not in res.stderr.lower() and "oneDNN" not in res.stderr, res.stderr
    # Written back as it came in (';', decimal commas), what was applied in '#' lines on top (issue 19).
    text = (tmp_path / "out.csv").read_text(encoding="utf-8")
    assert text.startswith("# Denoised with denoiser ") and "\n# signal: " in text and "(given: 0.1)" in text
    assert "\ntime;signal;signal_denoised\n" in text and "\n-0,5;" in text
    table = read_series(tmp_path / "out.csv")  # the comment lines are skipped
    out = {c: table.column(c) for c in ("signal", "signal_denoised")}
    assert table.report.rows == 150
    clean = gen["clean"].to_numpy()
    assert np.mean((out["signal_denoised"] - clean) ** 2) < 0.3 * np.mean((out["signal"] - clean) ** 2)
    # --plain: the form of earlier versions (comma, decimal point, no comment lines), the same numbers.
    res = run("denoise", str(messy), "-o", "plain.csv", "--model", "parabola", "--sigma", "0.1", "--plain", "-q")
    assert res.returncode == 0, res.stderr
    plain = pd.read_csv(tmp_path / "plain.csv")
    assert list(plain.columns) == ["time", "signal", "signal_denoised"]
    np.testing.assert_allclose(plain["signal_denoised"], out["signal_denoised"])


def test_train_saves_a_model_that_denoise_uses(cli):
    res = cli(
        "train",
        "--family",
        "sines",
        "--n-signals",
        "200",
        "--window",
        "64",
        "--filters",
        "4",
        "--epochs",
        "2",
        "--sigma",
        "0.2",
        "-o",
        "m.keras",
    )
    assert res.returncode == 0, res.stderr
    assert "epoch   2/2" in res.stderr and "test split: MSE" in res.stderr
    assert cli("generate", "--family", "sines", "--length", "500", "-o", "s.csv").returncode == 0
    res = cli("denoise", "s.csv", "-o", "o.csv", "--column", "noisy", "--model", "m.keras")
    assert res.returncode == 0, res.stderr
    assert list(pd.read_csv("o.csv", comment="#").columns) == ["t", "noisy", "clean", "noisy_denoised"]


def test_denoise_reports_the_estimate_and_raw_skips_it(tmp_path, cli):
    t = np.arange(4000)
    clean = np.sin(2 * np.pi * t / 300)
    noisy = clean + 0.2 * np.random.default_rng(0).standard_normal(t.size)
    pd.DataFrame({"t": t, "v": noisy}).to_csv(tmp_path / "r.csv", index=False)
    res = cli("denoise", "r.csv", "-o", "auto.csv")
    assert res.returncode == 0, res.stderr
    line = next(x for x in res.stderr.splitlines() if x.startswith("v: "))
    assert "(estimated)" in line and "estimated gain +" in line and "dB [" in line
    auto = pd.read_csv(tmp_path / "auto.csv", comment="#")["v_denoised"].to_numpy()
    assert np.mean((auto - clean) ** 2) < 0.2 * np.mean((noisy - clean) ** 2)
    res = cli("denoise", "r.csv", "-o", "raw.csv", "--raw")
    assert res.returncode == 0 and "network only (--raw)" in res.stderr
    assert not any(x.startswith("v: ") for x in res.stderr.splitlines())


@pytest.mark.parametrize(
    "content,args,message",
    [
        (None, [], "does not exist"),
        (b"", [], "empty"),
        (b"a,b\n1,2\n3,4\n", ["--column", "zzz"], "No column named 'zzz'"),
        (b"a,b\n1,2\n3,4\n", ["--model", "nope.keras"], "Cannot read the model file"),
    ],
)
def test_bad_input_is_one_line_on_stderr(tmp_path, cli, content, args, message):
    if content is not None:
        (tmp_path / "in.csv").write_bytes(content)
    res = cli("denoise", "in.csv", "-o", "out.csv", *args)
    assert res.returncode == 2
    assert "Traceback" not in res.stderr
    lines = [line for line in res.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:") and message in lines[0], res.stderr


# ------------------------------------------------------------------ hostile input: one short line, never a traceback
def test_cli_refuses_hostile_files_with_one_line_and_status_2(hostile, tmp_path: Path, cli) -> None:
    folder, _ = hostile
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    # a subprocess: were the pipe opened, the read would block, and only the timeout would end it
    done = cli_subprocess(
        "denoise", str(fifo), "-o", str(tmp_path / "out.csv"), "--model", "none", cwd=ROOT, timeout=120
    )
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr[-2000:]
    assert "not a regular file" in done.stderr
    good = tmp_path / "good.csv"
    good.write_text("t,v\n" + "\n".join(f"{i},{np.sin(i / 5):.4f}" for i in range(64)) + "\n")
    done = cli(
        "denoise", str(good), "--model", str(folder / "shape_bomb.keras"), "--raw", "-o", str(tmp_path / "out.csv")
    )
    assert done.returncode == 2, done.stderr[-2000:]
    assert done.stderr.startswith("error: ") and done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert "do not match" in done.stderr


MAX_LINE = 600  # characters: "one line of at most a few hundred characters" (a path and a message)


def test_every_crafted_csv_gives_short_lines_in_the_cli(hostile, tmp_path: Path, cli) -> None:
    """5 crafted CSVs gave summaries of 2,139 to 2,000,366 characters (a million-digit column name, formula
    headers): now every line the CLI prints is at most a few hundred characters, a refusal is one line,
    and no control character from a file reaches the terminal."""
    folder, files = hostile
    csvs = [c for c in files.values() if c.kind == "csv"]
    assert len(csvs) >= 25
    for c in csvs:
        done = cli("denoise", str(folder / c.name), "-o", str(tmp_path / "out.csv"), "--model", "none")
        lines = done.stderr.splitlines()
        assert done.returncode == (2 if c.expect == "refused" else 0), (c.name, done.stderr[:500])
        if c.expect == "refused":
            assert len(lines) == 1 and lines[0].startswith("error: "), (c.name, done.stderr[:500])
        assert max(map(len, lines)) <= MAX_LINE, (c.name, max(lines, key=len)[:200])
        assert len(done.stderr) <= 30 * MAX_LINE, (c.name, len(done.stderr))
        assert not any(ch in done.stderr for ch in "\x1b\r\x85\u2028\u202e"), (c.name, done.stderr[:300])


def test_every_crafted_csv_gives_a_short_summary_row_in_a_batch(hostile, tmp_path: Path, cli) -> None:
    folder, files = hostile
    batch_in = tmp_path / "in"
    batch_in.mkdir()
    for c in files.values():
        if c.kind == "csv":
            (batch_in / c.name).write_bytes((folder / c.name).read_bytes())
    done = cli("denoise", str(batch_in / "*.csv"), "-o", str(tmp_path / "out"), "--model", "none", "--workers", "1")
    refused = sum(c.expect == "refused" for c in files.values() if c.kind == "csv")
    assert done.returncode == refused, done.stderr[-2000:]
    assert max(map(len, done.stderr.splitlines())) <= MAX_LINE
    raw = (tmp_path / "out" / "summary.csv").read_text(encoding="utf-8")
    lines = raw.split("\n")
    assert len(lines) == sum(c.kind == "csv" for c in files.values()) + 2  # header, rows, final newline
    assert max(map(len, lines)) <= 3 * MAX_LINE, max(lines, key=len)[:300]
    assert "\r" not in raw and "\x1b" not in raw
