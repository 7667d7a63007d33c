"""Upload: read a CSV of signals, report how it was read, pick the columns to denoise."""

from __future__ import annotations

from typing import IO, TYPE_CHECKING

import streamlit as st

from app_pages import _sessions
from app_pages.ui import charts, data
from app_pages.ui.samples import sample_bytes, sample_names
from app_pages.ui.state import session
from app_pages.ui.text import NAME, plain, short
from denoiser.errors import InputError

if TYPE_CHECKING:
    from streamlit.runtime.uploaded_file_manager import UploadedFile

SAMPLES = {  # file -> (button label, what it shows)
    "x2_tutorial.csv": ("x² of the tutorial", "150 points with Gaussian noise, and the clean curve."),
    "two_sensors.csv": (
        "Two sensors",
        "A time column, sines with white noise and steps with impulse spikes, and both clean channels.",
    ),
    "temperature_semicolon.csv": (
        "Temperature log",
        "A spreadsheet export: semicolons, decimal commas, timestamps, gaps, and no clean reference.",
    ),
    "eeg_two_rates.edf": (
        "EEG (EDF)",
        "An EDF+ recording: two EEG channels at 256 Hz in microvolts with 50 Hz hum, "
        "and a temperature at 1 Hz (a second rate group to choose).",
    ),
    "vibration.wav": ("Vibration (WAV)", "A 16-bit stereo WAV at 8 kHz: machine hum and broadband noise."),
}
PART_WORDS = {
    "xlsx": "Sheet",
    "xls": "Sheet",
    "ods": "Sheet",
    "hdf5": "Dataset or group",
    "mat": "Variable",
    "tdms": "Group",
    "edf": "Rate group",
    "mseed": "Trace",
    "sac": "Trace",
}
DELIMITERS = {",": "comma", ";": "semicolon", "\t": "tab", " ": "whitespace"}
BIG_FILE = 20 * 1024**2  # bytes: after reading a larger upload, free memory is returned to the OS


def load(source: bytes | IO[bytes], name: str, *, sample: bool = False, part: str | None = None) -> None:
    """Read a file into the session; on failure keep what was there and remember the message.

    ``sample``: a sample button was clicked, so the file uploader is replaced by an empty one
    (it would still list the earlier file, and choosing that file again would do nothing).
    ``part``: the sheet, group, variable or rate group to read (the report lists them).
    """
    from denoiser.io import read_series  # pandas parsing: loaded when a file arrives

    s = session()
    try:
        table = read_series(
            source, part=part, max_samples=data.MAX_UPLOAD_SAMPLES
        )  # bounded before the parse spends it
    except InputError as err:
        s.upload_error = str(err)
        return
    # A file of several parts is kept (as bytes, at most the size limit) so another part is one choice away.
    raw = None
    if len(table.report.parts) > 1:
        raw = source if isinstance(source, bytes) else (source.seek(0), source.read())[1]
    columns = list(table.values.columns)
    guesses = {c: data.clean_guess(c, columns) for c in columns}
    signals = data.default_columns(table)  # never an index, time or year column, nor a clean reference
    first = [c for c in signals if guesses[c]] or signals
    s.use_upload(table, name, columns=first[:1], clean_refs=guesses, source=(raw, name) if raw is not None else None)
    if sample:
        s.new_uploader()
    if getattr(source, "size", 0) > BIG_FILE:  # the parse's buffers are free now: hand them back to the OS
        _sessions.release_memory()
    st.rerun()  # draw the page (and the sidebar) with the new table from the top


def load_clean(source: UploadedFile, name: str) -> None:
    """A separate file with the clean version of the data: same number of rows, read the same way."""
    from denoiser.io import read_series

    s = session()
    s.clean_seen = source.file_id
    table = s.upload_table  # the clean file's uploader is only shown with an upload
    try:
        clean = read_series(source, max_samples=data.MAX_UPLOAD_SAMPLES)
    except InputError as err:
        s.clean_error = str(err)
        return
    if len(clean.values) != len(table.values):
        s.clean_error = (
            f"The clean file has {len(clean.values):,} rows and the data "
            f"{len(table.values):,}: a clean reference needs one value per sample. "
            "Choose the clean file that belongs to this recording."
        )
        return
    s.use_clean_file(clean, name)
    shown = s.upload_columns or data.default_columns(table)[:1]
    if shown and s.clean_refs.get(shown[0]) is None:  # the obvious pairing, made at once
        s.clean_refs[shown[0]] = data.CLEAN_FILE + data.default_columns(clean)[0]
    st.rerun()


from denoiser.io.formats import FORMATS  # noqa: E402  (the registry: numpy/pandas only)

FORMAT_TYPES = [ext.lstrip(".") for fmt in FORMATS.values() for ext in fmt.extensions]
FORMATS_TEXT = ", ".join(dict.fromkeys(fmt.label for fmt in FORMATS.values()))

s = session()
st.title("Upload your data")
st.caption(
    "A CSV, TSV or text table with one or more numeric columns, one row per sample, or an instrument "
    "file (Excel, Parquet, HDF5, MATLAB, WAV/FLAC, TDMS, EDF/BDF). Delimiter, decimal mark, encoding, "
    "header and a time column are detected for you; short gaps are filled."
)

upload_col, sample_col = st.columns([3, 2], gap="large")
with upload_col:
    file = st.file_uploader(
        "Choose a file",
        type=["csv", "txt", "tsv", *FORMAT_TYPES],
        key=data.widget_key("uploader"),
        help="CSV or text tables, and instrument files: " + FORMATS_TEXT + ".",
    )
with sample_col:
    st.markdown("**Or try a sample**")
    names = sample_names()
    row = st.container(horizontal=True)
    for name in sorted(names, key=lambda n: list(SAMPLES).index(n) if n in SAMPLES else len(SAMPLES)):
        label, about = SAMPLES.get(name, (name, ""))
        icon = ":material/table_view:" if name.endswith(".csv") else ":material/graphic_eq:"
        if row.button(label, key=f"sample_{name}", icon=icon, help=about or None):
            load(sample_bytes(name), name, sample=True)

# A file is read once, when it arrives; reruns reuse the table in the session.
if file is None:
    s.upload_seen = None
elif file.file_id != s.upload_seen:
    s.upload_seen = file.file_id
    _sessions.drop_upload(file)  # the session keeps the table it reads, not the file's bytes as well
    load(file, file.name)

if s.upload_error:
    kept = f" Your previous data (**{plain(s.table_name, NAME)}**) is still loaded." if s.has_upload else ""
    st.error(f"{plain(s.upload_error)}{kept}", icon=":material/error:")

table = s.table
if table is None:
    st.info("No data yet: upload a file or click a sample.", icon=":material/info:")
    st.stop()

# ---- what was read
with st.container(key="upload_report"):  # a stable handle for tests and styling
    report = table.report
    st.subheader(f"Read: {plain(s.table_name, NAME)}")
    cols = st.columns(5)
    cols[0].metric("Rows", f"{report.rows:,}")
    cols[1].metric("Value columns", len(report.columns))
    time_text = (
        f"'{plain(report.time_column, NAME)}' ({'date/time' if report.time_kind == 'datetime' else 'numeric'})"
        if report.time_column
        else "none (the row number is used)"
    )
    if report.format == "csv":
        cols[2].metric("Delimiter", DELIMITERS.get(report.delimiter, repr(report.delimiter)))
        cols[3].metric("Decimal mark", "comma" if report.decimal == "," else "point")
    else:
        rates = sorted(set(report.rates.values()))
        cols[2].metric("Format", FORMATS[report.format].label if report.format in FORMATS else report.format)
        cols[3].metric("Sample rate", " / ".join(f"{r:,.6g} Hz" for r in rates) if rates else "not given")
    cols[4].metric("Gaps filled", f"{sum(report.filled.values()):,} of {sum(report.missing.values()):,}")
    if report.format == "csv":
        st.markdown(
            f"Encoding **{report.encoding}** · header row **{'yes' if report.header else 'no'}** · "
            f"skipped lines **{report.skipped_lines}** · time column **{time_text}**"
        )
    else:  # names, units and parts come from the file: shown as text, never Markdown
        st.text(f"{report.details} · time column {time_text.replace(chr(39), '')}")
        if report.units:
            st.text("Units: " + ", ".join(f"{c}: {u}" for c, u in report.units.items()))
    if report.rows_left:
        st.warning(
            f"This file is larger than the app reads: only its first {report.rows:,} rows were read "
            f"(at most {data.MAX_UPLOAD_SAMPLES:,} values per file), about {report.rows_left:,} rows were "
            "left out. Split the file, or denoise all of it on your own machine with "
            "`python -m denoiser denoise FILE -o OUT.csv`.",
            icon=":material/content_cut:",
        )
    source = s.upload_source
    if len(report.parts) > 1 and source is not None:
        word = PART_WORDS.get(report.format, "Part")
        part_choice = st.selectbox(
            f"{word} to read ({len(report.parts)} in this file)",
            report.parts,
            index=report.parts.index(report.part) if report.part in report.parts else 0,
            key=f"up_part_{s.data_gen}",
            format_func=short,
            help="This file holds several tables; signals of different sample rates are "
            "offered one rate at a time, never resampled.",
        )
        if part_choice is not None and part_choice != report.part:
            load(source[0], source[1], part=part_choice)
    for note in report.notes:
        st.caption(f"• {plain(note)}")

# ---- which columns (kept in the session, so they are still chosen after a visit to another page).
# The widget's key changes with the data (data_gen), so it always starts from this file's own defaults.
columns = list(table.values.columns)
values = st.multiselect(
    "Column(s) to denoise",
    columns,
    format_func=short,
    default=[c for c in s.upload_columns if c in columns],
    key=f"up_values_{s.data_gen}",
    help="Index, time and year columns are not offered by default: they are the axis, not a signal.",
)
s.upload_columns = values
chosen, _ = data.upload_selection()
if not values:
    st.warning(
        f"No column picked: showing '{plain(chosen[0], NAME)}' for now. Pick at least one column to denoise above.",
        icon=":material/warning:",
    )
refs = st.columns(min(len(chosen), 3))


def clean_ref_label(ref: str | None, name: str = s.clean_name) -> str:
    """A clean-reference choice as the selectboxes list it (the file's name bound now: Streamlit may
    format an option after this run, outside the session)."""
    return data.clean_label(ref, name)


for i, column in enumerate(chosen):  # each signal may have its own clean version (sensor_a -> clean_a)
    options = data.clean_options(column)
    current = s.clean_refs.get(column)
    s.clean_refs[column] = refs[i % len(refs)].selectbox(
        f"Clean reference for '{plain(column, NAME)}' (optional)",
        options,
        key=f"up_clean::{column}",
        index=options.index(current) if current in options else 0,
        format_func=clean_ref_label,
        help="A noise-free version of the signal, if you have one: Compare then scores the result.",
    )
with st.expander(
    "Clean reference in a separate file" + (f": {plain(s.clean_name, NAME)}" if s.clean_table is not None else "")
):
    st.caption(
        "A second CSV with the noise-free version of this recording (same number of rows, e.g. a "
        "simulation or a reference instrument). Its columns are then offered as clean references above."
    )
    clean_file = st.file_uploader(
        "Clean reference file", type=["csv", "txt", "tsv"], key=f"clean_uploader_{s.data_gen}"
    )
    if clean_file is not None and clean_file.file_id != s.clean_seen:
        _sessions.drop_upload(clean_file)
        load_clean(clean_file, clean_file.name)
    if s.clean_error:
        st.error(plain(s.clean_error), icon=":material/error:")
chosen, cleans = data.upload_selection()

# ---- preview (long files: a min/max-preserving downsample; zoom redraws the range at full resolution)
first = data.upload_signal(table, chosen[0], cleans[chosen[0]], s.table_name)
part = charts.zoom(first.length, f"up_zoom_{s.data_gen}", first.x)
view = data.sliced(first, part)
traces = [(name, table.column(name)[part], kind) for name, kind in zip(chosen, ("noisy", "series2", "series3"))]
if view.clean is not None:
    traces.append((f"{data.clean_label(cleans[chosen[0]], s.clean_name)} (clean)", view.clean, "clean"))
charts.show_zoomable(
    charts.signal_figure(view.x, traces, x_title=first.x_title, title="Preview"), f"up_zoom_{s.data_gen}", first.length
)
with st.expander("First rows of the table"):
    preview = table.values.head(200).copy()
    if table.time is not None:
        preview.insert(0, report.time_column or "time", table.time.head(200).to_numpy())
    st.dataframe(preview, width="stretch", height=260)

st.page_link("app_pages/compare.py", label="Denoise and compare these columns", icon=":material/compare_arrows:")
