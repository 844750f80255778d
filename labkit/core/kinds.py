"""What kind of thing a step does: the names the invariants, the explorer and the views look for.

A step's ``kind`` is how code outside the step recognises it without reading
its action text: the ``use_after_free`` invariant looks at ``ACCESS`` steps,
the slider's schedules at ``PTE_READ``, the timeline puts a cross on
``PTE_CLEAR``.  Each kind says what the step touches (the timeline colours a
step by it) and the word the timeline writes beside it.  A ``COUNTER`` step
has no fixed word: it is labelled with its own counter operation
(``mmu_notifier_seq++``, ``range_active--``), never with a neighbour's.
"""
from __future__ import annotations

from typing import NamedTuple, Optional

ACCESS = "access"          # the guest or device uses a page through its secondary entry
STORE = "store"            # a CPU thread stores to an address through the Linux pte
LOCK, UNLOCK = "lock", "unlock"
PTE_READ, PTE_CLEAR, PTE_SET = "pte_read", "pte_clear", "pte_set"
GET_PAGE, PUT_PAGE = "get_page", "put_page"
RELEASE = "release"        # a reference is dropped and the page may be freed (tlb_finish_mmu, truncate)
RECLAIM = "reclaim"        # __remove_mapping: page_freeze_refs frees the page, or reclaim gives it back
ALLOC, REUSE = "alloc", "reuse"
READ_BEGIN = "read_begin"  # the fault remembers something before its pte walk (KVM's mmu_notifier_seq)
CHECK = "check"            # the fault's check before installing (mmu_notifier_retry, ...)
INSTALL = "install"        # the secondary entry is written
RETRY = "retry"            # the fault gives up this attempt
REFAULT = "refault"        # the fault's get_user_pages faults the page in (swap-in, a new zero page, COW)
ZAP = "zap"                # a callback removes secondary entries
COUNTER = "counter"        # a callback changes one of the driver's counters
OTHER = ""                 # anything else (a user's own step, say)


class Kind(NamedTuple):
    name: str
    word: Optional[str]    # how the timeline labels it; None: from the step's own action
    touches: str           # pte, secondary, page, lock, access, other


KINDS = {kind.name: kind for kind in (
    Kind(ACCESS, "access", "access"),
    Kind(STORE, "store", "page"),
    Kind(LOCK, "lock", "lock"),
    Kind(UNLOCK, "unlock", "lock"),
    Kind(PTE_READ, "read pte", "pte"),
    Kind(PTE_CLEAR, "clear pte", "pte"),
    Kind(PTE_SET, "set pte", "pte"),
    Kind(GET_PAGE, "get_page", "page"),
    Kind(PUT_PAGE, "put_page", "page"),
    Kind(RELEASE, "free", "page"),
    Kind(RECLAIM, "reclaim", "page"),
    Kind(ALLOC, "alloc", "page"),
    Kind(REUSE, "reuse", "page"),
    Kind(READ_BEGIN, None, "secondary"),
    Kind(CHECK, "check", "secondary"),
    Kind(INSTALL, "install", "secondary"),
    Kind(RETRY, "retry", "secondary"),
    Kind(REFAULT, "refault", "pte"),
    Kind(ZAP, "zap", "secondary"),
    Kind(COUNTER, None, "secondary"),
    Kind(OTHER, "step", "other"),
)}


def word(step) -> str:
    """The short label of ``step``: its kind's word, or the tail of its own action (``seq = mmu_notifier_seq``)."""
    fixed = KINDS[step.kind].word
    if fixed is not None:
        return fixed
    tail = step.action.rsplit(": ", 1)[-1]
    return tail.split(";")[0].split(" (")[0].strip()
