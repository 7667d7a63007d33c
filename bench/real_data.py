"""Real measured series for the ``real`` benchmark, read from data that ships inside wheels.

No download at run time: every series comes from a file inside an installed package
(``bench/requirements-bench.txt``, installed by ``make bench`` with ``--no-deps``, plus
PyWavelets from the app's own requirements). The files are read by path; the
packages themselves are never imported, so their dependencies need not be installed.

The channels (29, 7 characters):

========================  ==============  ============================================================
character                 channels        source
========================  ==============  ============================================================
physiological             3               ECG (MIT-BIH excerpts in PyWavelets and sktime), arterial blood
                                          pressure (UCR anomaly archive 135 "InternalBleeding16", in aeon)
inertial                  9               Daphnet freezing-of-gait accelerometers: ankle, thigh, trunk,
                                          3 axes each, 64 Hz (aeon)
seismic                   3               BW.RJOB EHZ/EHN/EHE, 100 Hz: the example ``obspy.read()`` returns
electrical                6               ElectricDevices (UCR, aeon segmentation set), two ACSF1
                                          appliance power records, half-hourly solar generation (aeon),
                                          two PLAID appliance current waveforms (sktime)
environmental             3               Mauna Loa CO2 weekly (statsmodels), El Nino SST monthly
                                          (statsmodels), Nino 3 SST monthly (PyWavelets)
astronomical              1               yearly sunspot numbers 1700-2008 (statsmodels)
economic                  4               US real GDP growth, inflation, unemployment (quarterly,
                                          statsmodels macrodata); euro-area electrical equipment index
========================  ==============  ============================================================

Each channel is NaN-free (short gaps bridged, otherwise the longest complete stretch),
float64, at most :data:`MAX_LENGTH` samples, and deterministic. :func:`load_channels`
caches them in ``bench/_out/real_channels.npz`` (keyed on the pinned versions) so
repeated runs start fast.
"""

from __future__ import annotations

import csv
import hashlib
import importlib.util
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from denoiser.errors import InputError

OUT = Path(__file__).resolve().parent / "_out"
CACHE = OUT / "real_channels.npz"
REQUIREMENTS = Path(__file__).resolve().parent / "requirements-bench.txt"
MAX_LENGTH = 25_000  # cut of the original 29 channels (none reaches it); the long ones below set their own
LONG_LENGTH = 1_000_000  # the one long channel: a day of seismic ground motion, mirrored to 10^6 samples
LOADER_VERSION = 3  # bump when the channel list or the cutting changes: invalidates the cache
CHARACTERS = ("physiological", "inertial", "seismic", "electrical", "environmental", "astronomical", "economic")


@dataclass(frozen=True)
class Channel:
    """One real measured series.

    Attributes
    ----------
    name : short unique name, e.g. "daphnet_ankle_fwd"
    character : one of :data:`CHARACTERS`
    data : ndarray, shape (n,), float64, finite
    source : package and file it came from, in words
    """

    name: str
    character: str
    data: np.ndarray
    source: str

    def __repr__(self) -> str:
        return f"Channel({self.name!r}, {self.character}, n={self.data.size}, {self.source})"


def package_dir(name: str) -> Path:
    """Folder of an installed package, found without importing it (its dependencies may be absent)."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise InputError(
            f"Package {name!r} is not installed; run "
            f"`.venv/bin/pip install --no-deps -r bench/requirements-bench.txt` (or `make bench`)."
        )
    return Path(list(spec.submodule_search_locations)[0])


def _csv_columns(path: Path, *, header: bool = True) -> dict[str, np.ndarray]:
    """Numeric columns of a small CSV file; cells that are not numbers become NaN."""
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    names = [h.strip().strip('"') for h in rows[0]] if header else [str(i) for i in range(len(rows[0]))]
    body = rows[1:] if header else rows

    def num(s: str) -> float:
        try:
            return float(s)
        except ValueError:
            return float("nan")

    return {n: np.array([num(r[i]) if i < len(r) else np.nan for r in body]) for i, n in enumerate(names)}


def _ts_cases(path: Path) -> list[tuple[np.ndarray, str]]:
    """Univariate cases of a sktime/aeon ``.ts`` file: (values, class label)."""
    out = []
    data = False
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            if line.lower().startswith("@data"):
                data = True
                continue
            if data:
                values, label = line.rsplit(":", 1)
                out.append((np.array([float(v) for v in values.split(",")]), label.strip()))
    return out


def _complete(x: np.ndarray, max_gap: int = 2, max_length: int = MAX_LENGTH) -> np.ndarray:
    """Bridge gaps of at most ``max_gap`` samples linearly, then keep the longest NaN-free stretch."""
    x = np.asarray(x, dtype=np.float64).copy()
    bad = ~np.isfinite(x)
    if bad.any():
        idx = np.arange(x.size)
        # Label runs of NaN; bridge only the short ones that have a finite neighbour on both sides.
        edges = np.flatnonzero(np.diff(np.r_[0, bad.astype(int), 0]))
        for start, stop in zip(edges[::2], edges[1::2]):
            if stop - start <= max_gap and start > 0 and stop < x.size:
                x[start:stop] = np.interp(idx[start:stop], [start - 1, stop], [x[start - 1], x[stop]])
        good = np.isfinite(x)
        edges = np.flatnonzero(np.diff(np.r_[0, good.astype(int), 0]))
        starts, stops = edges[::2], edges[1::2]
        k = int(np.argmax(stops - starts))
        x = x[starts[k] : stops[k]]
    return x[:max_length]


def _build() -> list[Channel]:
    pywt_dir, sm, aeon, obspy, sktime = (package_dir(p) for p in ("pywt", "statsmodels", "aeon", "obspy", "sktime"))
    smd, ad, sk = sm / "datasets", aeon / "datasets" / "data", sktime / "datasets" / "data"
    ch: list[Channel] = []

    def add(name: str, character: str, data: np.ndarray, source: str, max_length: int = MAX_LENGTH) -> None:
        ch.append(Channel(name, character, _complete(data, max_length=max_length), source))

    # physiological
    add(
        "ecg_mitbih",
        "physiological",
        np.load(pywt_dir / "data" / "ecg.npz")["data"],
        "PyWavelets pywt.data.ecg (MIT-BIH, 360 Hz)",
    )
    add(
        "ecg_mitdb_long",
        "physiological",
        _csv_columns(sk / "mitdb" / "mitdb.csv")["data"],
        "sktime mitdb (MIT-BIH ECG excerpt, 360 Hz)",
    )
    abp = _csv_columns(ad / "KDD-TSAD_135" / "135_UCR_Anomaly_InternalBleeding16_TEST.csv")["value"]
    add("abp_ucr135", "physiological", abp, "aeon UCR anomaly 135 InternalBleeding16 (arterial blood pressure)")
    # inertial: the Daphnet recording (3 accelerometers x 3 axes, 64 Hz, integer mg)
    daph = _csv_columns(ad / "Daphnet_S06R02E0" / "S06R02E0.csv")
    for col in (
        "ankle_horiz_fwd",
        "ankle_vert",
        "ankle_horiz_lateral",
        "leg_horiz_fwd",
        "leg_vert",
        "leg_horiz_lateral",
        "trunk_horiz_fwd",
        "trunk_vert",
        "trunk_horiz_lateral",
    ):
        short = col.replace("horiz_", "").replace("lateral", "lat")
        add(f"daphnet_{short}", "inertial", daph[col], f"aeon Daphnet S06R02E0 accelerometer {col} (64 Hz)")
    # seismic: exactly the stream obspy.read() returns without arguments
    seis = np.load(obspy / "core" / "data" / "example.npz")
    for comp in ("EHZ", "EHN", "EHE"):
        add(f"seismic_rjob_{comp.lower()}", "seismic", seis[comp], f"obspy example stream BW.RJOB..{comp} (100 Hz)")
    # electrical
    add(
        "electric_devices",
        "electrical",
        _csv_columns(ad / "segmentation" / "ElectricDevices.csv", header=False)["1"],
        "aeon segmentation ElectricDevices (household appliance power, concatenated records)",
    )
    cases = _ts_cases(ad / "ACSF1" / "ACSF1_TEST.ts")
    # class 5 repeats a 4-sample pattern (nearly all its power above fs/4), class 8 is milder
    for label in ("5", "8"):
        # First record of each class whose values are not mostly held constant (a live appliance).
        rec = next(v for v, lab in cases if lab == label and np.mean(np.diff(v) == 0) < 0.2)
        add(f"acsf1_class{label}", "electrical", rec, f"aeon ACSF1 appliance power, class {label}")
    plaid = _ts_cases(sk / "PLAID" / "PLAID_TEST.ts")
    for label in ("3", "10"):
        # the longest record of the class (1,000 samples): an appliance's current waveform
        rec = max((v for v, lab in plaid if lab == label), key=len)
        add(f"plaid_current_class{label}", "electrical", rec, f"sktime PLAID appliance current, class {label}")
    add(
        "solar_half_hourly",
        "electrical",
        _csv_columns(ad / "solar" / "solar.csv")["solar_gen"],
        "aeon solar (half-hourly generation)",
    )
    # environmental
    add(
        "co2_mauna_loa",
        "environmental",
        _csv_columns(smd / "co2" / "co2.csv")["co2"],
        "statsmodels co2 (weekly, Mauna Loa; longest complete stretch)",
    )
    eln = _csv_columns(smd / "elnino" / "elnino.csv")
    months = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
    add(
        "elnino_sst_monthly",
        "environmental",
        np.column_stack([eln[m] for m in months]).ravel(),
        "statsmodels elnino (monthly SST 1950-2010)",
    )
    # the monthly table behind pywt.data.nino(): column 4 is Nino 3 (pywt averages it to quarters)
    nino = np.load(pywt_dir / "data" / "sst_nino3.npz")["data"]
    add(
        "nino3_sst_monthly",
        "environmental",
        np.asarray(nino)[:, 4],
        "PyWavelets sst_nino3 (monthly Nino 3 SST 1950-2016)",
    )
    # astronomical
    add(
        "sunspots_yearly",
        "astronomical",
        _csv_columns(smd / "sunspots" / "sunspots.csv")["SUNACTIVITY"],
        "statsmodels sunspots (yearly 1700-2008)",
    )
    # economic
    mac = _csv_columns(smd / "macrodata" / "macrodata.csv")
    add(
        "us_gdp_growth",
        "economic",
        100 * np.diff(np.log(mac["realgdp"])),
        "statsmodels macrodata realgdp (quarterly log growth, %)",
    )
    add("us_inflation", "economic", mac["infl"], "statsmodels macrodata infl (quarterly)")
    add("us_unemployment", "economic", mac["unemp"], "statsmodels macrodata unemp (quarterly)")
    elec = _csv_columns(smd / "elec_equip" / "elec_equip.csv")
    add(
        "eu_elec_equip_index",
        "economic",
        elec[next(k for k in elec if k != "DATE")],
        "statsmodels elec_equip (monthly euro-area orders index)",
    )
    _add_v3(add, ad, smd, obspy)
    return ch


def _add_v3(add, ad: Path, smd: Path, obspy: Path) -> None:  # the local add of _build
    """Channels added for issue 18: short series (<= 512 samples), long ones (8k-100k) and one of 10^6.

    Short series are where a blind method has least to go on: UCR shape outlines (smooth,
    oversampled), yearly/monthly counts, and short cuts of broadband recordings.
    """
    hp, hrv = package_dir("heartpy") / "data", package_dir("pyhrv") / "files"
    ucr = {
        "gunpoint": ("GunPoint", "GunPoint_TEST.ts", "hand motion x-coordinate"),
        "arrowhead": ("ArrowHead", "ArrowHead_TEST.ts", "arrowhead outline"),
        "osuleaf": ("OSULeaf", "OSULeaf_TEST.ts", "leaf outline"),
    }
    for name, (folder, file, what) in ucr.items():
        rec = _ts_cases(ad / folder / file)[0][0]
        add(f"ucr_{name}", "shape", rec, f"aeon UCR {folder} first test case ({what}, {rec.size} samples)")
    lynx = _csv_columns(ad / "Lynx" / "Lynx.csv")
    add("lynx_yearly", "ecological", lynx[next(k for k in lynx if k)], "aeon Lynx (yearly trappings 1821-1934)")
    add(
        "airline_monthly",
        "economic",
        _csv_columns(ad / "Airline" / "Airline.csv")["Passengers"],
        "aeon Airline (monthly passengers 1949-1960)",
    )
    add(
        "nile_yearly",
        "environmental",
        _csv_columns(smd / "nile" / "nile.csv")["volume"],
        "statsmodels nile (yearly flow 1871-1970)",
    )
    # short cuts of broadband recordings: a beat and a half of ECG, a burst of the seismogram, 5 s of gait
    add(
        "ecg_mitbih_short",
        "physiological",
        np.load(package_dir("pywt") / "data" / "ecg.npz")["data"][:400],
        "PyWavelets pywt.data.ecg, first 400 samples",
    )
    seis = np.load(obspy / "core" / "data" / "example.npz")["EHZ"]
    add("seismic_rjob_ehz_short", "seismic", seis[1200:1700], "obspy example BW.RJOB..EHZ, samples 1200-1699")
    daph = _csv_columns(ad / "Daphnet_S06R02E0" / "S06R02E0.csv")["ankle_vert"]
    add("daphnet_ankle_vert_short", "inertial", daph[2000:2320], "aeon Daphnet S06R02E0 ankle_vert, samples 2000-2319")
    # long ones (8k-100k samples)
    ppg2 = _csv_columns(hp / "data2.csv")["hr"]
    add("ppg_heartpy_15k", "physiological", ppg2, "heartpy data2.csv (photoplethysmogram, ~100 Hz)", 100_000)
    ppg3 = _csv_columns(hp / "data3.csv")["hr"]
    add("ppg_heartpy_68k", "physiological", ppg3, "heartpy data3.csv (photoplethysmogram, ~64 Hz)", 100_000)
    ecg = _opensignals(hrv / "SampleECG.txt")
    add("ecg_bitalino_22k", "physiological", ecg, "pyhrv SampleECG.txt (BITalino ECG, 1 kHz)", 100_000)
    karc = _gz_numbers(obspy / "signal" / "tests" / "data" / "KARC_corrected.sac.asc.gz")
    add("seismic_karc_day", "seismic", karc, "obspy KARC_corrected.sac (a day of LHZ ground velocity, 1 Hz)", 100_000)
    # 10^6 samples: a day of BW.KW1 EHZ (936,001 samples after downsampling) followed by its own end
    # played backwards (continuous at the seam; the same instrument and day, no repeats in one direction)
    day = _gz_numbers(obspy / "signal" / "tests" / "data" / "BW.KW1._.EHZ.D.2011.090_downsampled.asc.gz")
    long = np.r_[day, day[::-1][1 : LONG_LENGTH - day.size + 1]]
    add(
        "seismic_kw1_day_1m",
        "seismic",
        long,
        f"obspy BW.KW1..EHZ day 2011.090 downsampled ({day.size:,} samples) + its last "
        f"{LONG_LENGTH - day.size:,} reversed",
        LONG_LENGTH,
    )


def _opensignals(path: Path) -> np.ndarray:
    """The last column (the analogue channel) of an OpenSignals text file."""
    rows = [line.split() for line in path.read_text(encoding="utf-8").splitlines() if line and line[0] != "#"]
    return np.array([float(r[-1]) for r in rows])


def _gz_numbers(path: Path) -> np.ndarray:
    """One number per line of a gzip'd text file."""
    import gzip

    with gzip.open(path, "rt", encoding="ascii") as f:
        return np.loadtxt(f, dtype=np.float64)


def _fingerprint() -> str:
    text = REQUIREMENTS.read_text(encoding="utf-8") if REQUIREMENTS.exists() else ""
    return hashlib.sha1(f"{LOADER_VERSION}\n{text}".encode()).hexdigest()[:12]


def load_channels(*, cache: bool = True) -> list[Channel]:
    """All real channels of the benchmark, in a fixed order.

    Parameters
    ----------
    cache : read/write ``bench/_out/real_channels.npz`` (rebuilt when the pins or the loader change)

    Returns
    -------
    channels : list of :class:`Channel`, each ``data`` of shape (n,), 100 <= n <= 1,000,000
    """
    key = _fingerprint()
    if cache and CACHE.exists():
        try:
            with np.load(CACHE, allow_pickle=False) as z:
                if str(z["key"]) == key:
                    meta = z["meta"]
                    return [
                        Channel(str(m[0]), str(m[1]), z[f"d{i}"].astype(np.float64), str(m[2]))
                        for i, m in enumerate(meta)
                    ]
        except (OSError, KeyError, ValueError):
            pass  # a stale or broken cache is rebuilt
    channels = _build()
    for c in channels:
        if not np.all(np.isfinite(c.data)) or c.data.size < 100:
            raise InputError(
                f"Channel {c.name} is not usable ({c.data.size} samples, NaN-free: "
                f"{bool(np.all(np.isfinite(c.data)))})."
            )
    if cache:
        OUT.mkdir(parents=True, exist_ok=True)
        meta = np.array([[c.name, c.character, c.source] for c in channels])
        np.savez_compressed(CACHE, key=np.array(key), meta=meta, **{f"d{i}": c.data for i, c in enumerate(channels)})
    return channels


if __name__ == "__main__":
    chans = load_channels(cache=False)
    for c in chans:
        d = c.data
        print(f"{c.name:24s} {c.character:14s} n={d.size:6d} mean={d.mean():10.4g} std={d.std():10.4g}  {c.source}")
    print(f"{len(chans)} channels, {len({c.character for c in chans})} characters")
