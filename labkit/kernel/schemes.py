"""Notifier schemes as data: callbacks made of steps, and the check a fault makes.

A :class:`Scheme` lists, for each notifier hook, the steps the secondary MMU's
callback runs, plus what its fault path does before looking up the pte
(``fault_begin``) and the check it makes under its lock before installing an
entry (``fault_retry``).  The VM operations call whatever hooks a scheme
defines, at 2.6.27's call sites (:mod:`labkit.operations`); the engine knows
no scheme by name.  :func:`register_scheme` adds one, so a notebook cell can
define a driver of its own and run it through ``simulate`` and ``explore``.

The hooks, as include/linux/mmu_notifier.h (2.6.27) specifies them:

``invalidate_page``
    Called by ``ptep_clear_flush_notify`` after the pte is cleared and the CPU
    TLB flushed, with the PTL held (try_to_unmap_one, do_wp_page), before the
    page's reference is dropped.  Cannot sleep.
``invalidate_range_start`` / ``invalidate_range_end``
    Called around the zap of a range (unmap_vmas): start before the first pte
    is cleared, end after the last; pages may be freed in between.  In 2.6.27
    both run under rcu_read_lock(), and so they did in Lameter's postings of
    Jan 2008, whose text wanted them sleepable ("We can sleep if atomic ==
    0") so that XPMEM could sleep; SRCU (3.7) made that true.
``invalidate_range``
    Added in 3.19 (Joerg Roedel, for IOMMUv2/ATS devices that share the page
    table): "called under the ptl spin-lock and not allowed to sleep", right
    after a pte is cleared (``ptep_clear_flush_notify``), before an
    mmu_gather frees a batch, and again from invalidate_range_end.  The
    eras say where (:mod:`labkit.kernel.eras`).

Each template below is a function from a :class:`~labkit.program.Call` (which
hook, which virtual pages, which driver) to a :class:`~labkit.program.Step`.

Why ``range_seq`` needs no page reference (the window that defeats ``range``
and ``range_block``, and how the sequence closes it)::

    secondary fault (tdp_page_fault)        VM (unmap_vmas)
    --------------------------------        ---------------
    seq = mmu_notifier_seq       (= 0)
    follow_page: pte -> P
                                            range_start: count++ ; zap
                                            pte_clear ; free P
                                            range_end: seq++ ; count--
    spin_lock(mmu_lock)
    mmu_notifier_retry: count == 0, but
      seq (1) != saved seq (0)  -> retry, no spte to the freed P

``range_block`` checks only the count, which is back to 0: it installs an
entry to the freed page.  ``range`` checks nothing.  A fault that reads the
sequence *inside* the window finds count != 0 at its check.
"""
from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Callable, Optional

from ..core.kinds import COUNTER, READ_BEGIN, ZAP
from ..core.messages import shown
from ..core.program import Call, Step
from ..core.state import System, counter, local, with_counter, with_local, with_spte
from .locks import lock_mmu, unlock_mmu
from .pages import put_page
from .secondaries import HARDWARE_INVALIDATES, SECONDARIES

SEQ, COUNT, ACTIVE = "mmu_notifier_seq", "mmu_notifier_count", "range_active"
INTERVAL_SEQ = "invalidate_seq"                       # mmu_notifier_subscriptions->invalidate_seq
ACTIVE_RANGES = "active_invalidate_ranges"
SUBSCRIPTION_SEQ = "interval_sub->invalidate_seq"
INTERVAL_SITE = "mm/mmu_notifier.c (5.5, commit 99cb252f5e68)"
#: The hooks a scheme can register, in mmu_notifier_ops order.
HOOKS = ("invalidate_page", "invalidate_range_start", "invalidate_range_end", "invalidate_range")


def callback_name(call: Call) -> str:
    return call.secondary.callback_prefix + call.hook


# -- callback step templates ------------------------------------------------

def spin_lock(call: Call) -> Step:
    """Take the driver's lock (KVM: spin_lock(&kvm->mmu_lock); XPMEM's is a sleeping lock)."""
    return lock_mmu(f"{callback_name(call)}: lock {call.secondary.lock}",
                    f"{call.secondary.source}: {callback_name(call)} takes its lock",
                    may_sleep=call.secondary.sleeps)


def spin_unlock(call: Call) -> Step:
    return unlock_mmu(f"{callback_name(call)}: unlock {call.secondary.lock}",
                      f"{call.secondary.source}: {callback_name(call)} drops its lock")


def zap(call: Call) -> Step:
    """Remove the entries of the call's pages; drop the reference a pinned entry holds.

    KVM 2.6.27: kvm_unmap_hva -> rmap_remove -> kvm_release_pfn_clean.  The
    secondary TLB flush that follows (kvm_flush_remote_tlbs, the GRU purge,
    the IOMMU's invalidation completion wait) waits for accesses in flight, so
    the zap is one step.  XPMEM's recall waits for the remote host's answer:
    it may sleep.
    """
    vpages = call.vpages
    hardware = call.secondary.hardware_drop

    def run(s: System, t: int) -> System:
        if hardware:  # every GRU flush counts as an invalidate seen by the hardware
            s = with_counter(s, HARDWARE_INVALIDATES, counter(s, HARDWARE_INVALIDATES) + 1)
        for vpage in vpages:
            spte = s.sptes[vpage]
            if spte is not None:
                s = with_spte(s, vpage, None)
                if spte.pinned:
                    s = put_page(s, spte.pfn)
        return s

    return Step(f"{callback_name(call)}: {call.secondary.zap}", run,
                f"{call.secondary.source}: {call.secondary.zap}", kind=ZAP, may_sleep=call.secondary.sleeps)


def increment(name: str):
    """Template: ``name++`` under the driver's lock (KVM: mmu_notifier_seq++, mmu_notifier_count++)."""
    def template(call: Call) -> Step:
        def run(s: System, t: int) -> System:
            return with_counter(s, name, counter(s, name) + 1)
        return Step(f"{callback_name(call)}: {name}++", run,
                    f"{call.secondary.source}: {callback_name(call)}", kind=COUNTER)
    return template


def decrement(name: str):
    """Template: ``name--`` under the driver's lock (KVM: mmu_notifier_count--)."""
    def template(call: Call) -> Step:
        def run(s: System, t: int) -> System:
            return with_counter(s, name, counter(s, name) - 1)
        return Step(f"{callback_name(call)}: {name}--", run,
                    f"{call.secondary.source}: {callback_name(call)}", kind=COUNTER)
    return template


def read_counter(name: str, into: str = "seq"):
    """Fault-side template: remember ``name`` before looking up the pte, then a read barrier.

    KVM 2.6.27 (arch/x86/kvm/mmu.c:1454-1456, tdp_page_fault): ``mmu_seq =
    vcpu->kvm->mmu_notifier_seq; /* implicit mb(), we'll read before PT lock
    is unlocked */`` before gfn_to_pfn; later kernels write ``smp_rmb()``
    there.
    """
    def template(call: Call) -> Step:
        def run(s: System, t: int) -> System:
            return with_local(s, t, **{into: counter(s, name)})
        return Step(f"{call.secondary.fault}: {into} = {name}, read before the pte lookup", run,
                    "KVM: arch/x86/kvm/mmu.c:1454-1456 tdp_page_fault at v2.6.27 (\"implicit mb()\"; "
                    "smp_rmb() in later kernels)",
                    kind=READ_BEGIN)
    return template


# -- fault-side checks (evaluated under the driver's lock) -------------------

def mmu_notifier_retry(s: System, t: int) -> bool:
    """include/linux/kvm_host.h (2.6.27): retry if a range is in progress or seq moved."""
    return counter(s, COUNT) != 0 or counter(s, SEQ) != local(s, t, "seq")


def sequence_moved(s: System, t: int) -> bool:
    """Retry if an invalidate_page bumped the sequence since the fault read it."""
    return counter(s, SEQ) != local(s, t, "seq")


def range_active(s: System, t: int) -> bool:
    """GRU's dropin refusal: retry while a range invalidate is active (ms_range_active)."""
    return counter(s, ACTIVE) != 0


# -- the scheme ---------------------------------------------------------------

@dataclass(frozen=True)
class Scheme:
    """A notifier user: its callbacks (tuples of step templates) and its fault-side check.

    name, summary:  how traces and tables call it.
    counters:       the driver's integer state and initial values, e.g. ``((SEQ, 0),)``.
    invalidate_page, invalidate_range_start, invalidate_range_end, invalidate_range:
                    step templates run by the VM operation at the hook's call site;
                    an empty tuple means the driver does not register the hook.
    fault_begin:    templates the fault runs before reading the pte.
    fault_retry:    ``(System, t) -> bool``; True = do not install, release and fault again.
    check_at:       where the fault makes that check: ``"install"`` (under the
                    driver's lock, just before installing: KVM's mmu_notifier_retry)
                    or ``"begin"`` (before the pte lookup, without a lock: GRU's
                    ms_range_active test in gru_try_dropin).
    retry_name:     the kernel's name for that check, for labels.
    source:         where it comes from (kernel file and version, or Message-ID).
    requires:       the secondaries it can drive, if not every one (the GRU
                    driver's scheme needs the GRU's hardware dropin rule).  A
                    scheme that declares it is taken at its word: see
                    :func:`drives`.
    """

    name: str
    summary: str
    counters: tuple = ()
    invalidate_page: tuple = ()
    invalidate_range_start: tuple = ()
    invalidate_range_end: tuple = ()
    invalidate_range: tuple = ()
    fault_begin: tuple = ()
    fault_retry: Optional[Callable[[System, int], bool]] = None
    check_at: str = "install"
    retry_name: str = "retry check"
    source: str = ""
    requires: tuple = ()

    def __post_init__(self):
        """Every field checked when the scheme is made, not when a search first runs it (one line each)."""
        if not isinstance(self.name, str) or not self.name.isidentifier() or len(self.name) > NAME_LIMIT:
            raise ValueError(f"Scheme name={shown(self.name)}: give a Python identifier of at most {NAME_LIMIT} "
                             "characters, such as 'my_range' (it names the scheme in tables, CSV rows and replay "
                             "lines)")
        for text in ("summary", "retry_name", "source"):
            if not isinstance(getattr(self, text), str):
                raise ValueError(f"scheme {shown(self.name)}: {text}={shown(getattr(self, text))} must be a string")
        object.__setattr__(self, "counters", _counters(self.name, self.counters))
        for hook in HOOKS + ("fault_begin",):
            templates = getattr(self, hook)
            if not isinstance(templates, tuple) or not all(callable(t) for t in templates):
                raise ValueError(f"scheme {shown(self.name)}: {hook} must be a tuple of step templates "
                                 "(functions from a Call to a Step), e.g. (spin_lock, zap, spin_unlock)")
        if self.fault_retry is not None and not callable(self.fault_retry):
            raise ValueError(f"scheme {shown(self.name)}: fault_retry={shown(self.fault_retry)} must be None or a "
                             "function (System, t) -> bool, e.g. mmu_notifier_retry")
        if self.check_at not in CHECK_AT:
            raise ValueError(f"scheme {shown(self.name)}: check_at={shown(self.check_at)}: choose 'install' or 'begin'")
        if not isinstance(self.requires, tuple) or not all(name in SECONDARIES for name in self.requires):
            raise ValueError(f"scheme {shown(self.name)}: requires={shown(self.requires)} must be a tuple of "
                             f"secondaries from: {', '.join(SECONDARIES)} (e.g. ('gru',); () for every one)")

    def hooks(self) -> tuple:
        """The hooks this scheme registers, in mmu_notifier_ops order."""
        return tuple(name for name in HOOKS if getattr(self, name))

    @property
    def has_range(self) -> bool:
        """It registers range_start or range_end (invalidate_range alone is a per-pte hook, not a range pair)."""
        return bool(self.invalidate_range_start or self.invalidate_range_end)


#: The longest name a scheme may have: it appears in every label, table row and replay line.
NAME_LIMIT = 40
#: Where a fault may make its check (see ``check_at``).
CHECK_AT = ("install", "begin")


def _counters(name: str, counters) -> tuple:
    """``counters`` as a tuple of ``(str, int)`` pairs (a NumPy integer becomes an int), or a one-line error."""
    def pair(item) -> bool:
        return (isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str)
                and isinstance(item[1], numbers.Integral) and not isinstance(item[1], bool))
    if not isinstance(counters, tuple) or not all(pair(item) for item in counters):
        raise ValueError(f"scheme {shown(name)}: counters={shown(counters)} must be a tuple of (name, initial value) "
                         "pairs, e.g. ((SEQ, 0),)")
    return tuple((counter_name, int(value)) for counter_name, value in counters)


SCHEMES: dict = {}
#: Every scheme ever registered: a Scenario may keep one after its name was given to another (see scheme_named).
_REGISTERED: set = set()


def drives(scheme: Scheme, secondary) -> bool:
    """Whether ``scheme`` can drive ``secondary``: the one compatibility rule Scenario, verdicts and the controls use.

    A scheme that declares what it drives (``requires``) decides: a scheme
    written in a cell with ``requires=("iommu",)`` drives the IOMMU.  Any
    other scheme drives a secondary unless that secondary lists the built-in
    schemes it takes (``Secondary.schemes``: the IOMMU, which has no fault
    path of its own to check anything on) and the scheme is not one of them.
    """
    if scheme.requires:
        return secondary.name in scheme.requires
    return not secondary.schemes or scheme.name in secondary.schemes


def register_scheme(scheme: Scheme, replace: bool = False) -> Scheme:
    """Make ``scheme`` available by name to Scenario, simulate, explore and the widgets.

    A Scenario resolves the name when it is made and keeps the scheme itself,
    so replacing a scheme changes what *new* Scenarios run, never what an
    existing one means (and a cached model can never be the old scheme's).
    """
    if not isinstance(scheme, Scheme):
        raise TypeError(f"register_scheme takes a labkit.Scheme, not {type(scheme).__name__}")
    if scheme.name in SCHEMES and not replace:
        raise ValueError(f"a scheme named {shown(scheme.name)} exists; pass replace=True to redefine it")
    if scheme.fault_retry is not None and not scheme.counters:
        raise ValueError(f"scheme {shown(scheme.name)} checks something on the fault path but declares no counters")
    SCHEMES[scheme.name] = scheme
    _REGISTERED.add(scheme)
    return scheme


_ZAP = (spin_lock, zap, spin_unlock)

register_scheme(Scheme(
    name="none",
    summary="no notifier: the secondary MMU is never told (KVM before 2.6.27 pinned pages forever)",
    source="pre-mmu_notifier KVM (2.6.25/2.6.26)",
))
register_scheme(Scheme(
    name="page",
    summary=("invalidate_page only: try_to_unmap_one and do_wp_page notify it (under the PTL in 2.6.27; reclaim "
             "after the unlock from 3.7, COW not at all from 3.7; gone in 4.13)"),
    invalidate_page=_ZAP,
    source="mm/rmap.c try_to_unmap_one, mm/memory.c do_wp_page via ptep_clear_flush_notify (2.6.27)",
))
register_scheme(Scheme(
    name="page_seq",
    summary="invalidate_page that also bumps mmu_notifier_seq; the fault retries if it moved",
    counters=((SEQ, 0),),
    invalidate_page=(spin_lock, increment(SEQ), zap, spin_unlock),
    fault_begin=(read_counter(SEQ),),
    fault_retry=sequence_moved,
    retry_name="mmu_notifier_seq changed?",
    source="virt/kvm/kvm_main.c kvm_mmu_notifier_invalidate_page (2.6.27)",
))
register_scheme(Scheme(
    name="range",
    summary=("Andrea's reading: range_start zaps, range_end zaps again, invalidate_page for rmap; "
             "safety rests on the page reference the spte holds"),
    invalidate_page=_ZAP,
    invalidate_range_start=_ZAP,
    invalidate_range_end=_ZAP,
    source="Arcangeli, 31 Jan 2008 <20080131105241.GH7185@v2.random>",
))
register_scheme(Scheme(
    name="range_block",
    summary=("Christoph's proposal: range_start zaps and raises an active count that refuses new "
             "entries until range_end; no invalidate_page, no page reference"),
    counters=((ACTIVE, 0),),
    invalidate_range_start=(spin_lock, increment(ACTIVE), zap, spin_unlock),
    invalidate_range_end=(spin_lock, decrement(ACTIVE), spin_unlock),
    fault_retry=range_active,
    retry_name="range_active != 0?",
    source=("Lameter, 30 Jan 2008, quoted in <20080131105241.GH7185@v2.random>; "
            "GRU's ms_range_active (drivers/misc/sgi-gru/grufault.c)"),
))
register_scheme(Scheme(
    name="range_seq",
    summary=("what 2.6.27 merged for KVM: range_start raises mmu_notifier_count and zaps, range_end "
             "bumps mmu_notifier_seq then lowers the count, invalidate_page bumps seq and zaps; the "
             "fault reads seq first and retries if count != 0 or seq moved"),
    counters=((COUNT, 0), (SEQ, 0)),
    invalidate_page=(spin_lock, increment(SEQ), zap, spin_unlock),
    invalidate_range_start=(spin_lock, increment(COUNT), zap, spin_unlock),
    invalidate_range_end=(spin_lock, increment(SEQ), decrement(COUNT), spin_unlock),
    fault_begin=(read_counter(SEQ),),
    fault_retry=mmu_notifier_retry,
    retry_name="mmu_notifier_retry",
    source="virt/kvm/kvm_main.c, include/linux/kvm_host.h, arch/x86/kvm/mmu.c (2.6.27, commit cddb8a5c14aa era)",
))

register_scheme(Scheme(
    name="gru",
    summary=("the GRU driver as merged: invalidate_page flushes, range_start raises ms_range_active and "
             "flushes, range_end lowers it; gru_try_dropin tests ms_range_active before the lockless pte "
             "lookup, and the hardware ignores a dropin that an invalidate overtook (secondary='gru')"),
    counters=((ACTIVE, 0),),
    invalidate_page=_ZAP,
    invalidate_range_start=(spin_lock, increment(ACTIVE), zap, spin_unlock),
    invalidate_range_end=(spin_lock, decrement(ACTIVE), spin_unlock),
    fault_retry=range_active,
    check_at="begin",
    retry_name="ms_range_active != 0? (failactive)",
    source="drivers/misc/sgi-gru/grufault.c gru_try_dropin, grutlbpurge.c (2008)",
    requires=("gru",),
))

register_scheme(Scheme(
    name="iotlb",
    summary=("an IOMMU sharing the page table (amd_iommu_v2, Intel SVM): invalidate_range flushes the IOTLB; "
             "the kernel calls it under the PTL right after the pte is cleared (4.13+), before an mmu_gather "
             "frees a batch, and from range_end"),
    invalidate_range=(zap,),
    source="drivers/iommu/amd_iommu_v2.c mn_invalidate_range (3.19+); include/linux/mmu_notifier.h (3.19+)",
    requires=("iommu",),
))
register_scheme(Scheme(
    name="end_only",
    summary=("what-if: the IOMMU's IOTLB is flushed only when invalidate_range_end comes, after the PTL is "
             "dropped (the case Documentation/vm/mmu_notifier.rst warns about)"),
    invalidate_range_end=(zap,),
    source="Documentation/vm/mmu_notifier.rst (torvalds/linux 3c09ec59cdea): the store-order example",
    requires=("iommu",),
))


def _interval_inv_start(call: Call) -> Step:
    """mn_itree_inv_start_range: one more invalidation is active, and the mm's sequence is odd while any is.

    ``seq |= 1`` leaves an odd sequence as it is: a second overlapping
    invalidation does not make it even again (mm/mmu_notifier.c, 5.5,
    "seq |= 1  # Begin writing").
    """
    def run(s: System, t: int) -> System:
        s = with_counter(s, ACTIVE_RANGES, counter(s, ACTIVE_RANGES) + 1)
        return with_counter(s, INTERVAL_SEQ, counter(s, INTERVAL_SEQ) | 1)
    return Step(f"mn_itree_inv_start_range: {ACTIVE_RANGES}++, {INTERVAL_SEQ} |= 1 (odd: invalidating)", run,
                f"{INTERVAL_SITE} mn_itree_inv_start_range", kind=COUNTER)


def _interval_set_seq(call: Call) -> Step:
    """mmu_interval_set_seq: the driver's invalidate() records the mm's odd sequence in its subscription."""
    def run(s: System, t: int) -> System:
        return with_counter(s, SUBSCRIPTION_SEQ, counter(s, INTERVAL_SEQ))
    return Step(f"{callback_name(call)}: mmu_interval_set_seq ({SUBSCRIPTION_SEQ} = {INTERVAL_SEQ})", run,
                f"{INTERVAL_SITE} mmu_interval_set_seq, called by the driver's invalidate()", kind=COUNTER)


def _interval_inv_end(call: Call) -> Step:
    """mn_itree_inv_end: only the last active invalidation makes the mm's sequence even again (``seq++``)."""
    def run(s: System, t: int) -> System:
        active = counter(s, ACTIVE_RANGES) - 1
        s = with_counter(s, ACTIVE_RANGES, active)
        seq = counter(s, INTERVAL_SEQ)
        return with_counter(s, INTERVAL_SEQ, seq + 1) if active == 0 and seq % 2 else s
    return Step(f"mn_itree_inv_end: {ACTIVE_RANGES}--, the last one makes {INTERVAL_SEQ} even (seq++)", run,
                f"{INTERVAL_SITE} mn_itree_inv_end", kind=COUNTER)


def _interval_read_begin(call: Call) -> Step:
    """mmu_interval_read_begin: remember the subscription's sequence; if it is the mm's, an invalidation that
    already told this subscription is running: wait until the mm's sequence moves on (range_end)."""
    def run(s: System, t: int):
        seq = counter(s, SUBSCRIPTION_SEQ)
        return None if seq == counter(s, INTERVAL_SEQ) else with_local(s, t, seq=seq)
    return Step(f"{call.secondary.fault}: mmu_interval_read_begin (seq = {SUBSCRIPTION_SEQ}; waits while it "
                f"equals {INTERVAL_SEQ})", run, f"{INTERVAL_SITE} mmu_interval_read_begin", kind=READ_BEGIN)


def interval_read_retry(s: System, t: int) -> bool:
    """mmu_interval_read_retry: the subscription's sequence moved since read_begin (an invalidate() ran)."""
    return counter(s, SUBSCRIPTION_SEQ) != local(s, t, "seq")


register_scheme(Scheme(
    name="interval",
    summary=("mmu_interval_notifier (5.5): range_start makes the mm's sequence odd and the driver's invalidate() "
             "copies it into its subscription; the last range_end makes it even; read_begin waits while the "
             "subscription's sequence is the mm's, read_retry under the driver's lock retries if it moved"),
    # the kernel starts the mm's sequence at 2 and an idle subscription at one less (mmu_interval_notifier_insert)
    counters=((INTERVAL_SEQ, 2), (ACTIVE_RANGES, 0), (SUBSCRIPTION_SEQ, 1)),
    invalidate_range_start=(_interval_inv_start, spin_lock, _interval_set_seq, zap, spin_unlock),
    invalidate_range_end=(_interval_inv_end,),
    fault_begin=(_interval_read_begin,),
    fault_retry=interval_read_retry,
    retry_name="mmu_interval_read_retry",
    source="mm/mmu_notifier.c (5.5, Jason Gunthorpe, commit 99cb252f5e68): mn_itree_inv_start_range, "
           "mn_itree_inv_end, mmu_interval_read_begin/read_retry; one subscription covering the whole range",
))

#: The six schemes of the thread, in the order the verdict matrix lists them.
BUILTIN_SCHEMES = ("none", "page", "page_seq", "range", "range_block", "range_seq")


def scheme_named(name) -> Scheme:
    """The registered scheme ``name`` (a Scheme passes through); a clear error naming the choices otherwise.

    A Scheme that was never registered may not take a registered one's name:
    a Scenario's repr names its scheme, and pasted into a cell it would run
    the registered one, another model.  (A scheme that *was* registered under
    its name and then replaced still passes: a Scenario made before keeps it.)
    """
    if isinstance(name, Scheme):
        registered = SCHEMES.get(name.name)
        if registered is not None and name != registered and name not in _REGISTERED:
            raise ValueError(f"scheme {shown(name.name)} is not the registered scheme of that name, and a "
                             f"Scenario's repr (scheme={shown(name.name)}) would replay the registered one: register "
                             "yours under a name of its own, or with register_scheme(scheme, replace=True)")
        return name
    try:
        return SCHEMES[name]
    except (KeyError, TypeError):
        raise ValueError(f"scheme={shown(name)} is not valid; choose one of: {', '.join(SCHEMES)}") from None
