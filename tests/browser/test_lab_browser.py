"""The lab in JupyterLab: notebooks/lab.ipynb run once, one page shared by the tests of this module, in order."""
from __future__ import annotations

import pytest

from labkit.scenario import build
from labkit.widgets.lanes import lane_names

from .actions import check_after_monkey, monkey, worst_case_then_range_seq
from .conftest import open_page, real_errors
from .figure import TEXTS, clipped, overlaps
from .lab_page import scenario_of, settle
from .servers import open_and_run_all

pytestmark = pytest.mark.browser

LANES = ["pte[0]", "fault remembers", "spte[0]", "page P", "PTL", "kvm->mmu_lock", "mmap_sem", "vm", "fault",
         "guest", "allocator"]
STEPS = 20           # zap (madvise) / range / off, the fault reading first and installing after VM step 8
#: The veil is the only Lines mark drawn thicker than 100 px (bars are 16 px).
VEIL = ("() => Array.from(document.querySelector('.labkit-lab .labkit-timeline').querySelectorAll('g.curve path.line'))"
        ".filter(p => parseFloat(getComputedStyle(p).strokeWidth) > 100).map(p => p.style.stroke).join()")
FIGURES = 3          # the lab, and the two sides of the comparison
ACTIONS = 100        # the monkey's, here; Voila's page gets more (it is faster)


@pytest.fixture(scope="module")
def page(browser, lab_server, request):
    """lab.ipynb open in JupyterLab, every cell run once, shared by the tests of this module."""
    page = open_page(browser)
    request.module._PAGE = page
    open_and_run_all(page, lab_server, "lab.ipynb", FIGURES)
    yield page
    page.close()


def status(page) -> str:
    return page.locator(".labkit-lab .labkit-status-line").first.inner_text()


def wait_status(page, check: str, timeout=15_000) -> None:
    page.wait_for_function(
        "([check]) => { const s = document.querySelector('.labkit-lab .labkit-status-line'); "
        "return s && eval(check)(s.innerText); }", arg=[check], timeout=timeout)


def test_run_all_has_no_error_outputs(page):
    errors = page.locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')
    assert errors.count() == 0, errors.all_inner_texts()
    assert "Traceback" not in page.locator(".jp-Notebook").inner_text()
    assert page.locator(".labkit-lab").count() == 1


def test_timeline_has_its_lanes_and_marks(page):
    figure = page.locator(".labkit-lab .labkit-timeline").first
    ticks = figure.evaluate("svg => Array.from(svg.querySelectorAll('.axis text')).map(t => t.textContent)")
    for lane in LANES:
        assert lane in ticks, ticks
    counts = figure.evaluate("""svg => ({
        dots: svg.querySelectorAll('path.dot').length,
        bars: svg.querySelectorAll('g.curve path.line').length,
        veil: Array.from(svg.querySelectorAll('g.curve path.line')).filter(p => parseFloat(getComputedStyle(p).strokeWidth) > 100).length,
        labels: Array.from(svg.querySelectorAll('text')).map(t => t.textContent)})""")
    assert counts["dots"] >= STEPS + 2 + 1         # one per step, the two notifier calls, the pte clear
    assert counts["bars"] >= 4 + 2 + 5              # pte, spte, page in use and free; memory; the locks
    assert counts["veil"] == STEPS + 2              # a column per step, step 0, and the x range anchor
    for word in ("USE AFTER FREE", "range_start", "range_end", "clear pte", "FREED", "pfn P"):
        assert any(word in text for text in counts["labels"]), word


def test_cursor_moves_in_the_browser(page):
    """A key press on the step slider recolours the veil (no kernel needed for the figure)."""
    before = page.evaluate(VEIL)
    handle = page.locator(".labkit-lab .widget-hslider .noUi-handle").last
    handle.focus()
    page.keyboard.press("ArrowLeft")
    page.wait_for_function(f"(b) => ({VEIL})() !== b", arg=before)
    wait_status(page, "t => t.startsWith('step 14:')")
    page.keyboard.press("ArrowRight")
    wait_status(page, "t => t.includes('use after free')")


def test_refcount_pin_makes_the_same_schedule_safe(page):
    lab = page.locator(".labkit-lab")
    lab.get_by_role("button", name="off", exact=True).click()
    wait_status(page, "t => t.includes('use after free')")
    lab.get_by_role("button", name="pin", exact=True).click()
    page.wait_for_function("() => document.querySelector('.labkit-lab .labkit-verdict').innerText.includes('is safe')")
    # the verdict and the status line are separate widgets, updated by separate messages
    wait_status(page, "t => !t.includes('use after free')")
    assert "use after free" not in status(page)
    lab.get_by_role("button", name="off", exact=True).click()
    wait_status(page, "t => t.includes('use after free')")


def test_scheduler_buttons_advance_the_trace(page):
    lab = page.locator(".labkit-lab")
    lab.get_by_role("button", name="you are the scheduler").click()
    wait_status(page, "t => t.startsWith('step 0:')")
    buttons = lab.locator(".labkit-thread-button")
    assert buttons.count() == 4
    assert lab.get_by_role("button", name="allocator", exact=True).is_disabled()
    fault = lab.get_by_role("button", name="fault", exact=True)
    for n in (1, 2, 3):
        fault.click()
        wait_status(page, f"t => t.startsWith('step {n}:')")
    lab.get_by_role("button", name="undo").click()
    wait_status(page, "t => t.startsWith('step 2:')")
    lab.get_by_role("button", name="reset").click()
    wait_status(page, "t => t.startsWith('step 0:')")
    lab.get_by_role("button", name="you are the scheduler").click()
    wait_status(page, "t => t.includes('use after free')")


def test_labels_never_overlap_and_are_never_clipped(page):
    """Every figure on the page, for every secondary MMU (their entry names are the longest lane names)."""
    lab = page.locator(".labkit-lab")
    for name, entry in (("gru", "GRU TLB entry[0]"), ("xpmem", "XPMEM remote mapping[0]"),
                        ("iommu", "IOTLB entry[0]"), ("kvm", "spte[0]")):
        lab.get_by_label("secondary MMU", exact=True).select_option(name)
        for figure in stable_figures(page, entry):
            assert overlaps(figure) == [], name
            assert clipped(figure) == [], name
    lab.get_by_label("notifier", exact=True).select_option("range")      # the iommu brought scheme none
    wait_status(page, "t => t.includes('use after free')")


def stable_figures(page, lane: str) -> list:
    """The figures' words once the lab's figure shows exactly its configuration's lanes, ``lane`` among them,
    and has stopped changing (a lane renamed is drawn in steps: the old and new lanes together for a
    moment, then the new ones)."""
    page.wait_for_function("(lane) => Array.from(document.querySelectorAll('.labkit-lab .axis text'))"
                           ".some(t => t.textContent === lane)", arg=lane)
    lanes = lane_names(build(scenario_of(settle(page))))
    page.wait_for_function("(lanes) => { const axes = Array.from(document.querySelectorAll("
                           "'.labkit-lab .labkit-timeline .axis')).filter(a => a.textContent.includes('pte[0]')); "
                           "if (axes.length !== 1) return false; "
                           "const ticks = Array.from(axes[0].querySelectorAll('.tick text')).map(t => t.textContent)"
                           ".filter(t => t.trim()); "
                           "return ticks.length === lanes.length && lanes.every(l => ticks.includes(l)); }", arg=lanes)
    last, same = None, 0
    for _ in range(60):
        now = page.evaluate(TEXTS)
        same = same + 1 if now == last else 0
        if same == 2:
            return now
        last = now
        page.wait_for_timeout(300)
    return last


def test_worst_case_then_another_notifier_draws_the_new_notifier(page):
    worst_case_then_range_seq(page)


def test_a_monkey_finds_no_error_and_the_page_agrees_with_the_kernel(page):
    check_after_monkey(page, monkey(page, ACTIONS, "jupyterlab"))


def test_no_console_errors(page):
    assert real_errors(page) == []
