"""Upload: read a CSV of signals, report how it was read, pick the columns to denoise."""
from __future__ import annotations

from typing import IO

import streamlit as st

from denoiser.errors import InputError
from app_pages import _sessions, _ui as ui

SAMPLES = {  # file -> (button label, what it shows)
    "x2_tutorial.csv": ("x² of the tutorial", "150 points with Gaussian noise, and the clean curve."),
    "two_sensors.csv": ("Two sensors", "A time column, sines with white noise and steps with impulse spikes, "
                                       "and both clean channels."),
    "temperature_semicolon.csv": ("Temperature log", "A spreadsheet export: semicolons, decimal commas, "
                                                     "timestamps, gaps, and no clean reference."),
    "eeg_two_rates.edf": ("EEG (EDF)", "An EDF+ recording: two EEG channels at 256 Hz in microvolts with 50 Hz hum, "
                                       "and a temperature at 1 Hz (a second rate group to choose)."),
    "vibration.wav": ("Vibration (WAV)", "A 16-bit stereo WAV at 8 kHz: machine hum and broadband noise."),
}
PART_WORDS = {"xlsx": "Sheet", "xls": "Sheet", "ods": "Sheet", "hdf5": "Dataset or group", "mat": "Variable",
              "tdms": "Group", "edf": "Rate group", "mseed": "Trace", "sac": "Trace"}
DELIMITERS = {",": "comma", ";": "semicolon", "\t": "tab", " ": "whitespace"}
BIG_FILE = 20 * 1024**2  # bytes: after reading a larger upload, free memory is returned to the OS


def load(source: bytes | IO[bytes], name: str, *, sample: bool = False, part: str | None = None) -> None:
    """Read a file into the session; on failure keep what was there and remember the message.

    ``sample``: a sample button was clicked, so the file uploader is replaced by an empty one
    (it would still list the earlier file, and choosing that file again would do nothing).
    ``part``: the sheet, group, variable or rate group to read (the report lists them).
    """
    from denoiser.io import read_series  # pandas parsing: loaded when a file arrives

    try:
        table = read_series(source, part=part, max_samples=ui.MAX_UPLOAD_SAMPLES)  # bounded before the parse spends it
    except InputError as err:
        st.session_state.upload_error = str(err)
        return
    # A file of several parts is kept (as bytes, at most the size limit) so another part is one choice away.
    data = None
    if len(table.report.parts) > 1:
        data = source if isinstance(source, bytes) else (source.seek(0), source.read())[1]
    st.session_state.upload_source = (data, name) if data is not None else None
    columns = list(table.values.columns)
    guesses = {c: clean_guess(c, columns) for c in columns}
    signals = ui.default_columns(table)  # never an index, time or year column, nor a clean reference
    first = [c for c in signals if guesses[c]] or signals
    st.session_state.update(table=table, table_name=name, upload_error=None, active="upload",
                            upload_columns=first[:1], clean_refs=guesses, clean_table=None, clean_name="",
                            clean_error=None, data_gen=st.session_state.data_gen + 1)
    if sample:
        st.session_state.upload_gen += 1
        st.session_state.upload_seen = None
    for key in [k for k in st.session_state if str(k).startswith(("up_", "cmp_column", "cmp_zoom"))]:
        st.session_state.pop(key, None)  # old widgets do not fit the new table
    if getattr(source, "size", 0) > BIG_FILE:  # the parse's buffers are free now: hand them back to the OS
        _sessions.release_memory()
    st.rerun()  # draw the page (and the sidebar) with the new table from the top


def load_clean(source: IO[bytes], name: str) -> None:
    """A separate file with the clean version of the data: same number of rows, read the same way."""
    from denoiser.io import read_series

    st.session_state.clean_seen = source.file_id
    table = st.session_state.table
    try:
        clean = read_series(source, max_samples=ui.MAX_UPLOAD_SAMPLES)
    except InputError as err:
        st.session_state.clean_error = str(err)
        return
    if len(clean.values) != len(table.values):
        st.session_state.clean_error = (f"The clean file has {len(clean.values):,} rows and the data "
                                        f"{len(table.values):,}: a clean reference needs one value per sample. "
                                        "Choose the clean file that belongs to this recording.")
        return
    st.session_state.update(clean_table=clean, clean_name=name, clean_error=None)
    shown = st.session_state.upload_columns or ui.default_columns(table)[:1]
    if shown and st.session_state.clean_refs.get(shown[0]) is None:  # the obvious pairing, made at once
        st.session_state.clean_refs[shown[0]] = ui.CLEAN_FILE + ui.default_columns(clean)[0]
    for key in [k for k in st.session_state if str(k).startswith("up_clean::")]:
        st.session_state.pop(key, None)
    st.rerun()


is_reference = ui.is_reference


def clean_guess(column: str, columns: list[str]) -> str | None:
    """The column that looks like ``column``'s clean reference: named 'clean', 'truth' or 'reference',
    and sharing the longest ending with it (sensor_a -> clean_a), if the file has one."""
    candidates = [c for c in columns if c != column and is_reference(c)]
    if not candidates or is_reference(column):
        return None

    def shared_ending(c: str) -> int:
        return next((n for n in range(min(len(c), len(column)), 0, -1) if c[-n:] == column[-n:]), 0)

    return max(candidates, key=shared_ending)


from denoiser.io.formats import FORMATS  # noqa: E402  (the registry: numpy/pandas only)

FORMAT_TYPES = [ext.lstrip(".") for fmt in FORMATS.values() for ext in fmt.extensions]
FORMATS_TEXT = ", ".join(dict.fromkeys(fmt.label for fmt in FORMATS.values()))

st.title("Upload your data")
st.caption("A CSV, TSV or text table with one or more numeric columns, one row per sample, or an instrument "
           "file (Excel, Parquet, HDF5, MATLAB, WAV/FLAC, TDMS, EDF/BDF). Delimiter, decimal mark, encoding, "
           "header and a time column are detected for you; short gaps are filled.")

upload_col, sample_col = st.columns([3, 2], gap="large")
with upload_col:
    file = st.file_uploader("Choose a file", type=["csv", "txt", "tsv", *FORMAT_TYPES], key=ui.widget_key("uploader"),
                            help="CSV or text tables, and instrument files: " + FORMATS_TEXT + ".")
with sample_col:
    st.markdown("**Or try a sample**")
    names = ui.sample_names()
    row = st.container(horizontal=True)
    for name in sorted(names, key=lambda n: list(SAMPLES).index(n) if n in SAMPLES else len(SAMPLES)):
        label, about = SAMPLES.get(name, (name, ""))
        icon = ":material/table_view:" if name.endswith(".csv") else ":material/graphic_eq:"
        if row.button(label, key=f"sample_{name}", icon=icon, help=about or None):
            load(ui.sample_bytes(name), name, sample=True)

# A file is read once, when it arrives; reruns reuse the table in the session.
if file is None:
    st.session_state.upload_seen = None
elif file.file_id != st.session_state.upload_seen:
    st.session_state.upload_seen = file.file_id
    _sessions.drop_upload(file)  # the session keeps the table it reads, not the file's bytes as well
    load(file, file.name)

if st.session_state.upload_error:
    kept = (f" Your previous data (**{ui.plain(st.session_state.table_name, ui.NAME)}**) is still loaded."
            if st.session_state.table is not None else "")
    st.error(f"{ui.plain(st.session_state.upload_error)}{kept}", icon=":material/error:")

table = st.session_state.table
if table is None:
    st.info("No data yet: upload a file or click a sample.", icon=":material/info:")
    st.stop()

# ---- what was read
with st.container(key="upload_report"):  # a stable handle for tests and styling
    report = table.report
    st.subheader(f"Read: {ui.plain(st.session_state.table_name, ui.NAME)}")
    cols = st.columns(5)
    cols[0].metric("Rows", f"{report.rows:,}")
    cols[1].metric("Value columns", len(report.columns))
    time_text = (f"'{ui.plain(report.time_column, ui.NAME)}' ({'date/time' if report.time_kind == 'datetime' else 'numeric'})"
                 if report.time_column else "none (the row number is used)")
    if report.format == "csv":
        cols[2].metric("Delimiter", DELIMITERS.get(report.delimiter, repr(report.delimiter)))
        cols[3].metric("Decimal mark", "comma" if report.decimal == "," else "point")
    else:
        rates = sorted(set(report.rates.values()))
        cols[2].metric("Format", FORMATS[report.format].label if report.format in FORMATS else report.format)
        cols[3].metric("Sample rate", " / ".join(f"{r:,.6g} Hz" for r in rates) if rates else "not given")
    cols[4].metric("Gaps filled", f"{sum(report.filled.values()):,} of {sum(report.missing.values()):,}")
    if report.format == "csv":
        st.markdown(f"Encoding **{report.encoding}** · header row **{'yes' if report.header else 'no'}** · "
                    f"skipped lines **{report.skipped_lines}** · time column **{time_text}**")
    else:  # names, units and parts come from the file: shown as text, never Markdown
        st.text(f"{report.details} · time column {time_text.replace(chr(39), '')}")
        if report.units:
            st.text("Units: " + ", ".join(f"{c}: {u}" for c, u in report.units.items()))
    if report.rows_left:
        st.warning(f"This file is larger than the app reads: only its first {report.rows:,} rows were read "
                   f"(at most {ui.MAX_UPLOAD_SAMPLES:,} values per file), about {report.rows_left:,} rows were "
                   "left out. Split the file, or denoise all of it on your own machine with "
                   "`python -m denoiser denoise FILE -o OUT.csv`.", icon=":material/content_cut:")
    source = st.session_state.get("upload_source")
    if len(report.parts) > 1 and source is not None:
        word = PART_WORDS.get(report.format, "Part")
        chosen = st.selectbox(f"{word} to read ({len(report.parts)} in this file)", report.parts,
                              index=report.parts.index(report.part) if report.part in report.parts else 0,
                              key=f"up_part_{st.session_state.data_gen}", format_func=ui.short,
                              help="This file holds several tables; signals of different sample rates are "
                                   "offered one rate at a time, never resampled.")
        if chosen != report.part:
            load(source[0], source[1], part=chosen)
    for note in report.notes:
        st.caption(f"• {ui.plain(note)}")

# ---- which columns (kept in the session, so they are still chosen after a visit to another page).
# The widget's key changes with the data (data_gen), so it always starts from this file's own defaults.
columns = list(table.values.columns)
values = st.multiselect("Column(s) to denoise", columns, format_func=ui.short,
                        default=[c for c in st.session_state.upload_columns if c in columns],
                        key=f"up_values_{st.session_state.data_gen}",
                        help="Index, time and year columns are not offered by default: they are the axis, "
                             "not a signal.")
st.session_state.upload_columns = values
chosen, _ = ui.upload_selection()
if not values:
    st.warning(f"No column picked: showing '{ui.plain(chosen[0], ui.NAME)}' for now. Pick at least one column to "
               "denoise above.", icon=":material/warning:")
refs = st.columns(min(len(chosen), 3))
for i, column in enumerate(chosen):  # each signal may have its own clean version (sensor_a -> clean_a)
    options = ui.clean_options(column)
    current = st.session_state.clean_refs.get(column)
    st.session_state.clean_refs[column] = refs[i % len(refs)].selectbox(
        f"Clean reference for '{ui.plain(column, ui.NAME)}' (optional)", options, key=f"up_clean::{column}",
        index=options.index(current) if current in options else 0,
        format_func=lambda ref, name=st.session_state.clean_name: ui.clean_label(ref, name),
        help="A noise-free version of the signal, if you have one: Compare then scores the result.")
with st.expander("Clean reference in a separate file" + (f": {ui.plain(st.session_state.clean_name, ui.NAME)}"
                                                         if st.session_state.clean_table is not None else "")):
    st.caption("A second CSV with the noise-free version of this recording (same number of rows, e.g. a "
               "simulation or a reference instrument). Its columns are then offered as clean references above.")
    clean_file = st.file_uploader("Clean reference file", type=["csv", "txt", "tsv"],
                                  key=f"clean_uploader_{st.session_state.data_gen}")
    if clean_file is not None and clean_file.file_id != st.session_state.get("clean_seen"):
        _sessions.drop_upload(clean_file)
        load_clean(clean_file, clean_file.name)
    if st.session_state.clean_error:
        st.error(ui.plain(st.session_state.clean_error), icon=":material/error:")
chosen, cleans = ui.upload_selection()

# ---- preview (long files: a min/max-preserving downsample; zoom redraws the range at full resolution)
first = ui.upload_signal(table, chosen[0], cleans[chosen[0]], st.session_state.table_name)
part = ui.zoom(first.length, f"up_zoom_{st.session_state.data_gen}", first.x)
view = ui.sliced(first, part)
traces = [(name, table.column(name)[part], kind) for name, kind in zip(chosen, ("noisy", "series2", "series3"))]
if view.clean is not None:
    traces.append((f"{ui.clean_label(cleans[chosen[0]], st.session_state.clean_name)} (clean)", view.clean, "clean"))
ui.show_zoomable(ui.signal_figure(view.x, traces, x_title=first.x_title, title="Preview"),
                 f"up_zoom_{st.session_state.data_gen}", first.length)
with st.expander("First rows of the table"):
    preview = table.values.head(200).copy()
    if table.time is not None:
        preview.insert(0, report.time_column or "time", table.time.head(200).to_numpy())
    st.dataframe(preview, width="stretch", height=260)

st.page_link("app_pages/compare.py", label="Denoise and compare these columns", icon=":material/compare_arrows:")
