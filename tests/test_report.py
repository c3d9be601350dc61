"""The report: what it contains, that it is self-contained, how it is written, and how it
looks in a real browser (headless Chromium)."""

from __future__ import annotations

import base64
import html
import json
import os
import re
import shutil
import struct
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

import actlab
import actlab.lab
import browser
from actlab import report
from actlab.plotting.seeds import SEED_FIGURES
from actlab.report import MARKER, ReportOptions, write_report

# One worker builds the module's report once (pytest -n 2 --dist loadgroup).
pytestmark = pytest.mark.xdist_group("report")

# A report of one function and no lab: seconds, for the tests of how it is written.
FAST = ReportOptions(functions=("relu",), lab=(), peers=())


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.images: list[dict[str, str]] = []
        self.tags: set[str] = set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.add(tag)
        if "id" in attrs:
            self.ids.append(attrs["id"])
        if tag == "img":
            self.images.append(attrs)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A report on the tiny lab configurations (the defaults are measured, not tested)."""
    out = tmp_path_factory.mktemp("report") / "actlab-report"
    path = write_report(out, ReportOptions(lab_size="tiny", peers=("seed", "scipy")))
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    return path, page


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def test_every_section_function_seed_figure_and_experiment_is_present(built):
    _, page = built
    for section in ("overview", "seeds", "functions", "accuracy", "accuracy-peers", "lab",
                    "environment"):  # fmt: skip
        assert section in page.ids
    for name in actlab.names():
        assert f"fn-{name}" in page.ids
    for key in SEED_FIGURES:
        assert f"seed-{key}" in page.ids
    for name in actlab.lab.EXPERIMENTS:
        assert f"lab-{name}" in page.ids


def test_every_figure_is_an_inline_png_with_a_size(built):
    _, page = built
    assert len(page.images) >= len(SEED_FIGURES) + len(actlab.names()) + len(actlab.lab.EXPERIMENTS)
    for img in page.images:
        prefix = "data:image/png;base64,"
        assert img["src"].startswith(prefix)
        width, height = _png_size(base64.b64decode(img["src"][len(prefix) :]))
        assert width > 100
        assert height > 100
        assert img["alt"]


def test_self_contained_no_script_no_network(built):
    path, page = built
    text = path.read_text(encoding="utf-8")
    assert "script" not in page.tags
    # The only URL is MathML's namespace name, which is never fetched.
    urls = set(re.findall(r"https?://[^\s'\"<>]+", text))
    assert urls <= {"http://www.w3.org/1998/Math/MathML"}


def test_overview_states_the_registry_numbers(built):
    path, _ = built
    text = path.read_text(encoding="utf-8")
    row = text[text.index("href='#fn-sigmoid'") :].split("</tr>", 1)[0]
    assert "<td>0.25</td>" in row
    assert "|f′| &lt; 0.01 for x &lt; -4.59 and x &gt; 4.59" in row
    relu = text[text.index("href='#fn-relu'") :].split("</tr>", 1)[0]
    assert "f′ = 0 for x &lt; 0" in relu


def test_special_values_are_measured(built):
    path, _ = built
    text = path.read_text(encoding="utf-8")
    section = text[text.index("id='fn-softplus'") :].split("</section>", 1)[0]
    assert "<tr><td>−∞</td><td>0.0</td><td>0.0</td><td>0.0</td></tr>" in section
    assert "<tr><td>+∞</td><td>inf</td><td>1.0</td><td>0.0</td></tr>" in section
    tiny = float(np.finfo(np.float64).smallest_subnormal)
    expected = repr(float(actlab.softplus(np.array([tiny]))[0]))
    assert f"<tr><td>smallest subnormal</td><td>{expected}</td>" in section


def test_lab_results_are_written_as_json_and_shown(built):
    path, _ = built
    text = path.read_text(encoding="utf-8")
    for name in actlab.lab.EXPERIMENTS:
        data = json.loads((path.parent / "lab" / f"{name}.json").read_text())
        # The same seed gives the same measurements: the report wrote this run's numbers.
        rerun = actlab.lab.run(name, seed=0, size="tiny").to_dict()
        assert data == json.loads(json.dumps(rerun))
        section = text[text.index(f"id='lab-{name}'") :].split("</section>", 1)[0]
        finding = actlab.lab.run(name, seed=0, size="tiny").finding
        assert html.escape(finding) in section


def test_refuses_an_existing_file_and_a_foreign_folder(tmp_path):
    existing = tmp_path / "file"
    existing.write_text("keep")
    with pytest.raises(FileExistsError, match="existing file"):
        write_report(existing, FAST)
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    with pytest.raises(FileExistsError, match="did not write"):
        write_report(foreign, FAST)
    assert existing.read_text() == "keep"
    assert (foreign / "notes.txt").read_text() == "mine"


def test_a_crash_leaves_the_previous_report_intact(tmp_path, monkeypatch):
    out = tmp_path / "rep"
    write_report(out, FAST)
    before = (out / "index.html").read_bytes()

    def boom(*args, **kwargs):
        raise RuntimeError("simulated crash while building")

    monkeypatch.setattr(report.sections, "seed_gallery", boom)
    with pytest.raises(RuntimeError, match="simulated crash"):
        write_report(out, FAST)
    assert (out / "index.html").read_bytes() == before
    assert (out / MARKER).exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rep"]  # no staging left behind


def test_its_own_folder_is_replaced(tmp_path):
    out = tmp_path / "rep"
    write_report(out, FAST)
    (out / "stale.txt").write_text("from an older report")
    write_report(out, FAST)
    assert not (out / "stale.txt").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rep"]


# ---------------------------------------------------------------- in a real browser
def _require_browser() -> None:
    if browser.find_browser() is None:
        if os.environ.get("ACTLAB_REQUIRE_BROWSER"):
            pytest.fail("ACTLAB_REQUIRE_BROWSER is set but no Chromium was found")
        pytest.skip("no Chromium on this machine (Debian: apt-get install chromium); CI runs it")


def test_report_in_headless_chromium(built, tmp_path):
    _require_browser()
    path, page = built
    seen = browser.inspect_page(path)
    assert seen.console_errors == []
    assert seen.title == "actlab report"
    assert len(seen.images) == len(page.images)
    broken = [i["alt"] for i in seen.images if not (i["complete"] and i["width"] > 0)]
    assert broken == []
    assert set(page.ids) <= set(seen.ids)
    assert seen.height > 5000  # the whole report laid out, not an error page
    shot = tmp_path / "report-screenshot.png"
    shot.write_bytes(seen.screenshot_png)
    assert _png_size(seen.screenshot_png) == (1280, 900)
    record = os.environ.get("ACTLAB_SCREENSHOT_DIR")
    if record:  # CI keeps the screenshot for the record
        Path(record).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(record) / shot.name)
