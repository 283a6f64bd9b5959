"""The LibreOffice extension (xlsector.oxt) without running LibreOffice: what the build reads from
udfs.xlsector_udfs, the parts of the .oxt, and the conversions the add-in applies to each call.

LibreOffice itself computing the functions is in test_libreoffice_live.py.
"""

from __future__ import annotations

import datetime as dt
import inspect
import io
import json
import math
import os
import re
import shutil
import subprocess
import types
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from xlwings import XlwingsError

from udfs import xlsector_udfs as u
from xlsector.addin.libreoffice import calls, install, office, package, spec
from xlsector.cli import main as cli_main
from xlsector.errors import XlsectorError

MANIFEST = "{http://openoffice.org/2001/manifest}"
DESCRIPTION = "{http://openoffice.org/extensions/description/2006}"
COMPONENTS = "{http://openoffice.org/2010/uno-components}"
SDK_BIN = Path("/usr/lib/libreoffice/sdk/bin")
TYPES_RDB = Path("/usr/lib/libreoffice/program/types.rdb")


def _prices(n: int = 60) -> list[list]:
    """Three funds as xlwings passes a range: header row, datetime dates, None before C starts."""
    days = pd.bdate_range("2021-01-04", periods=n)
    rng = np.random.default_rng(3)
    rows: list[list] = [["Date", "A", "B", "C"]]
    for i, day in enumerate(days):
        a, b, c = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, 3)))
        rows.append([day.to_pydatetime(), float(a) + i, float(b) - 0.1 * i, None if i < 10 else float(c)])
    return rows


def _as_calc(rows: list[list]) -> tuple[tuple, ...]:
    """The same range as LibreOffice passes it to an add-in: dates as serials, empty cells as ""."""

    def cell(v):
        if v is None:
            return ""
        if isinstance(v, dt.datetime):
            return (v - dt.datetime(1899, 12, 30)).days * 1.0
        return v

    return tuple(tuple(cell(v) for v in row) for row in rows)


def _params(name: str) -> list[str]:
    return list(inspect.signature(getattr(u, name)).parameters)


# ---------------------------------------------------------------------------- what the build reads


def test_specs_are_read_from_the_udfs_module():
    specs = spec.function_specs()
    assert [s.name for s in specs] == list(u.__all__)
    for s in specs:
        function = getattr(u, s.name)
        assert [p.name for p in s.params] == _params(s.name)
        assert [p.help for p in s.params] == [" ".join(u.DOC[p.name].split()) for p in s.params]
        assert s.description == " ".join(inspect.getdoc(function).split("\n\n")[0].split())
        assert s.description and "\n" not in s.description
        assert s.idl_name == s.name  # the Excel names are legal IDL method names as they are


def test_specs_follow_whatever_the_module_holds():
    """A function added to the module, with argument names UNO IDL does not accept as they are."""
    fake = types.ModuleType("fake_udfs")

    def NEW_SIGNAL(prices, as_of=None, type=None, x_1=None):
        """A new function.

        Details that are not the one-line help."""

    def lower_case(tc):
        """Lower-case name."""

    fake.NEW_SIGNAL, fake.lower_case = NEW_SIGNAL, lower_case
    fake.__all__ = ["NEW_SIGNAL", "lower_case"]
    fake.DOC = {"prices": "Price range.", "as_of": "Date to report;\n   blank = last row."}
    specs = spec.function_specs(fake)
    assert [(s.name, s.idl_name, s.description) for s in specs] == [
        ("NEW_SIGNAL", "NEW_SIGNAL", "A new function."),
        ("lower_case", "lowerCase", "Lower-case name."),
    ]
    params = specs[0].params
    assert [p.name for p in params] == ["prices", "as_of", "type", "x_1"]
    # as_of and x_1 are illegal in IDL (lower-case start with "_"), type is a reserved word
    assert [p.idl_name for p in params] == ["prices", "asOf", "typeArg", "x1"]
    assert [p.help for p in params] == ["Price range.", "Date to report; blank = last row.", "", ""]
    text = spec.idl_text(specs)
    assert (
        "sequence< sequence< any > > NEW_SIGNAL([in] any prices, [in] any asOf, [in] any typeArg, "
        "[in] any x1);"
    ) in text
    assert "sequence< sequence< any > > lowerCase([in] any tc);" in text
    with zipfile.ZipFile(io.BytesIO(package.extension_bytes(specs))) as oxt:
        assert spec.specs_from_json(json.loads(oxt.read("xlsector-calc.json"))["functions"]) == specs


def test_specs_refuse_what_cannot_be_an_add_in_function():
    fake = types.ModuleType("fake_udfs")
    fake.__all__ = ["F"]

    def F(prices, *more):
        """Varargs."""

    fake.F = F
    with pytest.raises(XlsectorError, match=r"fake_udfs.F: parameter more is variadic positional"):
        spec.function_specs(fake)

    def G(as_of, asOf):
        """Two arguments with one IDL name."""

    fake.F = G
    with pytest.raises(XlsectorError, match="same IDL name"):
        spec.function_specs(fake)
    fake.__all__ = []
    with pytest.raises(XlsectorError, match="no __all__"):
        spec.function_specs(fake)


def test_idl_names_follow_unoidl_rules():
    # what unoidl-write 25.2 accepts: lower-case start without "_", upper-case start with inner "_"
    assert spec._idl_name("as_of") == "asOf"
    assert spec._idl_name("cost_bp") == "costBp"
    assert spec._idl_name("tc") == "tc"
    assert spec._idl_name("EMA2_TREND") == "EMA2_TREND"
    assert spec._idl_name("type") == "typeArg"
    assert spec._idl_name("x_1") == "x1"
    assert spec._idl_name("_private") == "private"
    assert spec._idl_name("2d") == "arg2d"


def _require_sdk() -> Path:
    tool = shutil.which("unoidl-write") or (SDK_BIN / "unoidl-write")
    if Path(tool).is_file() and TYPES_RDB.is_file():
        return Path(tool)
    reason = "unoidl-write (LibreOffice SDK, Debian package libreoffice-dev) is needed for this test"
    if os.environ.get("XLSECTOR_REQUIRE_LIBREOFFICE", "") not in ("", "0"):
        pytest.fail(reason + " (XLSECTOR_REQUIRE_LIBREOFFICE=1)")
    pytest.skip(reason)


def test_idl_compiles_with_the_sdk_and_declares_every_function(tmp_path):
    """The IDL LibreOffice reads from the .oxt is what the SDK's own compiler accepts, method for method."""
    writer = _require_sdk()
    specs = spec.function_specs()
    with zipfile.ZipFile(io.BytesIO(package.extension_bytes(specs))) as oxt:
        (tmp_path / spec.IDL_NAME).write_bytes(oxt.read(spec.IDL_NAME))
    rdb = tmp_path / "types.rdb"
    proc = subprocess.run(
        [str(writer), str(TYPES_RDB), str(tmp_path / spec.IDL_NAME), str(rdb)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    listing = subprocess.run(
        [str(writer.with_name("unoidl-read")), str(rdb)], capture_output=True, text=True, check=True
    ).stdout
    methods = dict(re.findall(r"sequence<\s*sequence<\s*any\s*>\s*>\s+(\w+)\(([^)]*)\);", listing))
    assert list(methods) == [s.idl_name for s in specs]
    for s in specs:
        assert re.findall(r"\[in\] any (\w+)", methods[s.idl_name]) == [p.idl_name for p in s.params]


# ---------------------------------------------------------------------------- the .oxt


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("oxt")
    assert cli_main(["addin", "build", "-o", str(folder)]) == 0
    return folder


def test_addin_build_writes_the_extension_beside_the_xlam(built):
    assert {p.name for p in built.iterdir()} == {"xlsector.xlam", "manifest.xml", "xlsector.oxt"}


def test_addin_build_can_skip_the_extension(tmp_path):
    assert cli_main(["addin", "build", "-o", str(tmp_path), "--no-libreoffice", "--no-manifest"]) == 0
    assert [p.name for p in tmp_path.iterdir()] == ["xlsector.xlam"]


def test_extension_is_a_zip_with_the_expected_parts(built):
    with zipfile.ZipFile(built / "xlsector.oxt") as oxt:
        assert oxt.testzip() is None
        names = oxt.namelist()
        assert sorted(names) == sorted(
            [
                "META-INF/manifest.xml",
                "description.xml",
                spec.IDL_NAME,
                "xlsector.components",
                "xlsector_calc.py",
                "xlsector-calc.json",
            ]
        )
        manifest = ET.fromstring(oxt.read("META-INF/manifest.xml"))
        description = ET.fromstring(oxt.read("description.xml"))
        components = ET.fromstring(oxt.read("xlsector.components"))
        metadata = json.loads(oxt.read("xlsector-calc.json"))
        component = oxt.read("xlsector_calc.py").decode()
        idl = oxt.read(spec.IDL_NAME).decode()
    entries = {
        e.get(f"{MANIFEST}full-path"): e.get(f"{MANIFEST}media-type")
        for e in manifest.iter(f"{MANIFEST}file-entry")
    }
    assert entries == {
        spec.IDL_NAME: "application/vnd.sun.star.uno-typelibrary;type=RDB",
        "xlsector.components": "application/vnd.sun.star.uno-components",
    }
    assert description.find(f"{DESCRIPTION}identifier").get("value") == "org.xlsector.calc"
    from xlsector import __version__

    assert description.find(f"{DESCRIPTION}version").get("value") == __version__
    (comp,) = components.iter(f"{COMPONENTS}component")
    assert comp.get("loader") == "com.sun.star.loader.Python" and comp.get("uri") == "./xlsector_calc.py"
    (impl,) = comp.iter(f"{COMPONENTS}implementation")
    assert impl.get("name") == spec.SERVICE
    assert {s.get("name") for s in impl.iter(f"{COMPONENTS}service")} == {
        spec.SERVICE,
        "com.sun.star.sheet.AddIn",
    }
    # the component is xlsector's module, and names the same service and interface
    assert component == (Path(package.__file__).with_name("component.py")).read_text()
    assert "from org.xlsector.calc import XXlsectorFunctions" in component
    assert spec.INTERFACE.rsplit(".", 1)[1] in idl
    # what the component reads: every function of the module; no site-packages recorded by a plain build
    assert spec.specs_from_json(metadata["functions"]) == spec.function_specs()
    assert metadata["service"] == spec.SERVICE and metadata["module"] == "udfs.xlsector_udfs"
    assert metadata["site_dirs"] == [] and metadata["python"] is None
    assert idl == spec.idl_text(spec.function_specs(), comment=idl.split("\nmodule")[0].replace("// ", ""))


def test_extension_bytes_are_reproducible_and_record_the_environment():
    assert package.extension_bytes() == package.extension_bytes()
    dirs = package.environment_site_dirs()
    import sysconfig

    assert str(Path(sysconfig.get_paths()["purelib"]).resolve()) in dirs
    assert str(Path(u.__file__).resolve().parents[1]) in dirs  # where udfs is imported from
    data = package.extension_bytes(site_dirs=dirs, python=(3, 11))
    with zipfile.ZipFile(io.BytesIO(data)) as oxt:
        metadata = json.loads(oxt.read("xlsector-calc.json"))
    assert metadata["site_dirs"] == dirs and metadata["python"] == [3, 11]


def test_build_extension_refuses_another_suffix(tmp_path):
    with pytest.raises(XlsectorError, match=r"must end in \.oxt"):
        package.build_extension(tmp_path / "xlsector.zip")


# ---------------------------------------------------------------------------- each call


def test_arguments_become_what_xlwings_passes():
    assert calls.to_python(((1.0, ""), ("a", 2.0))) == [[1.0, None], ["a", 2.0]]
    assert calls.to_python("") is None and calls.to_python(None) is None
    assert calls.to_python(50.0) == 50.0 and calls.to_python("daily") == "daily"


def test_results_become_cells_libreoffice_can_show():
    row = [
        1,
        np.int64(2),
        np.float64("nan"),
        float("inf"),
        pd.Timestamp("2020-01-01"),
        pd.NaT,
        np.datetime64("2020-01-02"),
        dt.date(2020, 1, 3),
        np.True_,
        False,
        "x",
        None,
    ]
    assert calls.to_calc([row, ["only"]]) == (
        (1.0, 2.0, None, None, 43831.0, None, 43832.0, 43833.0, True, False, "x", None),
        ("only",) + (None,) * 11,
    )
    assert calls.to_calc("XOM") == (("XOM",),)
    assert calls.to_calc(np.float64(0.5)) == ((0.5,),)
    assert calls.to_calc([1, 2]) == ((1.0, 2.0),)  # a flat list is a row, as xlwings writes it
    assert calls.to_calc([]) == ((None,),)
    for value in (np.int64(1), np.float32(1.5), np.bool_(True), np.str_("s")):
        (cell,) = calls.to_calc(value)[0]
        assert type(cell) in (float, bool, str)  # plain Python: a numpy scalar turns a whole array #VALUE!


def test_a_call_equals_the_udfs_function():
    prices = _prices()
    got = calls.call("EMA2_TREND", (_as_calc(prices), 20.0, None, None, None), _params("EMA2_TREND"))
    assert got == calls.to_calc(u.EMA2_TREND(prices, 20))
    got = calls.call("SECTOR_PICKS", (_as_calc(prices), 10.0) + (None,) * 14, _params("SECTOR_PICKS"))
    want = u.SECTOR_PICKS(prices, 10)
    assert got[0] == ("Date", "Holding") and len(got) == len(want)
    assert got[1] == ((want[1][0] - dt.datetime(1899, 12, 30)).days * 1.0, want[1][1])


def test_user_errors_show_as_a_message_in_the_cell():
    got = calls.call("SECTOR_PICK", (_as_calc(_prices()), "abc") + (None,) * 13, _params("SECTOR_PICK"))
    with pytest.raises(XlwingsError) as raised:
        u.SECTOR_PICK(_prices(), "abc")
    assert got == (("#VALUE! " + str(raised.value),),)
    assert got[0][0].startswith("#VALUE! tc must be a number")


def test_a_blank_single_cell_passed_as_zero_is_read_as_blank_where_zero_is_invalid():
    """LibreOffice passes an empty single cell as 0.0: a 0 decay (invalid) is retried as blank (= tc)."""
    prices = _prices()
    args = [_as_calc(prices), 10.0] + [None] * 13
    params = _params("SECTOR_PICK")
    args[params.index("decay")] = 0.0
    assert calls.call("SECTOR_PICK", tuple(args), params) == ((u.SECTOR_PICK(prices, 10, decay=None),),)
    # ... but where 0 is a valid value it stays 0 (hysteresis 0 = off), and an invalid one still errors
    args[params.index("hysteresis")] = 0.0
    assert calls.call("SECTOR_PICK", tuple(args), params) == ((u.SECTOR_PICK(prices, 10, hysteresis=0.0),),)
    args[params.index("k")] = -1.0
    assert calls.call("SECTOR_PICK", tuple(args), params)[0][0].startswith("#VALUE! k (the scale) must be")


def test_a_bug_or_a_stale_extension_is_a_message_not_an_exception(monkeypatch):
    got = calls.call("EMA2_TREND", (_as_calc(_prices()), 20.0), ["prices", "tc"])  # built for other params
    assert got[0][0].startswith("#VALUE! the xlsector extension was built for another version")
    assert "install-libreoffice" in got[0][0]
    assert calls.call("NO_SUCH", (), [])[0][0].startswith("#VALUE! the xlsector extension was built")

    def broken(prices, tc, k=None, header=None, dates=None):
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(u, "EMA2_TREND", broken)
    got = calls.call("EMA2_TREND", (1.0, 2.0, None, None, None), _params("EMA2_TREND"))
    assert got == (("#VALUE! internal error in EMA2_TREND: ZeroDivisionError: boom",),)


def test_result_cells_round_trip_numbers_exactly():
    values = [0.1, 1e-300, -2.5e10, math.pi]
    assert calls.to_calc([values]) == (tuple(values),)


# ---------------------------------------------------------------------------- install, refused


def test_install_refuses_a_profile_in_use(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(install, "find_soffice", lambda explicit=None: "/usr/bin/soffice")
    monkeypatch.setattr(install, "find_uno_python", lambda soffice, explicit=None: "python-with-uno")
    import sys

    monkeypatch.setattr(
        install, "run_helper", lambda python, *args, **kw: {"python": list(sys.version_info[:2])}
    )
    (tmp_path / ".lock").write_text("")
    assert cli_main(["addin", "install-libreoffice", "--profile", str(tmp_path)]) == 1
    assert (
        capsys.readouterr().err
        == f"Error: LibreOffice is running on the profile {tmp_path}: close it, then try again\n"
    )


def test_install_refuses_another_python_version(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(install, "find_soffice", lambda explicit=None: "/usr/bin/soffice")
    monkeypatch.setattr(install, "find_uno_python", lambda soffice, explicit=None: "python-with-uno")
    monkeypatch.setattr(install, "run_helper", lambda python, *args, **kw: {"python": [2, 7]})
    assert cli_main(["addin", "install-libreoffice", "--profile", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("Error: LibreOffice's Python is 2.7 but this is Python 3.")
    assert not list(tmp_path.iterdir())  # nothing written


def test_missing_libreoffice_is_a_clear_error(capsys):
    with pytest.raises(XlsectorError, match="LibreOffice program not found at /nowhere/soffice"):
        office.find_soffice("/nowhere/soffice")
    assert cli_main(["addin", "install-libreoffice", "--soffice", "/nowhere/soffice"]) == 1
    assert capsys.readouterr().err == "Error: LibreOffice program not found at /nowhere/soffice\n"
