"""The ``ctxlab`` command: the window, and the headless verbs compute, export and bench."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any, NoReturn

from app import __version__
from app.cli_progress import terminal_progress
from core.errors import InputError, shown
from core.tokens import CounterError


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line and exit 2, like every other bad input
        self.exit(2, f"ctxlab: {message}\n")


def _output(text: str) -> Path:
    """An output path with ``~`` expanded; ``~nosuchuser`` is an argument error (exit 2)."""
    try:
        return Path(text).expanduser()
    except RuntimeError as exc:  # "Could not determine home directory"
        raise argparse.ArgumentTypeError(f"{text}: cannot expand '~' ({exc})") from None


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="ctxlab", description="A workbench for context-engineering trade-offs.")
    parser.add_argument("--version", action="version", version=f"ctxlab {__version__}")
    parser.add_argument("--first-paint", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--smoke", action="store_true",
                        help="open the window, visit every panel, export one chart, exit 0 (checks a bundle)")
    sub = parser.add_subparsers(dest="verb")
    compute = sub.add_parser("compute", help="print a scenario's result as JSON")
    compute.add_argument("scenario", type=Path)
    export = sub.add_parser("export", help="export a scenario's chart (svg, png or pdf)")
    export.add_argument("scenario", type=Path)
    export.add_argument("--format", choices=("svg", "png", "pdf"), default=None,
                        help="default: from the output file's suffix")
    export.add_argument("-o", "--output", type=_output, required=True)
    export.add_argument("--size", default="1280x720", help="WIDTHxHEIGHT, e.g. 1920x1080")
    export.add_argument("--scale", type=int, default=1, choices=(1, 2, 3, 4), help="PNG density")
    export.add_argument("--theme", default="slide", choices=("light", "dark", "slide"))
    export.add_argument("--no-scenario", action="store_true",
                        help="do not write the scenario JSON next to the chart")
    bench = sub.add_parser("bench", help="measure slider-to-pixels latency per panel (JSON)")
    bench.add_argument("--panels", nargs="*",
                       help="panel ids (default: all, plus the core timings and start-up; "
                            "given: only those panels)")
    bench.add_argument("--ticks", type=int, default=200)
    bench.add_argument("--json", type=_output, help="also write the report to this file")
    bench.add_argument("--peers", action="store_true",
                       help="also run the peer comparisons (needs the 'bench' extra)")
    bench.add_argument("--repeats", type=int, default=5, help="ABAB repeats for --peers")
    bench.add_argument("--worst", action="store_true",
                       help="run each lever's largest accepted input (of --panels) and check its limits")
    return parser


def _qt_app() -> Any:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    return QApplication.instance() or QApplication(["ctxlab"])


def _exact_counter() -> Any:
    from app.anthropic_service import ExactCounter, key_from_env

    key = key_from_env()
    return ExactCounter(key) if key else None


def _out(text: str) -> None:
    """Write the result to standard output; a full disk or closed pipe is one line, exit 2."""
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except OSError as exc:
        # no second failure when Python flushes stdout at exit
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 (open until the process ends)
        raise InputError(f"standard output: cannot write the result ({exc.strerror or exc})") from None


def _compute(args: argparse.Namespace) -> int:
    import core
    from widgets.loaders import read_scenario

    lever, params = read_scenario(args.scenario)
    counter = _exact_counter() if params.get("estimator") == "exact" else None
    try:
        with terminal_progress(f"computing {lever}") as progress:
            result = core.compute(lever, params, counter, progress)
    finally:
        if counter is not None:
            counter.close()
    try:
        text = json.dumps(result, indent=1, allow_nan=False)
    except ValueError:  # never print Infinity/NaN: it is not JSON and breaks every reader
        raise InputError(f"{args.scenario.name}: the result holds a number too large to "
                         "represent (infinite or NaN); use smaller values") from None
    _out(text + "\n")
    return 0


def _export(args: argparse.Namespace) -> int:
    from widgets import atomic
    from widgets.export import check_pixels, parse_size
    from widgets.loaders import read_scenario

    lever, params = read_scenario(args.scenario)
    size = parse_size(args.size)
    if (args.format or args.output.suffix.lstrip(".")).lower() == "png":
        check_pixels(*size, args.scale)  # before the panel is built and drawn
    chart = atomic.check_target(args.output)
    targets = [chart] + ([] if args.no_scenario
                         else [atomic.check_target(atomic.scenario_beside(chart))])
    for target in targets:
        if atomic.same_file(target, args.scenario):
            raise InputError(f"{target}: this is the input scenario; exporting would overwrite "
                             "it, choose another -o")
    # drawn off screen whatever the shell sets (QT_QPA_PLATFORM=xcb, a stale DISPLAY): Qt
    # aborts the process when the platform it is told to use cannot start
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    _qt_app()
    from widgets.offscreen import export_scenario

    counter = _exact_counter() if params.get("estimator") == "exact" else None
    try:
        with terminal_progress(f"exporting {lever}") as progress:
            written = export_scenario(lever, params, chart, args.format, size, args.scale,
                                      args.theme, counter, not args.no_scenario, progress)
    finally:
        if counter is not None:
            counter.close()
    _out("".join(f"{path}\n" for path in written))
    return 0


def _bench(args: argparse.Namespace) -> int:
    from widgets import atomic

    if args.ticks < 1 or args.ticks > 100_000:
        raise InputError(f"--ticks: must be between 1 and 100,000, got {args.ticks}")
    if args.repeats < 1 or args.repeats > 100:
        raise InputError(f"--repeats: must be between 1 and 100, got {args.repeats}")
    if args.json is not None:
        atomic.check_target(args.json)
    if args.worst:
        from app.bench_worst import main_worst

        return main_worst(args.panels, args.json)
    _qt_app()
    from app.bench import run_bench

    report = run_bench(args.panels, args.ticks)
    if args.peers:
        from app.bench_peers import bench_peers

        report["peers"] = bench_peers(args.repeats)
    data = atomic.encode_json(report, "bench report")
    _out(data.decode("utf-8"))
    if args.json:
        atomic.write_bytes(args.json, data)
    return 0


def _no_display() -> str:
    """Return why no window can open here ('' when one can), before Qt says something misleading."""
    if not sys.platform.startswith("linux"):
        return ""
    if os.environ.get("QT_QPA_PLATFORM") or os.environ.get("WAYLAND_DISPLAY"):
        return ""
    display = os.environ.get("DISPLAY")
    if not display:
        return ("ctxlab: the window needs a display (neither DISPLAY nor WAYLAND_DISPLAY is set); "
                "headless, use 'ctxlab compute|export|bench ...' or set QT_QPA_PLATFORM=offscreen")
    if x_display_answers(display):
        return ""
    return (f"ctxlab: no X server answers on DISPLAY={display}; start one, fix DISPLAY, or headless "
            "use 'ctxlab compute|export|bench ...' or QT_QPA_PLATFORM=offscreen")


def x_display_answers(display: str) -> bool:
    """Whether an X server accepts a connection for ``display`` (``[host]:n[.screen]``).

    Qt aborts the process with five lines of its own when it cannot reach the display; this
    asks first, where X11 listens: the local socket ``/tmp/.X11-unix/X<n>`` (file or abstract
    name) for ``:n`` and ``unix:n``, else TCP port 6000 + n on the host. Anything unparsable is
    left to Qt.
    """
    import re
    import socket

    match = re.fullmatch(r"(?P<host>[^:]*):(?P<n>\d+)(?:\.\d+)?", display)
    if match is None:
        return True
    host, n = match["host"], int(match["n"])
    if host in ("", "unix"):
        for address in (f"/tmp/.X11-unix/X{n}", f"\0/tmp/.X11-unix/X{n}"):
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                sock.settimeout(1.0)
                try:
                    sock.connect(address)
                    return True
                except OSError:
                    continue
        if host == "unix":
            return False
        host = "localhost"
    try:
        socket.create_connection((host, 6000 + n), timeout=1.0).close()
        return True
    except OSError:
        return False


def _window() -> int:
    if _no_display():
        print(_no_display(), file=sys.stderr)
        return 2
    from PySide6.QtWidgets import QApplication

    from app.window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv)
    app.setApplicationName("ctxlab")
    QApplication.setDesktopFileName("io.github.ctxlab.Ctxlab")
    from app import logs

    logs.setup()  # internal errors name this file; it never holds the key
    window = MainWindow()
    window.show()
    window.offer_recovery()
    code = int(app.exec())
    close_qt(app, window)
    return code


def _smoke() -> int:
    """Open the window, show every panel until it has drawn, export one chart; 0 when all worked."""
    import tempfile

    from PySide6.QtWidgets import QApplication

    from app.window import MainWindow
    from widgets import PANELS
    from widgets.export import wait_until, write_chart

    app = QApplication.instance() or QApplication(sys.argv)
    window = MainWindow()
    window.show()
    failed = []
    for spec in PANELS:
        panel = window.show_panel(spec.lever)
        if not wait_until(lambda: panel.is_idle() and panel.output() is not None, 60.0):  # noqa: B023
            failed.append(spec.lever)
    with tempfile.TemporaryDirectory() as tmp:
        chart = write_chart(window.show_panel(PANELS[0].lever).view, Path(tmp) / "smoke.svg")
        exported = chart.stat().st_size > 0
    print(f"smoke: {len(PANELS) - len(failed)}/{len(PANELS)} panels drew; export "
          f"{'ok' if exported else 'FAILED'}" + (f"; failed: {', '.join(failed)}" if failed else ""))
    close_qt(app, window)
    return 0 if exported and not failed else 1


def close_qt(app: Any, window: Any = None) -> None:
    """Close and destroy the window (if any), then the application, before Python's teardown.

    Left to the interpreter's exit, their C++ objects went in whatever order its collector
    chose, and the process could crash after its work was done (``--smoke`` exited -11 about
    one run in six from an installed wheel; ``ctxlab bench --panels attention`` with 512-cell
    maps every time, from panels whose deferred deletion never ran).
    """
    from PySide6.QtCore import QEvent

    if window is not None:
        window.close()
        window.deleteLater()
    app.processEvents()
    app.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    app.shutdown()


def _running_qt_app() -> Any:
    """Return the running Qt application, or None (Qt not even imported: None too)."""
    if "PySide6.QtWidgets" not in sys.modules:
        return None
    from PySide6.QtWidgets import QApplication

    return QApplication.instance()


def _first_paint() -> int:
    """Open the window, print seconds from ``CTXLAB_T0`` (set by the bench) to its first paint, exit."""
    import time

    from PySide6.QtWidgets import QApplication

    from app.window import MainWindow
    from widgets.export import wait_until

    qt = QApplication.instance() or QApplication(sys.argv)
    window = MainWindow()
    window.show()
    panel = window.current()
    painted = wait_until(lambda: panel.view.paint_count > 0, 30.0)
    print(f"{time.time() - float(os.environ.get('CTXLAB_T0', time.time())):.3f}")
    close_qt(qt, window)
    return 0 if painted else 1


def main(argv: list[str] | None = None) -> int:
    """Run the ``ctxlab`` command; bad input prints one line and returns 2."""
    parser = _parser()
    args = parser.parse_args(argv)
    verbs = {"compute": _compute, "export": _export, "bench": _bench}
    for flag, given in (("--smoke", args.smoke), ("--first-paint", args.first_paint)):
        if given and args.verb:  # the flag would run alone and the verb be ignored
            parser.error(f"{flag} takes no command; run 'ctxlab {args.verb} ...' without it")
    if args.smoke:
        return _smoke()
    if args.first_paint:
        return _first_paint()
    try:
        if not args.verb:
            return _window()
        hosted = _running_qt_app() is not None  # called inside an application (tests, a host): leave it
        try:
            return verbs[args.verb](args)
        finally:
            started = _running_qt_app()
            if not hosted and started is not None:  # destroy what the verb left of Qt, in order
                close_qt(started)
    except InputError as exc:
        print(f"ctxlab: error: {shown(str(exc))}", file=sys.stderr)
        return 2
    except CounterError as exc:  # estimator "exact" and the API failed: say why, no traceback
        print(f"ctxlab: error: exact token count unavailable: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
