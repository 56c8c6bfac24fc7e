"""Real-browser tests of notebooks: a real JupyterLab server, Debian's Chromium, Playwright.

The machinery lives in ``harness.py`` (plain functions and context managers, also used by
``bench/view_bandwidth.py``); these fixtures are thin wrappers over it.

Fixtures (usable by every test module in tests/browser/):

* ``artifacts_dir`` -- ``<repo>/test-artifacts/browser/``; screenshots and logs are kept there.
* ``jupyter_server`` -- a real ``jupyter lab`` from the venv on 127.0.0.1, with a token and an
  empty root dir. Kernels get ``ROBOTLAB_PACE=1`` (real time) and ``ROBOTLAB_LANG=da``.
* ``browser`` -- Chromium from ``/usr/bin/chromium`` driven by Playwright's sync API.
* ``page`` -- a fresh 1366x768 page (a Chromebook screen) in its own browser context. After the
  test the context is closed and every kernel is shut down; a failed test leaves a screenshot.

Helpers (import them with ``from .conftest import open_notebook, run_cell, ...``; they are
defined in ``harness.py``):
``write_notebook``, ``open_notebook``, ``run_cell``, ``wait_for_kernel_idle``,
``wait_for_state``, ``notebook_state``, ``cell_locator``, ``cell_output_locator``,
``cell_output_text``, ``dismiss_dialogs``, ``save_screenshot``, ``fail_with_screenshot``.

The server and the browser are package-scoped: they live for all of tests/browser/ and are
stopped before pytest goes on to other folders. Playwright's sync API keeps an asyncio loop
marked as running in the main thread while it is started, so ``asyncio.run()`` fails in tests
that run alongside it; the other folders' tests are therefore kept out of its lifetime.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .harness import (  # noqa: F401 - re-exported for the test modules
    ARTIFACTS,
    CHROMIUM,
    CHROMIUM_ARGS,
    KERNEL_ENV,
    KERNEL_IDLE_TIMEOUT,
    NOTEBOOK,
    NOTEBOOK_OPEN_TIMEOUT,
    REPO,
    UI_TIMEOUT_MS,
    VIEWPORT,
    JupyterServer,
    Ui,
    _artifact_name,
    cell_locator,
    cell_output_locator,
    cell_output_text,
    chromium,
    collect_console,
    dismiss_dialogs,
    fail_with_screenshot,
    new_context,
    notebook_state,
    open_notebook,
    recorded_page,
    run_cell,
    save_screenshot,
    start_jupyter_server,
    wait_for_kernel_idle,
    wait_for_state,
    write_notebook,
)


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """``<repo>/test-artifacts/browser/``: screenshots and logs of the browser tests (kept)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="package")
def jupyter_server(artifacts_dir, tmp_path_factory):
    """A real ``jupyter lab`` (:func:`harness.start_jupyter_server`) with an empty root dir."""
    with start_jupyter_server(tmp_path_factory.mktemp("jupyter-root"), artifacts_dir,
                              state_dir=tmp_path_factory.mktemp("jupyter-state")) as server:
        yield server


@pytest.fixture(scope="package")
def browser():
    """Debian's Chromium (``/usr/bin/chromium``) under Playwright's sync API
    (:func:`harness.chromium`); fails (does not skip) when Chromium is missing."""
    with chromium() as launched:
        yield launched


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Remember each phase's report on the item, so ``page`` can tell that a test failed."""
    report = yield
    setattr(item, f"_browser_report_{report.when}", report)
    return report


@pytest.fixture
def page(browser, jupyter_server, artifacts_dir, request):
    """A fresh 1366x768 page in its own browser context.

    Afterwards the context is closed and every kernel shut down. If the test failed, a
    screenshot and the page's console log are saved to the artifacts dir.
    """
    try:
        with recorded_page(browser, request, artifacts_dir) as new_page:
            yield new_page
    finally:
        jupyter_server.check_alive()
        jupyter_server.shutdown_kernels()
