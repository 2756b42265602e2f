"""Accessibility: an axe-core audit of every built page, alt text on every figure,
labels on every control, and colour maps that every reader can read.
"""

from __future__ import annotations

import matplotlib
import numpy as np
import pytest
from conftest import ROOT, Visit, toc_files

from widgets.draw import style

AXE = ROOT / "frontend" / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = {"serious", "critical"}


@pytest.fixture(scope="module")
def ready(request, browser, site_url):
    """A page with its widgets drawn, shared by this module's checks of that page
    (module scope and ``indirect`` parametrization: pytest groups them, one page at a time).
    """
    visit = Visit(browser, f"{site_url}/{request.param}.html")
    visit.wait_for_widgets()
    visit.page.wait_for_timeout(300)  # let the page's accessibility script name the new controls
    yield visit.page
    visit.close()


@pytest.mark.browser
@pytest.mark.parametrize("ready", toc_files(), indirect=True)
def test_figures_have_alt_text_and_controls_have_names(ready):
    report = ready.evaluate(
        """() => {
            const main = document.querySelector('main') || document.body;
            const imgs = [...main.querySelectorAll('img')];
            const frames = [...main.querySelectorAll('.cw-explorer img')];
            return {
                missingAlt: imgs.filter(i => !(i.getAttribute('alt') || '').trim()).map(i => i.src.slice(0, 60)),
                framesWithoutValues: frames.filter(i => !/\\(\\w+ = [^)]+\\)$/.test(i.alt)).map(i => i.alt),
                unnamedSliders: [...main.querySelectorAll('.noUi-handle')]
                    .filter(h => !h.getAttribute('aria-label')).length,
                unnamedButtons: [...main.querySelectorAll('.cw-explorer button')]
                    .filter(b => !(b.getAttribute('aria-label') || b.textContent.trim())).length,
                unlabelledControls: [...main.querySelectorAll(
                    '.cw-explorer .widget-slider, .cw-explorer .widget-toggle-buttons')]
                    .filter(c => !(c.querySelector('.widget-label') || {}).textContent).length,
            };
        }""")
    assert report["missingAlt"] == []
    assert report["framesWithoutValues"] == [], "frame alt text ends with the current parameter values"
    assert report["unnamedSliders"] == 0
    assert report["unnamedButtons"] == 0
    assert report["unlabelledControls"] == 0


@pytest.mark.browser
@pytest.mark.parametrize("ready", toc_files(), indirect=True)
def test_axe_finds_no_serious_or_critical_violation(ready):
    # After the read-only checks of the same page: the audit adds axe's script to it.
    ready.add_script_tag(path=str(AXE))
    violations = ready.evaluate(
        """async () => (await axe.run(document, {resultTypes: ['violations']})).violations
             .map(v => ({id: v.id, impact: v.impact, help: v.help,
                         nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))""")
    blocking = [v for v in violations if v["impact"] in BLOCKING]
    assert blocking == [], blocking
    # The budget allows moderate and minor findings; the book has none, and keeps it so.
    assert violations == [], violations
    # The same page in dark mode, switched the way the colour-mode button does
    # (book/_static/colour-mode.js): every text, captions included, keeps its contrast.
    ready.evaluate("""() => { const root = document.documentElement;
                              root.dataset.mode = 'dark'; root.dataset.theme = 'dark'; }""")
    ready.wait_for_timeout(200)
    try:
        dark = ready.evaluate(
            """async () => (await axe.run(document, {resultTypes: ['violations']})).violations
                 .map(v => ({id: v.id, impact: v.impact, help: v.help,
                             nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))""")
    finally:
        ready.evaluate("""() => { const root = document.documentElement;
                                  root.dataset.mode = 'light'; root.dataset.theme = 'light'; }""")
    assert dark == [], f"dark mode: {dark}"


def lightness(name: str, n: int = 65) -> np.ndarray:
    """CIELAB L* of n samples of a matplotlib colour map (sRGB, D65)."""
    rgb = matplotlib.colormaps[name](np.linspace(0, 1, n))[:, :3]
    linear = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    y = linear @ np.array([0.2126, 0.7152, 0.0722])
    f = np.where(y > (6 / 29) ** 3, np.cbrt(y), y / (3 * (6 / 29) ** 2) + 4 / 29)
    return 116 * f - 16


def test_sequential_map_is_perceptually_uniform_in_lightness():
    steps = np.diff(lightness(style.SEQUENTIAL))
    assert np.all(steps > 0), "lightness rises monotonically, so order reads without colour"
    assert steps.max() / steps.mean() < 1.4, "even steps in lightness"
    assert style.SEQUENTIAL in {"viridis", "cividis", "magma", "inferno", "plasma"}, "designed for colour-blind readers"


def test_diverging_map_is_symmetric_with_a_light_neutral_centre():
    light = lightness(style.DIVERGING)
    assert np.abs(light - light[::-1]).max() < 1.5, "positive and negative values of equal size look equally strong"
    centre = len(light) // 2
    assert light.argmax() == centre and light[centre] > 85, "zero is the lightest, neutral colour"
    assert np.all(np.diff(light[:centre + 1]) > 0) and np.all(np.diff(light[centre:]) < 0)
