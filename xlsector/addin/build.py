"""Build the Excel add-ins on any OS: the classic ``xlsector.xlam`` and the Office.js ``manifest.xml``.

Classic add-in (``xlsector.xlam``)
    Made from xlwings' own ribbon add-in template (``quickstart_addin_ribbon.xlam``, what ``xlwings
    quickstart NAME --addin --ribbon`` copies) shipped in the installed xlwings package. Three parts of
    the zip change, everything else is copied as is — xlwings' VBA project (``xl/vbaProject.bin``) byte
    for byte:

    * ``customUI/customUI.xml`` — the ribbon: an "xlsector" tab with a "Refresh data" button. Its
      callback is the template's own ``RibbonMyAddin.RunMain``, which runs ``RunPython "import <add-in
      file name>; <add-in file name>.main()"``; the add-in is therefore always named ``xlsector.xlam``
      and the button runs ``xlsector.main()`` → :func:`xlsector.addin.refresh.main`.
    * ``xl/workbook.xml`` — the template's disabled configuration sheet ``_myaddin.conf`` is enabled
      (renamed ``myaddin.conf``: the VBA reads ``PROJECT_NAME & ".conf"``, and ``PROJECT_NAME`` is
      ``"myaddin"`` in xlwings' VBA, which stays untouched).
    * ``xl/worksheets/sheet1.xml`` — that configuration: ``UDF Modules`` (default
      ``udfs.xlsector_udfs``, importable after ``pip install xlsector``), optional ``PYTHONPATH`` and
      interpreters, ``Debug UDFs``/``Use UDF Server``/``Show Console`` off.

    The zip keeps the template's entry order, timestamps and compression, so the same xlwings version
    gives the same bytes on every machine.

Office.js manifest (``manifest.xml``)
    An add-in-only XML manifest for xlwings Server: the custom functions of :mod:`udfs.xlsector_udfs`
    and an "xlsector" ribbon tab whose "Refresh data" button (``ExecuteFunction`` ``refresh-data``)
    calls the ``@script`` :func:`udfs.scripts.refresh_data` (see :data:`RIBBON_JS`).

LibreOffice extension (``xlsector.oxt``)
    The same functions as a LibreOffice Calc add-in, written beside the add-in by ``xlsector addin build``:
    see :mod:`xlsector.addin.libreoffice` and docs/libreoffice.md.
"""

from __future__ import annotations

import io
import re
import uuid
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

from xlsector.errors import ParameterError

__all__ = [
    "ADDIN_NAME",
    "DEFAULT_UDF_MODULES",
    "RIBBON_CALLBACK",
    "RIBBON_JS",
    "RIBBON_XML",
    "addin_bytes",
    "build_addin",
    "build_manifest",
    "manifest_text",
    "template_path",
]

ADDIN_NAME = "xlsector.xlam"
DEFAULT_UDF_MODULES = "udfs.xlsector_udfs"
RIBBON_CALLBACK = "RibbonMyAddin.RunMain"  # in xlwings' template VBA: RunPython "import <stem>; <stem>.main()"
TEMPLATE_CONF_SHEET = "_myaddin.conf"
CONF_SHEET = "myaddin.conf"  # PROJECT_NAME & ".conf" in the template's VBA

RIBBON_XML = f"""<customUI xmlns="http://schemas.microsoft.com/office/2006/01/customui">
    <ribbon>
        <tabs>
            <tab id="xlsectorTab" label="xlsector">
                <group id="xlsectorDataGroup" label="Data">
                    <button id="xlsectorRefreshData" label="Refresh data" size="large" imageMso="Refresh"
                        onAction="{RIBBON_CALLBACK}"
                        screentip="Refresh data"
                        supertip="Download fresh prices (yfinance) into the Data sheet of the active workbook, stamp the data source and dates, recompute the Momentum sheet and recalculate. If any ticker fails, nothing changes and a message names it." />
                </group>
            </tab>
        </tabs>
    </ribbon>
</customUI>
"""

# The JavaScript side of the Office.js button, for xlwings Server's app/static/js/ribbon.js
RIBBON_JS = """// xlsector: the ribbon buttons (manifest FunctionNames "refresh-data" and "recalculate")
async function xlsectorRefreshData(event) {
  let token = await globalThis.getAuth();
  await xlwings.runPython(
    window.location.origin + "/xlwings/custom-scripts-call/refresh_data",
    { auth: token, include: "Start,Settings,Data" },
  );
  event.completed();
}
async function xlsectorRecalculate(event) {
  let token = await globalThis.getAuth();
  await xlwings.runPython(
    window.location.origin + "/xlwings/custom-scripts-call/recalculate",
    { auth: token, include: "Settings,Data,Momentum" },
  );
  event.completed();
}
Office.actions.associate("refresh-data", xlsectorRefreshData);
Office.actions.associate("recalculate", xlsectorRecalculate);
"""


def template_path() -> Path:
    """xlwings' ribbon add-in template in the installed xlwings package."""
    import xlwings

    path = Path(xlwings.__file__).parent / "quickstart_addin_ribbon.xlam"
    if not path.is_file():
        raise ParameterError(f"xlwings {xlwings.__version__} has no ribbon add-in template at {path}")
    return path


def _config_rows(settings: list[tuple[str, str | bool]]) -> str:
    """The configuration sheet's rows: key in column A, value in column B (text inline, or boolean)."""
    rows = []
    for i, (key, value) in enumerate(settings, start=1):
        key_cell = f'<c r="A{i}" s="1" t="inlineStr"><is><t>{escape(key)}</t></is></c>'
        if isinstance(value, bool):
            value_cell = f'<c r="B{i}" s="1" t="b"><v>{int(value)}</v></c>'
        else:
            value_cell = f'<c r="B{i}" s="1" t="inlineStr"><is><t>{escape(value)}</t></is></c>'
        rows.append(f'<row r="{i}" spans="1:2">{key_cell}{value_cell}</row>')
    return "".join(rows)


def _config_sheet(original: str, settings: list[tuple[str, str | bool]]) -> str:
    """The template's config sheet XML with its cells replaced (sheet properties, styles, codeName kept)."""
    sheet_data = f"<sheetData>{_config_rows(settings)}</sheetData>"
    text, count = re.subn(r"<sheetData>.*</sheetData>|<sheetData\s*/>", lambda _: sheet_data, original, flags=re.DOTALL)
    if count != 1:
        raise ParameterError("xlwings' add-in template has an unexpected configuration sheet (no sheetData)")
    return re.sub(r'<dimension ref="[^"]*"\s*/>', f'<dimension ref="A1:B{len(settings)}" />', text, count=1)


def addin_bytes(
    *,
    udf_modules: str = DEFAULT_UDF_MODULES,
    pythonpath: str | None = None,
    interpreter_win: str | None = None,
    interpreter_mac: str | None = None,
    template: Path | None = None,
) -> bytes:
    """The bytes of ``xlsector.xlam`` (see the module docstring for what changes in the template)."""
    if not udf_modules or not re.fullmatch(r"[A-Za-z_][\w.]*(;[A-Za-z_][\w.]*)*", udf_modules):
        raise ParameterError(
            f"udf_modules must be Python module names separated by ';', e.g. udfs.xlsector_udfs, got {udf_modules!r}"
        )
    settings: list[tuple[str, str | bool]] = [("UDF Modules", udf_modules)]
    for key, value in (("PYTHONPATH", pythonpath), ("Interpreter_Win", interpreter_win),
                       ("Interpreter_Mac", interpreter_mac)):  # fmt: skip
        if value:
            settings.append((key, value))
    settings += [("Debug UDFs", False), ("Use UDF Server", False), ("Show Console", False)]

    source = Path(template) if template else template_path()
    out = io.BytesIO()
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(out, "w") as zout:
        names = zin.namelist()
        for required in ("customUI/customUI.xml", "xl/workbook.xml", "xl/worksheets/sheet1.xml", "xl/vbaProject.bin"):
            if required not in names:
                raise ParameterError(f"xlwings' add-in template {source.name} lacks {required}")
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == "customUI/customUI.xml":
                data = RIBBON_XML.encode("utf-8")
            elif info.filename == "xl/workbook.xml":
                text = data.decode("utf-8")
                old = f'name="{TEMPLATE_CONF_SHEET}"'
                if old not in text:
                    raise ParameterError(f"xlwings' add-in template has no {TEMPLATE_CONF_SHEET} sheet")
                data = text.replace(old, f'name="{CONF_SHEET}"').encode("utf-8")
            elif info.filename == "xl/worksheets/sheet1.xml":
                data = _config_sheet(data.decode("utf-8"), settings).encode("utf-8")
            copy = zipfile.ZipInfo(info.filename, date_time=info.date_time)
            copy.compress_type = info.compress_type
            copy.external_attr = info.external_attr
            copy.create_system = info.create_system
            zout.writestr(copy, data)
    return out.getvalue()


def build_addin(path: str | Path, **options) -> Path:
    """Write ``xlsector.xlam`` to ``path`` (a folder, or a file that must be named ``xlsector.xlam``)."""
    from xlsector.fileio import atomic_write_bytes

    target = Path(path)
    if target.is_dir():
        target = target / ADDIN_NAME
    if target.name != ADDIN_NAME:
        raise ParameterError(
            f"the add-in must be named {ADDIN_NAME} (its button runs `import xlsector; xlsector.main()`, the "
            f"module named after the file), got {target.name!r}"
        )
    return atomic_write_bytes(target, addin_bytes(**options))


def manifest_text(base_url: str = "https://127.0.0.1:8000", *, addin_id: str | None = None,
                  namespace: str = "XLSECTOR") -> str:
    """The Office.js add-in manifest for an xlwings Server at ``base_url`` (custom functions + the button).

    Office.js shows custom functions under the manifest's namespace: ``=XLSECTOR.EMA2_TREND(...)``.
    ``addin_id`` defaults to a GUID derived from ``base_url`` (the same URL gives the same manifest).
    """
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9]*", namespace):
        raise ParameterError(f"namespace must be letters and digits, e.g. XLSECTOR, got {namespace!r}")
    base = base_url.rstrip("/")
    if not re.fullmatch(r"https://[^\s\"'<>]+", base):
        raise ParameterError(f"base_url must be an https:// URL (Office.js requires https), got {base_url!r}")
    ident = addin_id or str(uuid.uuid5(uuid.NAMESPACE_URL, "xlsector:" + base))
    try:
        ident = str(uuid.UUID(ident))
    except ValueError:
        raise ParameterError(f"addin_id must be a GUID, got {addin_id!r}") from None
    url = lambda path: quoteattr(base + path)
    return f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<!-- xlsector add-in for xlwings Server (Office.js). Built by `xlsector addin build`; see docs/excel.md. -->
<OfficeApp xmlns="http://schemas.microsoft.com/office/appforoffice/1.1"
  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
  xmlns:bt="http://schemas.microsoft.com/office/officeappbasictypes/1.0"
  xmlns:ov="http://schemas.microsoft.com/office/taskpaneappversionoverrides" xsi:type="TaskPaneApp">
  <Id>{ident}</Id>
  <Version>1.0.0.0</Version>
  <ProviderName>xlsector</ProviderName>
  <DefaultLocale>en-US</DefaultLocale>
  <DisplayName DefaultValue="xlsector" />
  <Description DefaultValue="Trend-following sector rotation: EMA2 trends, SECTOR_PICK, backtests, FWPT, and a Refresh data button." />
  <IconUrl DefaultValue={url("/static/images/ribbon/examples/xlwings-32.png")} />
  <HighResolutionIconUrl DefaultValue={url("/static/images/ribbon/examples/xlwings-64.png")} />
  <SupportUrl DefaultValue={url("/")} />
  <AppDomains>
    <AppDomain>{escape(base)}</AppDomain>
  </AppDomains>
  <Hosts>
    <Host Name="Workbook" />
  </Hosts>
  <Requirements>
    <Sets DefaultMinVersion="1.1">
      <Set Name="SharedRuntime" MinVersion="1.1" />
    </Sets>
  </Requirements>
  <DefaultSettings>
    <SourceLocation DefaultValue={url("/taskpane")} />
  </DefaultSettings>
  <Permissions>ReadWriteDocument</Permissions>
  <VersionOverrides xmlns="http://schemas.microsoft.com/office/taskpaneappversionoverrides" xsi:type="VersionOverridesV1_0">
    <Hosts>
      <Host xsi:type="Workbook">
        <Runtimes>
          <Runtime resid="Taskpane.Url" lifetime="long" />
        </Runtimes>
        <AllFormFactors>
          <ExtensionPoint xsi:type="CustomFunctions">
            <Script>
              <SourceLocation resid="Functions.Script.Url" />
            </Script>
            <Page>
              <SourceLocation resid="Taskpane.Url" />
            </Page>
            <Metadata>
              <SourceLocation resid="Functions.Metadata.Url" />
            </Metadata>
            <Namespace resid="Functions.Namespace" />
          </ExtensionPoint>
        </AllFormFactors>
        <DesktopFormFactor>
          <FunctionFile resid="Taskpane.Url" />
          <ExtensionPoint xsi:type="PrimaryCommandSurface">
            <CustomTab id="xlsectorTab">
              <Group id="xlsectorDataGroup">
                <Label resid="DataGroup.Label" />
                <Icon>
                  <bt:Image size="16" resid="Icon.16x16" />
                  <bt:Image size="32" resid="Icon.32x32" />
                  <bt:Image size="80" resid="Icon.80x80" />
                </Icon>
                <Control xsi:type="Button" id="xlsectorRefreshData">
                  <Label resid="RefreshData.Label" />
                  <Supertip>
                    <Title resid="RefreshData.Label" />
                    <Description resid="RefreshData.Tooltip" />
                  </Supertip>
                  <Icon>
                    <bt:Image size="16" resid="Icon.16x16" />
                    <bt:Image size="32" resid="Icon.32x32" />
                    <bt:Image size="80" resid="Icon.80x80" />
                  </Icon>
                  <Action xsi:type="ExecuteFunction">
                    <FunctionName>refresh-data</FunctionName>
                  </Action>
                </Control>
                <Control xsi:type="Button" id="xlsectorRecalculate">
                  <Label resid="Recalculate.Label" />
                  <Supertip>
                    <Title resid="Recalculate.Label" />
                    <Description resid="Recalculate.Tooltip" />
                  </Supertip>
                  <Icon>
                    <bt:Image size="16" resid="Icon.16x16" />
                    <bt:Image size="32" resid="Icon.32x32" />
                    <bt:Image size="80" resid="Icon.80x80" />
                  </Icon>
                  <Action xsi:type="ExecuteFunction">
                    <FunctionName>recalculate</FunctionName>
                  </Action>
                </Control>
              </Group>
              <Label resid="Tab.Label" />
            </CustomTab>
          </ExtensionPoint>
        </DesktopFormFactor>
      </Host>
    </Hosts>
    <Resources>
      <bt:Images>
        <bt:Image id="Icon.16x16" DefaultValue={url("/static/images/ribbon/examples/xlwings-16.png")} />
        <bt:Image id="Icon.32x32" DefaultValue={url("/static/images/ribbon/examples/xlwings-32.png")} />
        <bt:Image id="Icon.80x80" DefaultValue={url("/static/images/ribbon/examples/xlwings-80.png")} />
      </bt:Images>
      <bt:Urls>
        <bt:Url id="Taskpane.Url" DefaultValue={url("/taskpane")} />
        <bt:Url id="Functions.Script.Url" DefaultValue={url("/xlwings/custom-functions-code")} />
        <bt:Url id="Functions.Metadata.Url" DefaultValue={url("/xlwings/custom-functions-meta")} />
      </bt:Urls>
      <bt:ShortStrings>
        <bt:String id="Functions.Namespace" DefaultValue={quoteattr(namespace.upper())} />
        <bt:String id="Tab.Label" DefaultValue="xlsector" />
        <bt:String id="DataGroup.Label" DefaultValue="Data" />
        <bt:String id="RefreshData.Label" DefaultValue="Refresh data" />
        <bt:String id="Recalculate.Label" DefaultValue="Recalculate" />
      </bt:ShortStrings>
      <bt:LongStrings>
        <bt:String id="RefreshData.Tooltip" DefaultValue="Download fresh prices (yfinance) into the Data sheet, stamp the data source and dates, and recalculate. If any ticker fails, nothing changes." />
        <bt:String id="Recalculate.Tooltip" DefaultValue="Recompute the Momentum sheet (a phased experiment, not a formula) with the render's code, then recalculate every formula." />
      </bt:LongStrings>
    </Resources>
  </VersionOverrides>
</OfficeApp>
"""


def build_manifest(path: str | Path, base_url: str = "https://127.0.0.1:8000", **options) -> Path:
    """Write the Office.js manifest (see :func:`manifest_text`) to ``path``."""
    from xlsector.fileio import atomic_write_bytes

    return atomic_write_bytes(Path(path), manifest_text(base_url, **options).encode("utf-8"))
