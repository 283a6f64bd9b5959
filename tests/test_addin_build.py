"""`xlsector addin build`: the classic add-in (xlsector.xlam) and the Office.js manifest, checked on Linux."""

from __future__ import annotations

import importlib
import inspect
import io
import re
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pytest

from xlsector.addin import build
from xlsector.cli import main as cli_main

REPO = Path(__file__).resolve().parents[1]
CUSTOMUI = "{http://schemas.microsoft.com/office/2006/01/customui}"
OFFICE = "{http://schemas.microsoft.com/office/taskpaneappversionoverrides}"
XSI = "{http://www.w3.org/2001/XMLSchema-instance}"
MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"


@pytest.fixture(scope="module")
def addin(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("addin")
    assert cli_main(["addin", "build", "-o", str(folder)]) == 0
    return folder / "xlsector.xlam"


def test_built_addin_is_a_valid_zip_with_the_templates_parts(addin):
    with zipfile.ZipFile(addin) as built, zipfile.ZipFile(build.template_path()) as template:
        assert built.testzip() is None
        assert built.namelist() == template.namelist()  # same parts, same order
        changed = {n for n in template.namelist() if built.read(n) != template.read(n)}
    assert changed == {"customUI/customUI.xml", "xl/workbook.xml", "xl/worksheets/sheet1.xml"}


def test_vba_project_is_xlwings_own_byte_for_byte(addin):
    with zipfile.ZipFile(addin) as built, zipfile.ZipFile(build.template_path()) as template:
        assert built.read("xl/vbaProject.bin") == template.read("xl/vbaProject.bin")


def test_ribbon_has_an_xlsector_tab_whose_button_runs_the_refresh(addin):
    with zipfile.ZipFile(addin) as built:
        root = ET.fromstring(built.read("customUI/customUI.xml"))
        vba = built.read("xl/vbaProject.bin")
    tabs = root.findall(f".//{CUSTOMUI}tab")
    assert [t.get("label") for t in tabs] == ["xlsector"]
    (button,) = tabs[0].findall(f".//{CUSTOMUI}button")
    assert button.get("label") == "Refresh data"
    # the callback is the template's own VBA procedure RibbonMyAddin.RunMain, which runs
    # RunPython "import <add-in file name>; <add-in file name>.main()" (read with olevba from xlwings 0.37.8)
    assert button.get("onAction") == "RibbonMyAddin.RunMain"
    assert b"Module=RibbonMyAddin" in vba and b"RunMain" in vba
    # ... so with the add-in named xlsector.xlam the button calls xlsector.main(), the refresh entry point
    from xlsector.addin.refresh import main, refresh_book

    assert addin.stem == "xlsector"
    entry = getattr(importlib.import_module(addin.stem), "main", None)
    assert entry is main, "xlsector.main must be exported (lazily) as xlsector.addin.refresh.main"
    source = inspect.getsource(main)
    assert "refresh_book(book)" in source and "recalculate_book(book" in source  # then what is not a formula
    assert callable(refresh_book)


def test_configuration_names_the_udf_module_and_is_enabled(addin):
    with zipfile.ZipFile(addin) as built:
        workbook_xml = built.read("xl/workbook.xml").decode()
    assert 'name="myaddin.conf"' in workbook_xml and "_myaddin.conf" not in workbook_xml
    # xlwings' VBA reads the sheet PROJECT_NAME & ".conf"; PROJECT_NAME is "myaddin" in the template
    bas = (build.template_path().parent / "xlwings_custom_addin.bas").read_text()
    assert 'Public Const PROJECT_NAME As String = "myaddin"' in bas
    # the workbook's only sheet (rId3 -> worksheets/sheet1.xml) holds the configuration (openpyxl does not
    # open add-ins, so the cells are read from the sheet XML)
    with zipfile.ZipFile(addin) as built:
        rels = built.read("xl/_rels/workbook.xml.rels").decode()
        sheet = ET.fromstring(built.read("xl/worksheets/sheet1.xml"))
    assert re.search(r'Id="rId3"[^>]*Target="worksheets/sheet1.xml"', rels)
    assert 'r:id="rId3"' in workbook_xml
    cells = {}
    for cell in sheet.iter(f"{MAIN}c"):
        if cell.get("t") == "inlineStr":
            cells[cell.get("r")] = cell.find(f"{MAIN}is/{MAIN}t").text
        elif cell.get("t") == "b":
            cells[cell.get("r")] = cell.find(f"{MAIN}v").text == "1"
    keys = [cells[f"A{i}"] for i in range(1, 5)]  # contiguous from A1: the VBA reads A1 down to the first blank
    config = {key: cells[f"B{i}"] for i, key in enumerate(keys, start=1)}
    assert len(cells) == 8
    assert config == {"UDF Modules": "udfs.xlsector_udfs", "Debug UDFs": False, "Use UDF Server": False,
                      "Show Console": False}  # fmt: skip
    module = importlib.import_module(config["UDF Modules"])
    assert hasattr(module, "EMA2_TREND") and hasattr(module, "SECTOR_PICK")


def test_configuration_options_and_reproducible_bytes(tmp_path):
    first = build.addin_bytes()
    assert build.addin_bytes() == first  # same template, same bytes
    custom = build.addin_bytes(udf_modules="xlsector_udfs", pythonpath=r"C:\xlsector\udfs",
                               interpreter_win=r"C:\Python311\python.exe")  # fmt: skip
    with zipfile.ZipFile(io.BytesIO(custom)) as z:
        sheet = z.read("xl/worksheets/sheet1.xml").decode()
    keys = re.findall(r'<c r="A\d+"[^>]*><is><t>([^<]*)</t>', sheet)
    assert keys == ["UDF Modules", "PYTHONPATH", "Interpreter_Win", "Debug UDFs", "Use UDF Server", "Show Console"]
    assert r"<t>C:\xlsector\udfs</t>" in sheet and "<t>xlsector_udfs</t>" in sheet
    with pytest.raises(Exception, match="udf_modules must be Python module names"):
        build.addin_bytes(udf_modules="udfs/xlsector_udfs.py")


def test_committed_addin_is_a_fresh_build():
    committed = REPO / "workbooks" / "xlsector.xlam"
    assert committed.is_file(), "workbooks/xlsector.xlam: run `xlsector addin build -o workbooks`"
    assert committed.read_bytes() == build.addin_bytes(), (
        "workbooks/xlsector.xlam differs from a build with the installed xlwings; rebuild it "
        "(the add-in's VBA must match the xlwings package version)"
    )


def test_cli_refuses_another_file_name(tmp_path, capsys):
    assert cli_main(["addin", "build", "-o", str(tmp_path / "other.xlam")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("Error: the add-in must be named xlsector.xlam")
    assert not (tmp_path / "other.xlam").exists()


# ------------------------------------------------------------------------------ Office.js manifest


@pytest.fixture(scope="module")
def manifest(addin) -> ET.Element:
    return ET.parse(addin.parent / "manifest.xml").getroot()


def test_manifest_is_well_formed_and_declares_the_refresh_button(manifest):
    assert manifest.tag == "{http://schemas.microsoft.com/office/appforoffice/1.1}OfficeApp"
    controls = manifest.findall(f".//{OFFICE}Control")
    (button,) = [c for c in controls if c.get("id") == "xlsectorRefreshData"]
    assert button.get(f"{XSI}type") == "Button"
    action = button.find(f"{OFFICE}Action")
    assert action.get(f"{XSI}type") == "ExecuteFunction"
    assert action.find(f"{OFFICE}FunctionName").text == "refresh-data"
    labels = {s.get("id"): s.get("DefaultValue") for s in manifest.iter("{http://schemas.microsoft.com/office/officeappbasictypes/1.0}String")}
    assert labels["RefreshData.Label"] == "Refresh data" and labels["Tab.Label"] == "xlsector"
    assert labels["Functions.Namespace"] == "XLSECTOR"
    urls = [u.get("DefaultValue") for u in manifest.iter("{http://schemas.microsoft.com/office/officeappbasictypes/1.0}Url")]
    assert all(u.startswith("https://127.0.0.1:8000/") for u in urls)
    assert "https://127.0.0.1:8000/xlwings/custom-functions-meta" in urls


def test_manifest_button_reaches_the_refresh_script():
    # the JavaScript side associates the manifest's FunctionName with xlwings' script endpoint ...
    assert 'Office.actions.associate("refresh-data"' in build.RIBBON_JS
    match = re.search(r"/xlwings/custom-scripts-call/(\w+)", build.RIBBON_JS)
    assert match
    # ... whose script is the Office.js wrapper of the same refresh the classic button runs
    scripts = importlib.import_module("udfs.scripts")
    script = getattr(scripts, match.group(1))
    assert "refresh_book(book)" in inspect.getsource(script)


def test_committed_manifest_is_a_fresh_build():
    committed = REPO / "workbooks" / "manifest.xml"
    assert committed.is_file(), "workbooks/manifest.xml: run `xlsector addin build -o workbooks`"
    assert committed.read_text(encoding="utf-8") == build.manifest_text()


def test_manifest_rejects_plain_http():
    with pytest.raises(Exception, match="https"):
        build.manifest_text("http://example.com")
