"""A learner's first minutes, in a real browser (issue 8, item 5): JupyterLab started from the
installed kit, a release notebook opened in headless Chromium, a stub's check cell run and its
rendered feedback read (a failure), then the stub filled by typing in the cell, and the check run
again until it shows a ✓.

The kit is the one `python -m autograder bundle` builds (the session's `kit` fixture), installed in a
fresh virtual environment; to keep this test near a minute, that environment borrows the kit's
dependencies (JupyterLab, NumPy, ...) from the one running the tests through a .pth line instead of
downloading them (the kit's own `autograder` comes first on the path; `solutions` is not on it).

Needs Chromium and its driver (Debian: `apt-get install chromium chromium-driver`; `.ci/run`
installs them) and selenium (the dev extra). Where either is missing or the browser cannot start,
the test is skipped and says why."""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import time
import urllib.request
from pathlib import Path

import pytest

NOTEBOOK = "01_data/data.ipynb"
FILLED = "def flatten(images): return images.reshape(len(images), -1)"
CELL_TIMEOUT = 60   # seconds for one cell's output to appear (the first one starts the kernel)


def _browser_binaries() -> tuple[str, str]:
    chromium = next(filter(None, map(shutil.which, ("chromium", "chromium-browser", "google-chrome"))), None)
    driver = shutil.which("chromedriver")
    if not chromium or not driver:
        pytest.skip("no headless browser here: install chromium and chromium-driver (Debian: "
                    "apt-get install -y chromium chromium-driver) to run the browser test")
    return chromium, driver


@pytest.fixture(scope="module")
def browser():
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (pip install -e '.[dev]')")
    chromium, driver_path = _browser_binaries()
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                 "--window-size=1400,1000"):
        options.add_argument(flag)
    try:
        driver = webdriver.Chrome(service=webdriver.ChromeService(executable_path=driver_path), options=options)
    except Exception as exc:  # no display libraries, a driver of another version, ...
        pytest.skip(f"the browser could not start: {type(exc).__name__}: {str(exc).strip().splitlines()[0]}")
    driver.set_script_timeout(CELL_TIMEOUT)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def kit_lab_python(kit, tmp_path_factory):
    """A fresh virtual environment with the kit's wheel installed; its dependencies come from this one."""
    venv = tmp_path_factory.mktemp("lab-venv") / "kit"
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          check=True, capture_output=True, text=True).stdout.strip()
    Path(site, "zz_borrowed_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(kit["wheel"])],
                   check=True)
    return python


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(kit, kit_lab_python, tmp_path_factory):
    """JupyterLab of the kit's environment, serving a copy of the kit's notebooks: (base URL, token, folder)."""
    home = tmp_path_factory.mktemp("lab")
    notebooks = shutil.copytree(Path(kit["folder"]) / "notebooks", home / "notebooks")
    settings = home / "settings" / "@jupyterlab" / "notebook-extension"
    settings.mkdir(parents=True)
    # every cell stays in the page (JupyterLab 4 otherwise renders only the cells in view)
    (settings / "tracker.jupyterlab-settings").write_text(json.dumps({"windowingMode": "none"}))
    port, token = _free_port(), "kit-browser-test"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "PYTHONPATH", "BACKPROP_KIT_DATA"))}
    env.update(HOME=str(home), JUPYTER_CONFIG_DIR=str(home / "config"), JUPYTER_DATA_DIR=str(home / "data"),
               JUPYTER_RUNTIME_DIR=str(home / "runtime"), IPYTHONDIR=str(home / "ipython"),
               JUPYTERLAB_SETTINGS_DIR=str(home / "settings"), JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"),
               # the JupyterLab application files, which live under the borrowing environment's prefix
               JUPYTERLAB_DIR=str(Path(sys.prefix) / "share" / "jupyter" / "lab"))
    log = open(home / "lab.log", "w")
    server = subprocess.Popen(
        [str(kit_lab_python), "-m", "jupyterlab", "--no-browser", f"--port={port}", "--ip=127.0.0.1",
         f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={notebooks}", "--allow-root",
         "--LabApp.expose_app_in_browser=True"],
        cwd=notebooks, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2)
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"JupyterLab did not start:\n{(home / 'lab.log').read_text()[-3000:]}")
                time.sleep(0.5)
        yield base, token, notebooks
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
        log.close()


# ---------------------------------------------------------------------------------------------
# the page, through JupyterLab's own application object (exposed for this test)

_RUN_CELL = """
const [index, done] = [arguments[0], arguments[arguments.length - 1]];
const panel = window.jupyterapp.shell.currentWidget;
panel.content.activeCellIndex = index;
window.jupyterapp.commands.execute('notebook:run-cell').then(() => done(true), e => done(String(e)));
"""
_OUTPUT = """
const cell = window.jupyterapp.shell.currentWidget.content.widgets[arguments[0]];
const area = cell.node.querySelector('.jp-OutputArea');
return area ? area.innerText : '';
"""
_READY = """
const panel = window.jupyterapp && window.jupyterapp.shell.currentWidget;
const session = panel && panel.sessionContext && panel.sessionContext.session;
const kernel = session && session.kernel;
return Boolean(panel && panel.content && panel.content.widgets.length && kernel
               && kernel.connectionStatus === 'connected');
"""


def _wait_for(driver, script, *args, timeout=CELL_TIMEOUT, what=""):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = driver.execute_script(script, *args)
        if value:
            return value
        time.sleep(0.25)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def _cell_indices(path: Path) -> dict[str, int]:
    cells = json.loads(path.read_text())["cells"]
    return {c["metadata"].get("nbgrader", {}).get("grade_id"): i for i, c in enumerate(cells)}


def _run(driver, index: int) -> str:
    result = driver.execute_async_script(_RUN_CELL, index)
    assert result is True, f"running cell {index} failed: {result}"
    return driver.execute_script(_OUTPUT, index)


def _wait_output(driver, index: int, text: str) -> str:
    script = _OUTPUT.replace("return area ? area.innerText : '';",
                             f"return area && area.innerText.includes({json.dumps(text)}) ? area.innerText : '';")
    return _wait_for(driver, script, index, what=f"{text!r} in the output of cell {index}")


def test_without_a_browser_the_test_skips_and_says_how_to_get_one(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(pytest.skip.Exception, match="apt-get install -y chromium chromium-driver"):
        _browser_binaries()


@pytest.mark.slow
def test_a_learner_sees_the_feedback_then_a_tick(browser, lab):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    base, token, notebooks = lab
    cells = _cell_indices(notebooks / NOTEBOOK)
    start = time.monotonic()
    browser.get(f"{base}/lab/tree/{NOTEBOOK}?token={token}&reset")
    _wait_for(browser, _READY, what="the notebook and its kernel")

    # the kernel is the kit's: its autograder is the installed kit's, and it has no reference
    probe = cells["setup"]
    _run(browser, probe)
    browser.execute_script("window.jupyterapp.shell.currentWidget.content.activeCellIndex = arguments[0];", probe)
    kernel_says = browser.execute_async_script("""
        const done = arguments[arguments.length - 1];
        const kernel = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
        const code = "import autograder, importlib.util as u; print(autograder.__file__, u.find_spec('solutions'))";
        let out = '';
        const future = kernel.requestExecute({code});
        future.onIOPub = msg => { if (msg.header.msg_type === 'stream') out += msg.content.text; };
        future.done.then(() => done(out), e => done(String(e)));
    """)
    assert "site-packages/autograder" in kernel_says and kernel_says.strip().endswith("None"), kernel_says

    # the untouched stub, then its check: the rendered feedback says what is missing
    _run(browser, cells["flatten"])
    feedback = _run(browser, cells["test_flatten"]) or _wait_output(browser, cells["test_flatten"], "flatten")
    assert "\u2717 flatten" in feedback and "flatten is not implemented yet" in feedback, feedback
    assert "Traceback" not in feedback, feedback

    # the learner types a solution into the stub cell, runs it, then runs the check cell
    stub = browser.execute_script("return window.jupyterapp.shell.currentWidget.content.widgets[arguments[0]].node;",
                                  cells["flatten"])
    editor = stub.find_element(By.CSS_SELECTOR, ".cm-content")
    editor.click()
    ActionChains(browser).key_down(Keys.CONTROL).send_keys("a").key_up(Keys.CONTROL).send_keys(Keys.DELETE) \
        .send_keys(FILLED).perform()
    typed = browser.execute_script(
        "return window.jupyterapp.shell.currentWidget.content.widgets[arguments[0]].model.sharedModel.getSource();",
        cells["flatten"])
    assert typed == FILLED, typed
    ActionChains(browser).key_down(Keys.SHIFT).send_keys(Keys.ENTER).key_up(Keys.SHIFT).perform()   # run the stub
    ActionChains(browser).key_down(Keys.SHIFT).send_keys(Keys.ENTER).key_up(Keys.SHIFT).perform()   # run its check
    passed = _wait_output(browser, cells["test_flatten"], "\u2713 flatten")
    assert "public checks passed" in passed and "\u2717" not in passed, passed
    assert time.monotonic() - start < 60
