"""The browser harness as plain functions: a real JupyterLab server, Debian's Chromium, Playwright.

Used by the pytest fixtures in ``conftest.py`` (thin wrappers over these) and by benchmarks
(``bench/view_bandwidth.py``), which add the repo root to ``sys.path`` and import
``tests.browser.harness``.

* :func:`start_jupyter_server` -- a context manager: a real ``jupyter lab`` from the venv on
  127.0.0.1, with a token, isolated from the user's Jupyter set-up; yields a
  :class:`JupyterServer` and stops it (and its kernels) afterwards. Kernels get
  :data:`KERNEL_ENV` (``ROBOTLAB_PACE=1``: real time; Danish; seed 1) plus ``env_overrides``.
* :func:`launch_chromium` -- Chromium from ``/usr/bin/chromium`` under a started Playwright;
  :func:`chromium` -- the same with Playwright's sync API started and stopped around it.
* :func:`new_context` -- a browser context with a 1366x768 viewport (a Chromebook screen) and
  the harness's timeouts; :func:`collect_console` -- a page's console messages, as a list.

Page helpers: ``write_notebook``, ``open_notebook``, ``run_cell``, ``wait_for_kernel_idle``,
``wait_for_state``, ``notebook_state``, ``cell_locator``, ``cell_output_locator``,
``cell_output_text``, ``dismiss_dialogs``, ``save_screenshot``, ``fail_with_screenshot``.

Failures are reported with ``pytest.fail(..., pytrace=False)`` (:func:`fail`): in a test they
fail it with a clean message; elsewhere they raise ``pytest.fail.Exception`` (a
``BaseException``), which a script can catch to print the message.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Literal, Mapping, NoReturn

import nbformat
import pytest

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts" / "browser"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
VIEWPORT = {"width": 1366, "height": 768}  # a Chromebook screen
#: What the kernels of the harness's server get: the live view moves in real time in a browser.
KERNEL_ENV = {
    "ROBOTLAB_PACE": "1",
    "ROBOTLAB_LANG": "da",
    "ROBOTLAB_SEED": "1",
}

SERVER_START_TIMEOUT = 60.0  # s: jupyter lab answering /api/status
NOTEBOOK_OPEN_TIMEOUT = 60.0  # s: page loaded, cells shown, kernel started and idle
KERNEL_IDLE_TIMEOUT = 60.0  # s: default for wait_for_kernel_idle
UI_TIMEOUT_MS = 30_000  # Playwright's default for clicks, locators and so on

Ui = Literal["lab", "notebook"]


def fail(message: str) -> NoReturn:
    """Fail the running test (or, outside pytest, raise ``pytest.fail.Exception``)."""
    pytest.fail(message, pytrace=False)


# ---------------------------------------------------------------------------------------------
# The Jupyter server
# ---------------------------------------------------------------------------------------------


@dataclass
class JupyterServer:
    """A running ``jupyter lab``: ``url`` ends with ``/``; ``root`` is its root dir."""

    url: str
    token: str
    root: Path
    log: Path
    process: subprocess.Popen = field(repr=False)

    def api(self, method: str, path: str, body: Any = None, timeout: float = 10.0) -> Any:
        """Call the server's REST API (``path`` like ``"api/kernels"``); returns decoded JSON."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.url + path.lstrip("/"), data=data, method=method,
            headers={"Authorization": f"token {self.token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=timeout) as response:
            text = response.read()
        return json.loads(text) if text else None

    def check_alive(self) -> None:
        """Fail, with the end of the server's log, if the server has exited."""
        if self.process.poll() is not None:
            fail(f"jupyter lab exited with code {self.process.returncode}; its log "
                 f"({self.log}):\n{_tail(self.log)}")

    def kernels(self) -> list[dict]:
        """The running kernels as the REST API lists them."""
        return self.api("GET", "api/kernels")

    def sessions(self) -> list[dict]:
        """The notebook sessions (path -> kernel) as the REST API lists them."""
        return self.api("GET", "api/sessions")

    def shutdown_kernels(self, timeout: float = 20.0) -> None:
        """Shut down every session and kernel and wait (up to ``timeout``) until none is left."""
        deadline = time.monotonic() + timeout
        for session in self.sessions():
            _ignore_http_errors(self.api, "DELETE", f"api/sessions/{session['id']}")
        for kernel in self.kernels():
            _ignore_http_errors(self.api, "DELETE", f"api/kernels/{kernel['id']}")
        while self.kernels() and time.monotonic() < deadline:
            time.sleep(0.1)


def _ignore_http_errors(function: Callable, *args, **kwargs) -> None:
    try:
        function(*args, **kwargs)
    except urllib.error.HTTPError:  # already gone (404) and the like
        pass


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _write_lab_settings(config_dir: Path) -> None:
    """User settings in the private config dir: no "get Jupyter news?" toast, no update check."""
    settings = config_dir / "lab" / "user-settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True, exist_ok=True)
    (settings / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False}), encoding="utf-8")


def _tail(path: Path, lines: int = 60) -> str:
    try:
        return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _artifact_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_")[:150]


@contextmanager
def start_jupyter_server(root: Path, artifacts_dir: Path = ARTIFACTS,
                         env_overrides: Mapping[str, str | None] | None = None, *,
                         state_dir: Path | None = None,
                         log_name: str = "jupyter-server.log") -> Iterator[JupyterServer]:
    """Start a real ``jupyter lab`` from the venv serving ``root``; yield a :class:`JupyterServer`.

    Isolated from the user's own Jupyter set-up (``~/.jupyter``, ``~/.local/share/jupyter``,
    ``~/.ipython``) by private config, data and IPython dirs, made in ``state_dir`` (kept) or,
    without it, in a temporary dir removed afterwards; the venv's own config
    (``.venv/etc/jupyter``) and lab extensions (``.venv/share/jupyter``) are still used. The
    server's log is ``artifacts_dir / log_name``. The server and its kernels get this process's
    environment with :data:`KERNEL_ENV` and then ``env_overrides`` applied (a ``None`` value
    removes a variable). On the way out every kernel is shut down and the server stopped.
    """
    root = Path(root)
    artifacts_dir = Path(artifacts_dir)
    artifacts_dir.mkdir(parents=True, exist_ok=True)
    own_state = state_dir is None
    state = Path(tempfile.mkdtemp(prefix="rl-jupyter-")) if own_state else Path(state_dir)
    config_dir, data_dir, ipython_dir = (state / "jupyter-config", state / "jupyter-data",
                                         state / "ipython")
    for folder in (config_dir, data_dir, ipython_dir):
        folder.mkdir(parents=True, exist_ok=True)
    # Kernel connection files and sockets live here: Unix socket paths must stay short.
    runtime_dir = tempfile.mkdtemp(prefix="rl-rt-")
    _write_lab_settings(config_dir)
    port, token = _free_port(), secrets.token_hex(24)
    log = artifacts_dir / log_name

    env = dict(os.environ)
    for name in ("ROBOTLAB_ROBOT", "ROBOTLAB_VIEW", "JUPYTER_TOKEN"):
        env.pop(name, None)
    env.update(KERNEL_ENV)
    env.update({
        "JUPYTER_RUNTIME_DIR": runtime_dir,
        "JUPYTER_CONFIG_DIR": str(config_dir),
        "JUPYTER_DATA_DIR": str(data_dir),
        "IPYTHONDIR": str(ipython_dir),
        "PYDEVD_DISABLE_FILE_VALIDATION": "1",  # quiet the debugger's frozen-modules warning
    })
    for name, value in (env_overrides or {}).items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    command = [
        sys.executable, "-m", "jupyter", "lab",
        "--no-browser",
        "--allow-root",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
        "--ServerApp.open_browser=False",
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.extension_manager=readonly",  # the default one asks PyPI
    ]
    process = None
    try:
        with open(log, "w", encoding="utf-8") as log_file:
            process = subprocess.Popen(command, cwd=root, env=env, stdin=subprocess.DEVNULL,
                                       stdout=log_file, stderr=subprocess.STDOUT,
                                       start_new_session=True)
        server = JupyterServer(url=f"http://127.0.0.1:{port}/", token=token, root=root,
                               log=log, process=process)
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while True:
            if process.poll() is not None:
                fail(f"jupyter lab exited with code {process.returncode} while starting; "
                     f"its log ({log}):\n{_tail(log)}")
            try:
                server.api("GET", "api/status", timeout=2)
                break
            except (OSError, ValueError):
                pass
            if time.monotonic() > deadline:
                fail(f"jupyter lab did not answer {server.url}api/status within "
                     f"{SERVER_START_TIMEOUT:.0f} s; its log ({log}):\n{_tail(log)}")
            time.sleep(0.2)
        yield server
    finally:
        if process is not None and process.poll() is None:
            try:
                server.shutdown_kernels(timeout=15)
            except (OSError, ValueError):
                pass
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        shutil.rmtree(runtime_dir, ignore_errors=True)
        if own_state:
            shutil.rmtree(state, ignore_errors=True)


def write_notebook(server: JupyterServer, name: str, cells: list[str]) -> str:
    """Write a notebook of code cells (their sources in ``cells``) into the server's root.

    ``name`` is a path relative to the root, such as ``"smoke.ipynb"`` or ``"sub/a.ipynb"``;
    use a new name per test, since a notebook's kernel is shared by every page showing it.
    Returns ``name`` for :func:`open_notebook`.
    """
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {
        "name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    notebook.metadata["language_info"] = {"name": "python"}
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in cells]
    path = server.root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, path)
    return name


# ---------------------------------------------------------------------------------------------
# The browser
# ---------------------------------------------------------------------------------------------


def launch_chromium(playwright, args: list[str] | None = None):
    """Launch Debian's Chromium (``/usr/bin/chromium``) with a started Playwright (sync API).

    Fails (it does not skip) when Chromium is missing: ``./dev.sh test`` installs it.
    """
    if not CHROMIUM.exists():
        fail(f"{CHROMIUM} is missing, and the browser tests need it. Run ./dev.sh test, "
             "which installs the Debian package chromium (as root), or install it with "
             "`apt-get install chromium`.")
    return playwright.chromium.launch(executable_path=str(CHROMIUM),
                                      args=CHROMIUM_ARGS if args is None else args,
                                      timeout=60_000)


@contextmanager
def chromium() -> Iterator[Any]:
    """Start Playwright's sync API, launch Chromium (:func:`launch_chromium`), yield the
    browser; close both afterwards."""
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    try:
        browser = launch_chromium(playwright)
        try:
            yield browser
        finally:
            browser.close()
    finally:
        playwright.stop()


def new_context(browser):
    """A new browser context: a 1366x768 viewport and the harness's default timeouts."""
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(UI_TIMEOUT_MS)
    context.set_default_navigation_timeout(NOTEBOOK_OPEN_TIMEOUT * 1000)
    return context


@contextmanager
def recorded_page(browser, request, artifacts_dir: Path) -> Iterator[Any]:
    """A fresh page in its own context (:func:`new_context`), closed afterwards.

    If the test (``request``, the fixture's) failed, a screenshot and the page's console log
    are saved to ``artifacts_dir`` first.
    """
    context = new_context(browser)
    page = context.new_page()
    console = collect_console(page)
    try:
        yield page
    finally:
        report = getattr(request.node, "_browser_report_call", None)
        if report is not None and report.failed:
            stem = _artifact_name(request.node.name) + "-failed"
            save_screenshot(page, stem, artifacts_dir)
            (artifacts_dir / f"{stem}-console.log").write_text("\n".join(console) + "\n",
                                                              encoding="utf-8")
        context.close()


def collect_console(page) -> list[str]:
    """A list that fills with the page's console messages and uncaught errors."""
    console: list[str] = []
    page.on("console", lambda message: console.append(f"[{message.type}] {message.text}"))
    page.on("pageerror", lambda error: console.append(f"[pageerror] {error}"))
    return console


# ---------------------------------------------------------------------------------------------
# Helpers for pages
# ---------------------------------------------------------------------------------------------

NOTEBOOK = ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook"

# The state of the shown notebook, read in one go. "status" is the kernel status of the
# notebook toolbar's execution indicator (both UIs have it): "idle", "busy", "starting",
# "restarting", "initializing", "connecting", "unknown", "dead", ...; JupyterLab shows "idle"
# with "No Kernel" before a kernel is attached. "running" lists the cells whose prompt is
# "[*]", which a cell shows from the moment it is queued until its reply is in.
_STATE_JS = """(selector) => {
    const panel = document.querySelector(".jp-NotebookPanel:not(.lm-mod-hidden)");
    const notebook = document.querySelector(selector);
    const indicator = (panel && panel.querySelector(".jp-Notebook-ExecutionIndicator"))
        || document.querySelector(".jp-Notebook-ExecutionIndicator");
    const kernelName = (panel && panel.querySelector(".jp-Toolbar-kernelName"))
        || document.querySelector(".jp-Toolbar-kernelName");
    const cells = notebook ? [...notebook.querySelectorAll(".jp-Cell")] : [];
    const prompts = cells.map(c => {
        const p = c.querySelector(".jp-InputPrompt");
        return p ? p.textContent.trim() : null;
    });
    const visible = e => !!(e.offsetWidth || e.offsetHeight || e.getClientRects().length);
    return {
        cells: cells.length,
        prompts: prompts,
        running: prompts.flatMap((p, i) => p && p.includes("*") ? [i] : []),
        status: indicator ? indicator.dataset.status : null,
        kernel: kernelName ? kernelName.textContent.trim() : null,
        dialogs: [...document.querySelectorAll(".jp-Dialog")].filter(visible)
            .map(d => d.innerText.trim().replace(/\\s+/g, " ").slice(0, 200)),
        toasts: [...document.querySelectorAll(".jp-Notification-Toast-Close")]
            .filter(visible).length,
    };
}"""


def notebook_state(page) -> dict:
    """The shown notebook's state: cell count, prompts, running cells, kernel status and name,
    open dialogs. Useful in failure messages."""
    for attempt in range(50):
        try:
            return page.evaluate(_STATE_JS, NOTEBOOK)
        except Exception as error:  # noqa: BLE001 - Playwright's Error
            # JupyterLab navigates once more while it starts (``?reset``): the page's old
            # context is gone for a moment. Anything else is a real failure.
            if "Execution context was destroyed" not in str(error) or attempt == 49:
                raise
            page.wait_for_load_state("domcontentloaded")
    raise AssertionError("unreachable")


def save_screenshot(page, name: str, directory: Path | None = None) -> Path | None:
    """Save a full-page screenshot as ``<directory>/<name>.png`` (by default in
    ``test-artifacts/browser/``); returns its path (or None if the page cannot be photographed
    any more)."""
    directory = ARTIFACTS if directory is None else Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{_artifact_name(name)}.png"
    try:
        page.screenshot(path=str(path), full_page=True, timeout=10_000)
    except Exception:  # a crashed or closed page: the failure message must still come through
        return None
    return path


def fail_with_screenshot(page, message: str) -> NoReturn:
    """Fail the test with ``message``, the notebook's state and a screenshot in the artifacts."""
    test = os.environ.get("PYTEST_CURRENT_TEST", "browser").split(" ")[0].split("::")[-1]
    path = save_screenshot(page, f"{test}-{time.strftime('%H%M%S')}")
    try:
        state = notebook_state(page)
    except Exception as error:  # noqa: BLE001 - any reason the page is gone
        state = f"(unreadable: {error})"
    fail(f"{message}\nnotebook state: {state}\nscreenshot: {path}")


def dismiss_dialogs(page) -> list[str]:
    """Close whatever could cover the notebook: dialogs and notification toasts.

    A kernel-selection dialog is accepted (it picks the notebook's kernel); any other dialog is
    dismissed with its reject button (or Escape). Returns the texts of the dialogs it closed,
    and prints them (pytest shows them with a failure).
    """
    closed = []
    for _ in range(5):
        dialog = page.locator(".jp-Dialog").first
        if not dialog.count() or not dialog.is_visible():
            break
        text = " ".join(dialog.inner_text().split())[:200]
        closed.append(text)
        is_kernel_choice = (dialog.locator("select").count() > 0
                            or text.lower().startswith("select kernel"))
        button = dialog.locator(".jp-Dialog-button.jp-mod-accept" if is_kernel_choice
                                else ".jp-Dialog-button.jp-mod-reject").first
        if button.count() and button.is_visible():
            button.click(timeout=5_000)
        else:
            page.keyboard.press("Escape")
        try:
            dialog.wait_for(state="detached", timeout=5_000)
        except Exception:  # noqa: BLE001 - another dialog may take its place; loop again
            pass
    for close in page.locator(".jp-Notification-Toast-Close").all():
        try:
            if close.is_visible():
                close.click(timeout=2_000)
        except Exception:  # noqa: BLE001 - the toast left on its own
            pass
    if closed:
        print(f"dismissed dialogs: {closed}")
    return closed


def wait_for_state(page, ready: Callable[[dict], bool], timeout: float, what: str,
                   settle: float = 0.0, interval: float = 0.1) -> dict:
    """Poll :func:`notebook_state` until ``ready(state)`` has held for ``settle`` seconds and
    return that state; e.g. ``wait_for_state(page, lambda s: s["status"] == "busy", 5, "busy")``.

    Dialogs and toasts are dismissed on the way. After ``timeout`` s the test fails with
    ``what``, the last state and a screenshot.
    """
    deadline = time.monotonic() + timeout
    since = None
    while True:
        state = notebook_state(page)
        now = time.monotonic()
        if (state["dialogs"] or state["toasts"]) and now <= deadline:
            dismiss_dialogs(page)
            since = None
            continue
        if ready(state):
            since = now if since is None else since
            if now - since >= settle:
                return state
        else:
            since = None
        if now > deadline:
            fail_with_screenshot(page, f"timed out after {timeout:.0f} s waiting for {what}")
        page.wait_for_timeout(interval * 1000)


def open_notebook(page, server: JupyterServer, name: str, ui: Ui = "lab",
                  timeout: float = NOTEBOOK_OPEN_TIMEOUT):
    """Open notebook ``name`` (relative to the server root) in JupyterLab (``ui="lab"``) or
    Notebook 7 (``ui="notebook"``) and wait until it is ready to run cells.

    Ready means: every cell of the file is shown, the notebook's kernel is started, the page's
    websocket is connected to it, and it is idle. Dialogs and toasts are dismissed. In
    JupyterLab the workspace is reset, so only this notebook is open. Returns the notebook's
    locator (``.jp-Notebook``).
    """
    if ui not in ("lab", "notebook"):
        raise ValueError(f"ui must be 'lab' or 'notebook', not {ui!r}")
    quoted = urllib.parse.quote(name)
    if ui == "lab":
        url = f"{server.url}lab/tree/{quoted}?reset&token={server.token}"
    else:
        url = f"{server.url}notebooks/{quoted}?token={server.token}"
    expected_cells = len(nbformat.read(server.root / name, as_version=4).cells)
    deadline = time.monotonic() + timeout
    server.check_alive()
    try:
        page.goto(url, wait_until="domcontentloaded", timeout=timeout * 1000)
    except Exception as error:  # noqa: BLE001 - Playwright's Error and TimeoutError
        server.check_alive()
        fail_with_screenshot(page, f"could not load {url}: {error}")

    def kernel_connected() -> bool:
        server.check_alive()
        for session in server.sessions():
            if session.get("path") == name and session.get("kernel"):
                kernel = session["kernel"]
                return (kernel.get("execution_state") == "idle"
                        and kernel.get("connections", 0) > 0)
        return False

    def ready(state: dict) -> bool:
        return (state["cells"] == expected_cells
                and state["status"] == "idle"
                and state["kernel"] not in (None, "", "No Kernel")
                and not state["running"]
                and kernel_connected())

    wait_for_state(page, ready, max(1.0, deadline - time.monotonic()),
                   f"{name} to open in {ui} with {expected_cells} cells and an idle kernel",
                   settle=0.3)
    return page.locator(NOTEBOOK)


def cell_locator(page, index: int):
    """The cell at ``index`` (0-based, counting every cell) of the shown notebook."""
    return page.locator(NOTEBOOK).locator(".jp-Cell").nth(index)


def cell_output_locator(page, index: int):
    """The output area of cell ``index`` (the top level one, not a widget's nested area)."""
    return cell_locator(page, index).locator(".jp-Cell-outputArea").first


def cell_output_text(page, index: int) -> str:
    """The text of cell ``index``'s outputs (without the ``[n]:`` prompt), stripped; outputs
    are joined by newlines.

    It reads ``textContent``, not ``innerText``: both UIs skip rendering cells out of view
    (``content-visibility: auto``), and the browser gives no ``innerText`` for those.
    """
    outputs = cell_output_locator(page, index).locator(
        ":scope > .jp-OutputArea-child > .jp-OutputArea-output")
    return "\n".join(text.strip("\n") for text in outputs.all_text_contents()).strip()


def wait_for_kernel_idle(page, timeout: float = KERNEL_IDLE_TIMEOUT) -> dict:
    """Wait until no cell of the shown notebook is queued or running (no ``[*]`` prompt) and
    the kernel status is ``idle`` -- held for 0.2 s, so a flicker between two queued cells
    does not count. Fails with a screenshot after ``timeout`` s. Returns the notebook state."""
    return wait_for_state(page, lambda s: s["status"] == "idle" and not s["running"], timeout,
                          "the kernel to be idle", settle=0.2)


def run_cell(page, index: int, *, wait: bool = True,
             timeout: float = KERNEL_IDLE_TIMEOUT) -> None:
    """Run code cell ``index`` (0-based among all cells) as a pupil would, without typing code.

    Selects the cell by clicking its ``[ ]:`` prompt (command mode, no editor focus), presses
    Ctrl+Enter (run the selected cell and stay on it: unlike Shift+Enter this never adds a cell
    at the end), and checks that the prompt changed, i.e. the run really started. With
    ``wait=True`` it then waits (up to ``timeout`` s) for :func:`wait_for_kernel_idle`; pass
    ``wait=False`` to interact with the cell while it runs.
    """
    dismiss_dialogs(page)
    cell = cell_locator(page, index)
    if not cell.count():
        fail_with_screenshot(page, f"there is no cell {index}")
    if "jp-CodeCell" not in (cell.get_attribute("class") or ""):
        fail_with_screenshot(page, f"cell {index} is not a code cell")
    prompt = cell.locator(".jp-InputPrompt").first
    before = (prompt.text_content() or "").strip()
    prompt.click()
    try:
        page.wait_for_function(
            "(cell) => cell.classList.contains('jp-mod-active')",
            arg=cell.element_handle(), timeout=10_000)
    except Exception:  # noqa: BLE001 - Playwright's TimeoutError
        fail_with_screenshot(page, f"clicking cell {index}'s prompt did not select it")
    page.keyboard.press("Control+Enter")
    wait_for_state(page, lambda s: index < len(s["prompts"]) and s["prompts"][index] != before,
                   15, f"cell {index} to start running (its prompt to change from {before!r})",
                   interval=0.02)
    if wait:
        wait_for_kernel_idle(page, timeout)
