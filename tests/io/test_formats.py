"""Instrument files beyond CSV (issue 22): read, write back alike, refuse hostile ones cheaply.

Real files come from the pinned wheels' own test data (scipy's WAV and MAT files, npTDMS'
TDMS files, pyarrow's Parquet files), read where pip installed them; the rest are written at
test time by the format's own library (edfio, XlsxWriter, soundfile, h5py), never committed.
"""

from __future__ import annotations

import importlib.util
import io
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from denoiser.batch import BatchOptions, process_file
from denoiser.errors import InputError
from denoiser.io import read_series, to_csv_bytes
from denoiser.io.formats import FORMATS, detect, output_bytes, write_like
from tests.hostile import formats as craft
from tests.support import raises_input_error


def _package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    assert spec is not None and spec.origin is not None
    return Path(spec.origin).parent


def wheel_file(package: str, *parts: str) -> Path:
    """A test file shipped inside a pinned wheel; skipped where a build leaves its tests out."""
    path = _package_dir(package).joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{package} ships no {'/'.join(parts)} here")
    return path


def _sine(n: int = 3000, period: float = 60.0, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.sin(2 * np.pi * np.arange(n) / period) + 0.1 * rng.standard_normal(n)


# --------------------------------------------------------------------------- the registry
def test_every_format_is_one_complete_record() -> None:
    for key, fmt in FORMATS.items():
        assert fmt.key == key and fmt.extensions and all(e.startswith(".") and e == e.lower() for e in fmt.extensions)
        assert fmt.library and fmt.kept and callable(fmt.reader)
    extensions = [e for f in FORMATS.values() for e in f.extensions]
    assert len(extensions) == len(set(extensions))  # an extension picks one format


def test_csv_text_is_never_taken_for_a_format(tmp_path: Path) -> None:
    # EDF's magic is "0" and seven spaces: a whitespace table can start so, and stays a CSV.
    text = b"0       1.5\n1       2.5\n2       3.5\n"
    assert detect(text, "data.txt") is None and detect(text, "x.edf") is None
    assert read_series(text).report.format == "csv"
    (tmp_path / "renamed.mat").write_bytes(b"t,v\n0,1\n1,2\n2,3\n")
    assert read_series(tmp_path / "renamed.mat").report.format == "csv"  # text named .mat: still read


def test_unknown_binary_names_the_formats_read(tmp_path: Path) -> None:
    path = tmp_path / "blob.bin"
    path.write_bytes(bytes(range(256)) * 8)
    raises_input_error(path, "binary", ".xlsx", ".edf", ".tdms", ".wav")


# --------------------------------------------------------------------------- real files from the wheels
def test_scipy_wavs_keep_rate_channels_and_integers() -> None:
    data = wheel_file("scipy", "io", "tests", "data")
    table = read_series(data / "test-8000Hz-le-3ch-5S-24bit.wav")
    rep = table.report
    assert rep.format == "wav" and "24-bit integer PCM" in rep.details and rep.rates == dict.fromkeys(rep.columns, 8000)
    assert list(table.values.columns) == ["ch1", "ch2", "ch3"] and rep.time_column == "time [s]"
    from scipy.io import wavfile

    rate, ref = wavfile.read(data / "test-8000Hz-le-3ch-5S-24bit.wav")  # scipy: 24-bit as int32 << 8
    np.testing.assert_array_equal(table.values.to_numpy(), ref.astype(np.int64) >> 8)
    np.testing.assert_allclose(table.time.to_numpy(), np.arange(len(ref)) / rate)
    floats = read_series(data / "test-44100Hz-2ch-32bit-float-le.wav")
    assert "32-bit float" in floats.report.details and floats.values.shape == (441, 2)


def test_scipy_mat_files_v4_v5_and_v73() -> None:
    data = wheel_file("scipy", "io", "matlab", "tests", "data")
    m = read_series(data / "testmatrix_7.4_GLNX86.mat")
    assert m.report.format == "mat" and m.values.shape == (5, 3)
    import scipy.io

    ref = scipy.io.loadmat(data / "testmatrix_7.4_GLNX86.mat")["testmatrix"]
    np.testing.assert_array_equal(m.values.to_numpy(), ref.T)  # 3 x 5: the 5 samples are the rows
    v4 = read_series(data / "testmatrix_4.2c_SOL2.mat")  # no header text: found by its extension
    assert "v4" in v4.report.details and v4.values.shape == (5, 3)
    v73 = read_series(data / "testhdf5_7.4_GLNX86.mat")  # HDF5 inside: variables transposed back
    assert v73.report.format == "mat" and "v7.3" in v73.report.details
    assert len(v73.values) == 9


def test_nptdms_files_groups_rates_and_units() -> None:
    data = wheel_file("nptdms", "test", "data")
    table = read_series(data / "raw1.tdms")
    assert table.report.format == "tdms" and table.report.part == "Layer Data" and table.values.shape[0] == 2000
    digital = read_series(data / "Digital_Input.tdms")
    assert len(digital.report.parts) == 3  # three groups offered as parts
    second = read_series(data / "Digital_Input.tdms", part=digital.report.parts[1])
    assert second.report.part == digital.report.parts[1] and len(second.values) < len(digital.values)


def test_pyarrow_parquet_file() -> None:
    table = read_series(wheel_file("pyarrow", "tests", "data", "parquet", "v0.7.1.parquet"))
    assert table.report.format == "parquet" and len(table.values) == 10


# --------------------------------------------------------------------------- files made by the formats' own libraries
@pytest.fixture
def edf_path(tmp_path: Path) -> Path:
    path = tmp_path / "rec.edf"
    path.write_bytes(craft.edf_file())
    return path


def test_edf_rate_groups_units_and_annotations(edf_path: Path) -> None:
    table = read_series(edf_path)
    rep = table.report
    assert rep.parts == ["256 Hz: 'EEG Fpz'", "1 Hz: 'Temp'"] and rep.part == rep.parts[0]
    assert rep.rates == {"EEG Fpz": 256.0} and rep.units == {"EEG Fpz": "uV"} and len(table.values) == 2560
    summary = rep.summary()
    assert "EDF+ recording" in summary and "256 Hz" in summary and "'EEG Fpz' in 'uV'" in summary
    # the annotation, quoted as text (a formula and a Markdown image stay inert characters)
    assert any("=HYPERLINK" in n and "annotation" in n for n in rep.notes)
    slow = read_series(edf_path, part="1 Hz: 'Temp'")
    assert list(slow.values.columns) == ["Temp"] and len(slow.values) == 10 and slow.report.units == {"Temp": "degC"}
    raises_input_error(edf_path, "no signal named", "256 Hz", part="5 Hz")


def test_excel_header_detection_sheets_and_types(tmp_path: Path) -> None:
    path = tmp_path / "book.xlsx"
    with pd.ExcelWriter(path, engine="xlsxwriter") as writer:
        pd.DataFrame({"note": ["rig 4"]}).to_excel(writer, sheet_name="About", index=False)
        frame = pd.DataFrame(
            {
                "Zeit": pd.date_range("2024-03-01", periods=200, freq="min"),
                "Druck [bar]": _sine(200),
                "n": np.arange(200),
            }
        )
        frame.to_excel(writer, sheet_name="Messung", index=False, startrow=2)  # two rows of preamble above
        writer.sheets["Messung"].write(0, 0, "Instrument: P-300")
    raises_input_error(path, "sheet 'About'", "only 1 data row", part="About")
    table = read_series(path)  # the first sheet holds a note only: passed over, with a note
    assert table.report.part == "Messung" and any("Passed over 'About'" in n for n in table.report.notes)
    rep = table.report
    assert rep.format == "xlsx" and rep.parts == ["About", "Messung"] and rep.time_column == "Zeit"
    assert rep.header and list(table.values.columns) == ["Druck [bar]", "n"] and table.signal_columns == ["Druck [bar]"]
    np.testing.assert_allclose(table.column("Druck [bar]"), frame["Druck [bar]"])


def test_hdf5_groups_and_matrices(tmp_path: Path) -> None:
    import h5py

    path = tmp_path / "run.h5"
    with h5py.File(path, "w") as h5:
        group = h5.create_group("run1")
        group.attrs["sample_rate"] = 500.0
        group["volt"] = _sine(1000)
        group["volt"].attrs["units"] = "V"
        group["amp"] = _sine(1000, seed=1)
        h5["matrix"] = np.stack([_sine(400), _sine(400, seed=2)])  # (2, 400): channels along the short axis
    table = read_series(path)
    assert table.report.parts == ["/matrix", "/run1"] and table.values.shape == (400, 2)
    run = read_series(path, part="/run1")
    assert list(run.values.columns) == ["amp", "volt"] and run.report.units == {"volt": "V"}
    assert run.report.rates == {"amp": 500.0, "volt": 500.0}


# --------------------------------------------------------------------------- write back: read -> write -> read equal
def _round_trip(table, suffix: str):
    data = output_bytes(table, {}, suffix)
    return read_series(data if suffix != ".mat" else io.BytesIO(data), part=None)


@pytest.mark.parametrize(
    "maker, suffix",
    [
        ("wav", ".wav"),
        ("flac", ".flac"),
        ("edf", ".edf"),
        ("tdms", ".tdms"),
        ("xlsx", ".xlsx"),
        ("h5", ".h5"),
        ("mat", ".mat"),
        ("parquet", ".parquet"),
    ],
)
def test_round_trip_in_the_inputs_own_format(tmp_path: Path, maker: str, suffix: str) -> None:
    path = tmp_path / f"in{suffix}"
    if maker == "wav":
        path.write_bytes(craft.wav_file())
    elif maker == "flac":
        import soundfile as sf

        sf.write(
            path,
            np.stack([np.rint(3e5 * _sine(2000)), np.rint(1e5 * _sine(2000, seed=3))], 1).astype(np.int32) << 8,
            22050,
            subtype="PCM_24",
        )
    elif maker == "edf":
        path.write_bytes(craft.edf_file())
    elif maker == "tdms":
        path.write_bytes(craft.tdms_file())
    else:
        source = pd.DataFrame(
            {"t": np.arange(500) * 0.01, "a": np.round(_sine(500), 4), "b": np.round(_sine(500, seed=4), 3)}
        )
        csv = read_series(source.to_csv(index=False).encode())
        path.write_bytes(output_bytes(csv, {}, suffix))
    table = read_series(path)
    back = read_series(_bytes_named(output_bytes(table, {}, suffix), tmp_path / f"back{suffix}"))
    assert back.report.format == table.report.format
    assert list(back.values.columns) == list(table.values.columns)
    np.testing.assert_array_equal(back.values.to_numpy(), table.values.to_numpy())
    if table.time is not None:
        np.testing.assert_allclose(back.time.to_numpy(dtype=float), table.time.to_numpy(dtype=float))
    assert back.report.rates == table.report.rates and back.report.units == table.report.units


def _bytes_named(data: bytes, path: Path) -> Path:
    path.write_bytes(data)
    return path


def test_wav_denoised_keeps_rate_and_integer_type(tmp_path: Path) -> None:
    import soundfile as sf

    src = tmp_path / "in.wav"
    src.write_bytes(craft.wav_file())
    table = read_series(src)
    den = table.column("ch1") * 0.5 + 0.3  # not integers: rounded on the way out
    den[:3] = [1e9, -1e9, np.nan]  # clipped to int16; a gap is silence
    assert write_like(tmp_path / "out.wav", table, {"ch1": den}) == "wav"
    info = sf.info(tmp_path / "out.wav")
    assert (info.samplerate, info.subtype, info.channels) == (8000, "PCM_16", 1)
    raw, _ = sf.read(tmp_path / "out.wav", dtype="int16")
    assert raw[:3].tolist() == [32767, -32768, 0]
    np.testing.assert_array_equal(raw[3:], np.clip(np.rint(den[3:]), -32768, 32767))


def test_edf_denoised_replaces_the_signal_with_the_same_header(edf_path: Path, tmp_path: Path) -> None:
    table = read_series(edf_path)
    den = table.column("EEG Fpz") * 0.5
    out = tmp_path / "out.edf"
    write_like(out, table, {"EEG Fpz": den})
    src, new = edf_path.read_bytes(), out.read_bytes()
    assert new[:256] == src[:256] and new[256 : 256 * 4] == src[256 : 256 * 4]  # header and signal headers as they were
    back = read_series(out)
    assert np.abs(back.column("EEG Fpz") - den).max() < 0.01  # within the 16-bit quantisation
    assert (
        read_series(out, part="1 Hz: 'Temp'").column("Temp").tolist()
        == read_series(edf_path, part="1 Hz: 'Temp'").column("Temp").tolist()
    )
    assert any("annotation" in n for n in back.report.notes)


def test_bdf_is_read_and_written_back_as_bdf(tmp_path: Path) -> None:
    # edfio reads a BDF eagerly and takes no lazy_load_data for it: that argument once refused every BDF.
    import edfio

    buffer = io.BytesIO()
    wave = np.round(100 * np.sin(np.arange(512) / 10), 3)
    edfio.Bdf([edfio.BdfSignal(wave, 256, label="EEG", physical_range=(-200, 200))]).write(buffer)
    table = read_series(buffer.getvalue())
    assert table.report.format == "edf" and table.report.details.startswith("BDF recording")
    assert np.abs(table.column("EEG") - wave).max() < 1e-4  # 24-bit samples
    out = tmp_path / "out.bdf"
    assert write_like(out, table, {"EEG": table.column("EEG") * 0.5}) == "edf"
    assert out.read_bytes()[:8] == b"\xffBIOSEMI"
    assert np.abs(read_series(out).column("EEG") - wave * 0.5).max() < 1e-4


def test_csv_output_stays_byte_identical(tmp_path: Path) -> None:
    table = read_series(b"t;v\n0,0;1,5\n0,1;2,25\n0,2;3,0\n")
    den = {"v": np.array([1.0, 2.0, 3.0])}
    for suffix in (".csv", ".txt", None):
        assert output_bytes(table, den, suffix) == to_csv_bytes(table, den)
    write_like(tmp_path / "o.txt", table, den)
    assert (tmp_path / "o.txt").read_bytes() == to_csv_bytes(table, den)


def test_formula_like_names_stay_inert_in_csv_and_excel(tmp_path: Path) -> None:
    import h5py

    path = tmp_path / "f.h5"
    with h5py.File(path, "w") as h5:
        h5["=cmd|' /C calc'!A0"] = _sine(100)
        h5["+sig"] = _sine(100, seed=1)
    table = read_series(path)
    head = to_csv_bytes(table, {}).split(b"\n", 1)[0].decode()
    assert all(cell.startswith(("'", "\"'")) for cell in head.split(",") if cell)
    write_like(tmp_path / "f.xlsx", table, {})
    from python_calamine import CalamineWorkbook

    cells = CalamineWorkbook.from_path(str(tmp_path / "f.xlsx")).get_sheet_by_index(0).to_python()[0]
    assert all(isinstance(c, str) and c.startswith("'") for c in cells)


def test_formats_without_a_writer_say_so() -> None:
    table = read_series(b"t,v\n0,1\n1,2\n2,3\n")
    with pytest.raises(InputError, match="cannot be written here"):
        output_bytes(table, {}, ".xls")


# --------------------------------------------------------------------------- CLI and batch
def test_cli_picks_the_output_format_by_extension(tmp_path: Path, cli) -> None:
    (tmp_path / "rec.edf").write_bytes(craft.edf_file(60))
    res = cli("denoise", "rec.edf", "-o", "out.edf", "--model", "none")
    assert res.returncode == 0, res.stderr
    assert "EDF+ recording" in res.stderr and "Sample rate: 256 Hz." in res.stderr
    assert read_series(tmp_path / "out.edf").report.format == "edf"
    res = cli("denoise", "rec.edf", "-o", "out.csv", "--model", "none", "-q", "--part", "1 Hz: 'Temp'")
    assert res.returncode == 0, res.stderr
    assert list(pd.read_csv(tmp_path / "out.csv", comment="#").columns) == ["time [s]", "Temp", "Temp_denoised"]
    res = cli("denoise", "rec.edf", "-o", "o.csv", "--model", "none", "--part", "nope")
    assert res.returncode == 2 and res.stderr.count("\n") == 1 and "no signal named 'nope'" in res.stderr


def test_batch_keeps_each_files_format(tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    (src / "a.wav").write_bytes(craft.wav_file(6000))
    row = process_file(str(src / "a.wav"), str(tmp_path / "out" / "a.wav"), BatchOptions(model="none"))
    assert row["status"] == "ok", row["error"]
    assert read_series(tmp_path / "out" / "a.wav").report.format == "wav"
    from denoiser.batch import plan

    (src / "b.xls").write_bytes(b"")
    pairs = dict((p.name, q.name) for p, q in plan([src / "a.wav", src / "b.xls"], tmp_path / "out"))
    assert pairs == {"a.wav": "a.wav", "b.xls": "b.csv"}  # no .xls writer: CSV


# --------------------------------------------------------------------------- hostile files
@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, craft.Crafted]]:
    folder = tmp_path_factory.mktemp("hostile_formats")
    return folder, {c.name: c for c in craft.craft_formats(folder)}


def test_every_hostile_instrument_file_is_refused_in_one_line(hostile) -> None:
    folder, files = hostile
    assert len(files) >= 15
    for name, c in files.items():
        if c.expect == "refused":
            raises_input_error(folder / name)
        else:
            read_series(folder / name)


@pytest.mark.parametrize(
    "name, words",
    [
        ("sparse.xlsx", ["17,179,869,184 cells", "limit"]),
        ("repeat_bomb.ods", ["99,614,720 cells"]),
        ("declared_huge.xlsx", ["4,096 MB", "limit"]),
        ("zip_bomb.xlsx", ["Excel workbook", "larger than its declared"]),
        ("records_1e9.edf", ["1,000,000,000 data records", "limit"]),
        ("records_50k.edf", ["50,000 data records", "holds only 10"]),
        ("shape_bomb.h5", ["10,000,000,000 values"]),
        ("links.h5", ["no dataset or group"]),
        ("claims_4gb.wav", ["4,294,967,040 bytes", "cut short"]),
        ("huge_segment.tdms", ["Segment 1", "1,125,899,906,842,624 bytes"]),
        ("zlib_bomb.mat", ["compressed variable", "limit"]),
        ("rows_30m.parquet", ["30,000,000 rows"]),
    ],
)
def test_hostile_files_are_refused_before_memory_is_spent(hostile, name: str, words: list[str]) -> None:
    folder, _ = hostile
    tracemalloc.start()
    try:
        raises_input_error(folder / name, *words)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # Python's own allocations: the file itself (at most 2 MB here) and small change, never the declared size.
    assert peak < 40 * 1024**2, f"{peak:,} bytes for {name}"


def test_ods_trailing_empty_rows_are_not_counted(hostile) -> None:
    folder, _ = hostile
    table = read_series(folder / "valid.ods")
    assert table.report.format == "ods" and len(table.values) == 60


def test_hdf5_links_out_of_the_file_are_never_followed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import h5py

    path = tmp_path / "mixed.h5"
    with h5py.File(path, "w") as h5:
        h5["signal"] = _sine(200)
        h5["outside"] = h5py.ExternalLink("/etc/passwd", "/")
        h5["soft"] = h5py.SoftLink("/signal")
    opened: list[str] = []
    real = h5py.File

    def spy(name, *args, **kwargs):
        opened.append(str(name))
        return real(name, *args, **kwargs)

    monkeypatch.setattr(h5py, "File", spy)
    table = read_series(path)
    assert list(table.values.columns) == ["signal"] and not any("passwd" in o for o in opened)


def test_missing_optional_obspy_is_one_clear_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins

    real_import = builtins.__import__

    def no_obspy(name, *args, **kwargs):
        if name == "obspy":
            raise ImportError("No module named 'obspy'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_obspy)
    path = tmp_path / "station.mseed"
    path.write_bytes(b"000001D \x00" + bytes(500))
    raises_input_error(path, "miniSEED", "pip install obspy")
