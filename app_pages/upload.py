"""Upload: read a CSV of signals, report how it was read, pick the columns to denoise."""
from __future__ import annotations

from typing import IO

import streamlit as st

from denoiser.errors import InputError
from app_pages import _ui as ui

SAMPLES = {  # file -> (button label, what it shows)
    "x2_tutorial.csv": ("x² of the tutorial", "150 points with Gaussian noise, and the clean curve."),
    "two_sensors.csv": ("Two sensors", "A time column, sines with white noise and steps with impulse spikes, "
                                       "and both clean channels."),
    "temperature_semicolon.csv": ("Temperature log", "A spreadsheet export: semicolons, decimal commas, "
                                                     "timestamps, gaps, and no clean reference."),
}
DELIMITERS = {",": "comma", ";": "semicolon", "\t": "tab", " ": "whitespace"}


def load(source: bytes | IO[bytes], name: str) -> None:
    """Read a file into the session; on failure keep what was there and remember the message."""
    from denoiser.io import read_series  # pandas parsing: loaded when a file arrives

    try:
        table = read_series(source)
    except InputError as err:
        st.session_state.upload_error = str(err)
        return
    columns = list(table.values.columns)
    guesses = {c: clean_guess(c, columns) for c in columns}
    first = [c for c in columns if guesses[c]] or [c for c in columns if not is_reference(c)] or columns
    st.session_state.update(table=table, table_name=name, upload_error=None, active="upload",
                            upload_columns=first[:1], clean_refs=guesses)
    for key in [k for k in st.session_state if str(k).startswith("up_")]:  # old widgets do not fit the new table
        st.session_state.pop(key, None)
    st.rerun()  # draw the page (and the sidebar) with the new table from the top


def is_reference(column: str) -> bool:
    return any(w in column.lower() for w in ("clean", "truth", "reference"))


def clean_guess(column: str, columns: list[str]) -> str | None:
    """The column that looks like ``column``'s clean reference: named 'clean', 'truth' or 'reference',
    and sharing the longest ending with it (sensor_a -> clean_a), if the file has one."""
    candidates = [c for c in columns if c != column and is_reference(c)]
    if not candidates or is_reference(column):
        return None

    def shared_ending(c: str) -> int:
        return next((n for n in range(min(len(c), len(column)), 0, -1) if c[-n:] == column[-n:]), 0)

    return max(candidates, key=shared_ending)


st.title("Upload your data")
st.caption("A CSV, TSV or text table with one or more numeric columns, one row per sample. "
           "Delimiter, decimal mark, encoding, header and a time column are detected for you; "
           "short gaps are filled.")

upload_col, sample_col = st.columns([3, 2], gap="large")
with upload_col:
    file = st.file_uploader("Choose a file", type=["csv", "txt", "tsv"], key="uploader")
with sample_col:
    st.markdown("**Or try a sample**")
    names = ui.sample_names()
    row = st.container(horizontal=True)
    for name in sorted(names, key=lambda n: list(SAMPLES).index(n) if n in SAMPLES else len(SAMPLES)):
        label, about = SAMPLES.get(name, (name, ""))
        if row.button(label, key=f"sample_{name}", icon=":material/table_view:", help=about or None):
            load(ui.sample_bytes(name), name)

# A file is read once, when it arrives; reruns reuse the table in the session.
if file is None:
    st.session_state.upload_seen = None
elif file.file_id != st.session_state.upload_seen:
    st.session_state.upload_seen = file.file_id
    load(file, file.name)

if st.session_state.upload_error:
    kept = (f" Your previous data (**{ui.plain(st.session_state.table_name)}**) is still loaded."
            if st.session_state.table is not None else "")
    st.error(f"{ui.plain(st.session_state.upload_error)}{kept}", icon=":material/error:")

table = st.session_state.table
if table is None:
    st.info("No data yet: upload a file or click a sample.", icon=":material/info:")
    st.stop()

# ---- what was read
with st.container(key="upload_report"):  # a stable handle for tests and styling
    report = table.report
    st.subheader(f"Read: {ui.plain(st.session_state.table_name)}")
    cols = st.columns(5)
    cols[0].metric("Rows", f"{report.rows:,}")
    cols[1].metric("Value columns", len(report.columns))
    cols[2].metric("Delimiter", DELIMITERS.get(report.delimiter, repr(report.delimiter)))
    cols[3].metric("Decimal mark", "comma" if report.decimal == "," else "point")
    cols[4].metric("Gaps filled", f"{sum(report.filled.values()):,} of {sum(report.missing.values()):,}")
    time_text = (f"'{ui.plain(report.time_column)}' ({'date/time' if report.time_kind == 'datetime' else 'numeric'})"
                 if report.time_column else "none (the row number is used)")
    st.markdown(f"Encoding **{report.encoding}** · header row **{'yes' if report.header else 'no'}** · "
                f"skipped lines **{report.skipped_lines}** · time column **{time_text}**")
    for note in report.notes:
        st.caption(f"• {ui.plain(note)}")

# ---- which columns (kept in the session, so they are still chosen after a visit to another page)
columns = list(table.values.columns)
values = st.multiselect("Column(s) to denoise", columns, default=st.session_state.upload_columns, key="up_values")
st.session_state.upload_columns = values
refs = st.columns(min(len(values or columns[:1]), 3))
for i, column in enumerate(values or columns[:1]):  # each signal may have its own clean version (sensor_a -> clean_a)
    options = [None, *[c for c in columns if c != column]]
    st.session_state.clean_refs[column] = refs[i % len(refs)].selectbox(
        f"Clean reference for '{ui.plain(column)}' (optional)", options, key=f"up_clean::{column}",
        index=options.index(st.session_state.clean_refs.get(column)),
        format_func=lambda c: "none: real data, no clean version" if c is None else c,
        help="A noise-free version of the signal, if you have one: Compare then scores the result.")
chosen, cleans = ui.upload_selection()
if not values:
    st.warning(f"Pick at least one column to denoise; showing '{ui.plain(chosen[0])}' for now.")

# ---- preview
first = ui.upload_signal(table, chosen[0], cleans[chosen[0]], st.session_state.table_name)
traces = [(name, table.column(name), kind) for name, kind in zip(chosen, ("noisy", "series2", "series3"))]
if first.clean is not None:
    traces.append((f"{cleans[chosen[0]]} (clean)", first.clean, "clean"))
ui.show(ui.signal_figure(first.x, traces, x_title=first.x_title, title="Preview"))
with st.expander("First rows of the table"):
    preview = table.values.head(200).copy()
    if table.time is not None:
        preview.insert(0, report.time_column or "time", table.time.head(200).to_numpy())
    st.dataframe(preview, width="stretch", height=260)

st.page_link("app_pages/compare.py", label="Denoise and compare these columns", icon=":material/compare_arrows:")
