"""Run it anywhere: Binder's environment matches requirements.txt, and every chapter
page carries its launch and download buttons.
"""

from __future__ import annotations

import json
import re
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml
from conftest import ROOT, chapter_files


def read_pins(path: Path) -> dict[str, str]:
    """Package name to pinned version, following -r includes; other lines are checked, not kept."""
    pins = {}
    for raw in path.read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line or line.startswith(("--extra-index-url", "-e ")):
            continue
        if line.startswith("-r "):
            pins.update(read_pins((path.parent / line[3:].strip()).resolve()))
            continue
        match = re.fullmatch(r"([A-Za-z0-9_.\-]+)==([^\s;]+)", line)
        assert match, f"{path.name}: '{raw}' is not pinned with =="
        name = match.group(1).lower().replace("_", "-")
        assert name not in pins or pins[name] == match.group(2), f"{name} pinned twice differently in {path}"
        pins[name] = match.group(2)
    return pins


def test_every_requirement_is_pinned_and_the_package_installed():
    text = (ROOT / "requirements.txt").read_text()
    assert re.search(r"^-e \.$", text, re.M), "requirements.txt installs the book's package"
    assert read_pins(ROOT / "requirements.txt")["torch"] == "2.13.0"


def test_binder_uses_the_same_pins_with_cpu_torch():
    ours = read_pins(ROOT / "requirements.txt")
    binder_file = ROOT / "binder" / "requirements.txt"
    text = binder_file.read_text()
    assert "--extra-index-url https://download.pytorch.org/whl/cpu" in text
    assert re.search(r"^-r \.\./requirements\.txt$", text, re.M)
    binder = {}
    for line in text.splitlines():
        match = re.fullmatch(r"([A-Za-z0-9_.\-]+)==(\S+)", line.strip())
        if match:
            binder[match.group(1).lower()] = match.group(2)
    # Binder's own pins may only add the CPU build's local label to torch.
    assert binder == {"torch": ours["torch"] + "+cpu"}
    assert (ROOT / "binder" / "runtime.txt").read_text().strip() == "python-3.11"


def test_jupyterlab_opens_markdown_chapters_as_notebooks():
    overrides = json.loads((ROOT / "binder" / "overrides.json").read_text())
    viewers = overrides["@jupyterlab/docmanager-extension:plugin"]["defaultViewers"]
    assert viewers["markdown"] == viewers["myst"] == "Jupytext Notebook"
    assert "overrides.json" in (ROOT / "binder" / "postBuild").read_text()
    assert "binder/overrides.json" in (ROOT / "scripts" / "setup.sh").read_text()


def test_repository_url_lives_in_one_place():
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    url = config["repository"]["url"]
    assert re.fullmatch(r"https://github\.com/[\w.-]+/[\w.-]+", url)
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    mentions = [f for f in tracked if (ROOT / f).is_file() and url in (ROOT / f).read_text(errors="ignore")]
    assert mentions == ["_config.yml"], mentions


class Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self.hrefs.append(dict(attrs).get("href", ""))


@pytest.mark.build
@pytest.mark.parametrize("doc", chapter_files())
def test_chapter_pages_carry_launch_and_download_buttons(site, doc):
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    repo = config["repository"]["url"].removeprefix("https://github.com/")
    page = site / f"{doc}.html"
    parser = Links()
    parser.feed(page.read_text())
    binder = f"https://mybinder.org/v2/gh/{repo}/{config['repository']['branch']}?urlpath=lab/tree/{doc}.md"
    assert binder in parser.hrefs, "Binder button opening this chapter in JupyterLab"
    download = f"../_sources/{doc}.ipynb"
    assert download in parser.hrefs, "download of the executed notebook"
    notebook = json.loads((page.parent / download).read_text())
    code = [c for c in notebook["cells"] if c["cell_type"] == "code"]
    assert code and all(c.get("execution_count") for c in code), "the notebook is the executed one"
    assert not any(o.get("output_type") == "error" for c in code for o in c.get("outputs", []))
    assert (page.parent / f"../_sources/{doc}.md").resolve().is_file()


def test_the_notebook_kernel_runs_torch_on_one_thread():
    """The kernel JupyterLab and Binder start uses one PyTorch thread, as the builds' kernels do.

    scripts/setup.sh and binder/postBuild install it (scripts/one_thread_kernel.py); with
    PyTorch's default pool of one thread per core, a chapter's kernel fights itself for the
    cores on a busy machine.
    """
    import os

    from jupyter_client.manager import start_new_kernel

    env = {k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS")}
    manager, client = start_new_kernel(kernel_name="python3", env=env)
    printed = []

    def collect(msg):
        if msg["msg_type"] == "stream":
            printed.append(msg["content"]["text"])

    try:
        reply = client.execute_interactive("import torch; print(torch.get_num_threads())", timeout=120,
                                           output_hook=collect)
        assert reply["content"]["status"] == "ok"
        assert "".join(printed).strip() == "1"
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
