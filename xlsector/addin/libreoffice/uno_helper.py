"""Talk to a headless LibreOffice over a pipe: a standalone script for a Python that has LibreOffice's
``uno`` module (Debian: /usr/bin/python3 with python3-uno; Windows and macOS: LibreOffice's own Python).

It imports nothing from xlsector (that Python usually has no xlsector), so it is run by path::

    python uno_helper.py python-version
    python uno_helper.py install PIPE FILE.oxt     # add (or update) the extension, then close LibreOffice

Each prints one JSON line. :func:`connect` is also used by the test suite's UNO driver.
"""

from __future__ import annotations

import contextlib
import json
import sys
import time
from typing import Any

__all__ = ["connect", "install", "terminate"]


def connect(pipe: str, timeout: float = 120.0) -> Any:
    """The component context of the LibreOffice listening on ``pipe`` (retried until it is up)."""
    import uno  # type: ignore[import-not-found]
    from com.sun.star.connection import NoConnectException  # type: ignore[import-not-found]

    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
    deadline = time.monotonic() + timeout
    while True:
        try:
            return resolver.resolve(f"uno:pipe,name={pipe};urp;StarOffice.ComponentContext")
        except NoConnectException:
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"LibreOffice did not open the pipe {pipe} within {timeout:.0f} s"
                ) from None
            time.sleep(0.1)


def _command_environment() -> Any:
    """A command environment that approves what the extension manager asks (e.g. replace the installed
    version) and shows no progress: what `unopkg add` does without a terminal."""
    import uno
    import unohelper  # type: ignore[import-not-found]
    from com.sun.star.task import XInteractionHandler  # type: ignore[import-not-found]
    from com.sun.star.ucb import XCommandEnvironment, XProgressHandler  # type: ignore[import-not-found]

    approve = uno.getTypeByName("com.sun.star.task.XInteractionApprove")

    class Progress(unohelper.Base, XProgressHandler):
        def push(self, status: Any) -> None:
            pass

        def update(self, status: Any) -> None:
            pass

        def pop(self) -> None:
            pass

    class Handler(unohelper.Base, XInteractionHandler):
        def handle(self, request: Any) -> None:
            # (the request itself cannot be read from Python: pyuno fails to convert it)
            for choice in request.getContinuations():
                if choice.queryInterface(approve):
                    choice.select()
                    return

    class Environment(unohelper.Base, XCommandEnvironment):
        def getInteractionHandler(self) -> Any:
            return Handler()

        def getProgressHandler(self) -> Any:
            return Progress()

    return Environment()


def terminate(ctx: Any) -> None:
    """Close the LibreOffice behind ``ctx`` (its pipe closes as it exits)."""
    from com.sun.star.lang import DisposedException  # type: ignore[import-not-found]
    from com.sun.star.uno import RuntimeException  # type: ignore[import-not-found]

    desktop = ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
    with contextlib.suppress(DisposedException, RuntimeException):  # the bridge may go down as it returns
        desktop.terminate()


def install(pipe: str, oxt: str) -> dict[str, Any]:
    """Add ``oxt`` to the user extensions of the LibreOffice on ``pipe``, check it is deployed, close it."""
    import uno

    ctx = connect(pipe)
    try:
        manager = ctx.getValueByName("/singletons/com.sun.star.deployment.ExtensionManager")
        env = _command_environment()
        package = manager.addExtension(uno.systemPathToFileUrl(oxt), (), "user", None, env)
        if package is None:
            raise RuntimeError("LibreOffice's extension manager did not add the extension")
        identifier = package.getIdentifier().Value
        deployed = {
            p.getIdentifier().Value: p.getVersion() for p in manager.getDeployedExtensions("user", None, env)
        }
        if identifier not in deployed:
            raise RuntimeError(f"{identifier} is not among the deployed extensions after adding it")
        return {"identifier": identifier, "version": deployed[identifier]}
    finally:
        terminate(ctx)


def main(argv: list[str]) -> int:
    if argv[:1] == ["python-version"]:
        print(json.dumps({"python": list(sys.version_info[:2]), "executable": sys.executable}))
        return 0
    if len(argv) == 3 and argv[0] == "install":
        try:
            print(json.dumps(install(argv[1], argv[2])))
        except Exception as exc:  # noqa: BLE001 - reported to xlsector as the answer
            print(json.dumps({"error": f"{type(exc).__name__}: {exc}"}))
            return 1
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
