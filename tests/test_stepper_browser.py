"""The backward-pass stepper in a real browser: headless Chromium loads the standalone page, a test presses
Next to the end (and uses the keyboard), and checks what is on screen at a few steps.

Screenshots go to a temporary folder (their path is printed; run with -s to see it). Needs Debian's
``chromium`` and ``chromium-driver`` and the ``selenium`` package; .ci/run installs them. Under CI a
missing browser fails; elsewhere it skips.
"""

from __future__ import annotations

import os
import shutil

import pytest

import chainrule as cr
import chainrule.inspect as ins

CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture(scope="module")
def browser():
    if CI:
        from selenium import webdriver
    else:
        webdriver = pytest.importorskip("selenium.webdriver")
    chromium, driver_path = shutil.which("chromium"), shutil.which("chromedriver")
    if chromium is None or driver_path is None:
        if CI:
            pytest.fail("the browser tests need Debian's chromium and chromium-driver (see .ci/run)")
        pytest.skip("chromium / chromedriver not installed")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1200,800", "--force-device-scale-factor=1"):
        options.add_argument(arg)
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=driver_path))
    yield driver
    driver.quit()


def _state(driver) -> dict:
    return driver.execute_script("""
        const r = document.querySelector('.cr-stepper');
        return {count: r.querySelector('.cr-count').textContent,
                text: r.querySelector('.cr-text').innerText,
                focus: Array.from(r.querySelectorAll('.cr-node.cr-focus')).map(n => n.dataset.box),
                labels: Array.from(r.querySelectorAll('text.cr-elabel')).map(t => t.textContent),
                grads: Array.from(r.querySelectorAll('text.cr-grad')).map(t => t.textContent),
                next_disabled: r.querySelector('.cr-next').disabled};""")


def test_seed004_stepper_in_chromium(browser, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    a = cr.tensor(4.0, requires_grad=True)
    b = cr.tensor(3.0, requires_grad=True)
    c = a + b
    d = a * c
    page = ins.stepper(d).save(tmp_path / "seed004_steps.html")
    shots = tmp_path / "screenshots"
    shots.mkdir()
    browser.get("file://" + os.path.abspath(page))

    states = [_state(browser)]
    assert states[0]["count"] == "step 0 of 5"
    assert "∂d/∂d = 1" in states[0]["text"]
    browser.save_screenshot(str(shots / "step0.png"))
    nxt = browser.find_element(By.CSS_SELECTOR, ".cr-next")
    while not states[-1]["next_disabled"]:
        nxt.click()
        states.append(_state(browser))
        browser.save_screenshot(str(shots / f"step{len(states) - 1}.png"))
    print(f"\nscreenshots of the seed-004 stepper: {shots}")
    assert len(states) == 6  # start, MulBackward0, AddBackward0, leaf a, leaf b, the sums
    # step 1: the multiplication d = a * c; the gradient arriving is 1; it sends c = 7 to a and a = 4 to c
    mul = states[1]
    assert "MulBackward0" in mul["text"] and "d = a * c" in mul["text"]
    assert "g = ∂d/∂d = 1" in mul["text"]
    assert "∂d/∂a = g · ∂d/∂a = 1 · 7 = 7" in mul["text"]
    assert "∂d/∂c = g · ∂d/∂c = 1 · 4 = 4" in mul["text"]
    assert sorted(lab for lab in mul["labels"] if lab) == ["∂d/∂a = 7", "∂d/∂c = 4"]
    # step 2: the addition passes 4 on to both inputs; four edges now carry their gradient
    add = states[2]
    assert "AddBackward0" in add["text"] and "g = ∂d/∂c = 4" in add["text"]
    assert "∂d/∂b = g · ∂c/∂b = 4 · 1 = 4" in add["text"]
    assert len([lab for lab in add["labels"] if lab]) == 4
    # the leaves fill their .grad: a's from two routes
    assert any("a.grad = 7 + 4 = 11" in s["text"] for s in states)
    # the last step: every input's gradient as the sum of its routes
    last = states[-1]
    assert last["count"] == "step 5 of 5"
    assert "∂d/∂a = 7 + 4 = 11" in last["text"] and "∂d/∂b = 4" in last["text"]
    assert "grad 11" in last["grads"] and "grad 4" in last["grads"]

    # keyboard: Home, End and the arrow keys on the focused widget
    root = browser.find_element(By.CSS_SELECTOR, ".cr-stepper")
    root.send_keys(Keys.HOME)
    assert _state(browser)["count"] == "step 0 of 5"
    root.send_keys(Keys.ARROW_RIGHT)
    root.send_keys(Keys.ARROW_RIGHT)
    assert _state(browser)["count"] == "step 2 of 5"
    root.send_keys(Keys.ARROW_LEFT)
    assert _state(browser)["text"] == mul["text"]
    root.send_keys(Keys.END)
    assert _state(browser)["count"] == "step 5 of 5"
    prev = browser.find_element(By.CSS_SELECTOR, ".cr-prev")
    prev.send_keys(Keys.ENTER)  # a focused button works from the keyboard
    assert _state(browser)["count"] == "step 4 of 5"
    for name in ("step0.png", "step1.png", "step5.png"):
        assert (shots / name).stat().st_size > 5_000


MATHJAX = "/usr/share/javascript/mathjax/MathJax.js"  # Debian's libjs-mathjax (MathJax 2.7), installed by .ci/run


def _nbconvert_page(tmp_path, outputs: list) -> str:
    """A notebook with one code cell per display bundle, converted to HTML by nbconvert with a local MathJax."""
    if CI:
        import nbformat
        from nbconvert import HTMLExporter
    else:
        nbformat = pytest.importorskip("nbformat")
        HTMLExporter = pytest.importorskip("nbconvert").HTMLExporter
    if not os.path.exists(MATHJAX):
        if CI:
            pytest.fail(f"{MATHJAX} is missing (Debian package libjs-mathjax, see .ci/run)")
        pytest.skip("libjs-mathjax is not installed")
    cells = []
    for k, data in enumerate(outputs):
        cell = nbformat.v4.new_code_cell(f"output {k}")
        cell.outputs = [nbformat.v4.new_output("display_data", data=data)]
        cells.append(cell)
    nb = nbformat.v4.new_notebook(cells=cells)
    exporter = HTMLExporter(mathjax_url=f"file://{MATHJAX}?config=TeX-AMS_CHTML-full,Safe")
    body, _ = exporter.from_notebook_node(nb)
    page = tmp_path / "notebook.html"
    page.write_text(body, encoding="utf-8")
    return str(page)


def _typeset(driver) -> dict:
    """Wait for MathJax 2 to finish, then count typeset formulas, errors and any '$' left as text."""
    from selenium.webdriver.support.ui import WebDriverWait
    WebDriverWait(driver, 60).until(lambda d: d.execute_script(
        "return window.MathJax && MathJax.Hub && MathJax.Hub.queue.pending === 0 && "
        "document.querySelectorAll('.MathJax_Processing, .MathJax_Preview:not(:empty)').length === 0"))
    return driver.execute_script("""
        const out = document.querySelectorAll('.jp-OutputArea-output');
        return {formulas: Array.from(out).map(o => o.querySelectorAll('.mjx-chtml.MathJax_CHTML').length),
                errors: document.querySelectorAll('.MathJax_Error, .mjx-merror, merror').length,
                text: Array.from(out).map(o => o.innerText)};""")


def test_explanation_math_renders_in_nbconvert_html(browser, tmp_path):
    # What a student sees in nbconvert's HTML (JupyterLab typesets the same Markdown and LaTeX with
    # MathJax 3): every formula typeset, no MathJax error, no raw TeX left on the page.
    a = cr.tensor(4.0, requires_grad=True)
    b = cr.tensor(3.0, requires_grad=True)
    c = a + b
    d = a * c
    routes = ins.explain(d)
    t3 = cr.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    steps = ins.explain((t3 ** 2).sum())
    outputs = [{"text/markdown": routes._repr_markdown_(), "text/plain": str(routes)},
               {"text/latex": routes._repr_latex_(), "text/plain": str(routes)},
               {"text/markdown": steps._repr_markdown_(), "text/plain": str(steps)},
               {"text/latex": steps._repr_latex_(), "text/plain": str(steps)}]
    browser.get("file://" + _nbconvert_page(tmp_path, outputs))
    shown = _typeset(browser)
    from selenium.webdriver.common.by import By
    for k, el in enumerate(browser.find_elements(By.CSS_SELECTOR, ".jp-OutputArea-output")):
        el.screenshot(str(tmp_path / f"explain_output{k}.png"))
    print(f"\nscreenshots of the rendered explanations: {tmp_path}")
    assert shown["errors"] == 0
    # Markdown: one formula per piece of math; LaTeX: the whole explanation is one typeset array
    assert shown["formulas"][0] >= 15 and shown["formulas"][2] >= 10, shown["formulas"]
    assert shown["formulas"][1] == shown["formulas"][3] == 1, shown["formulas"]
    for text in shown["text"]:
        assert "$" not in text and "\\frac" not in text and "\\mathrm" not in text and "\\begin" not in text
    assert "route 2" in shown["text"][0] and "multiply along each route" in shown["text"][1]
    assert "(this path's part)" not in shown["text"][2] and "PowBackward0" in shown["text"][2]
