"""The cost model: assumptions are explicit, and the counts come from the model."""
import pytest

import labkit
from labkit import costs


def test_costs_are_named_assumptions_and_refuse_nonsense():
    assert "atomic_inc" in costs.Costs().as_table().index
    with pytest.raises(ValueError, match="atomic_inc=-1"):
        costs.Costs(atomic_inc=-1)


def test_the_refcount_is_a_small_share_of_a_kvm_fill_under_the_default_assumptions():
    """C2 under the defaults; the notebook lets the reader move the assumptions."""
    assert costs.refcount_share("pin", "kvm") < 0.1
    assert costs.refcount_share("off", "kvm") == 0


def test_gru_pays_a_software_refill_on_every_miss_kvm_once():
    """C1: KVM fills the spte once and the CPU walks it; the GRU refills in software on every miss."""
    kvm = costs.access_cost("kvm", accesses=1000, tlb_misses=100)
    gru = costs.access_cost("gru", accesses=1000, tlb_misses=100, refmode="off")
    assert gru > 10 * kvm


def test_range_callbacks_flush_once_per_munmap_where_per_page_calls_flush_every_page():
    for pages in (1, 4, 16):
        ranged = costs.notifier_work("zap", "range_seq", pages, "gru")
        per_page = costs.notifier_work("rmap", "page", pages, "gru")
        assert ranged["flushes"] == 1 and ranged["callbacks"] == 2
        assert per_page["flushes"] == pages == per_page["callbacks"]


def test_retry_rate_counts_refused_faults_from_the_model():
    rate = costs.retry_rate(labkit.Scenario(op="rmap", scheme="page_seq", refmode="pin"))
    assert 0 < rate["retried"] < rate["positions"]
    assert costs.retry_rate(labkit.Scenario(op="rmap", scheme="page", refmode="pin"))["retried"] == 0
