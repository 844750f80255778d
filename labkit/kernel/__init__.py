"""The kernel's parts, written as steps of the model core.

Each module stands for kernel code and names it: ``pages`` (get_page,
put_page, the allocator), ``locks`` (the PTL, the secondary MMU's lock,
mmap_sem), ``operations`` (zap, rmap and cow: unmap_vmas, try_to_unmap_one,
do_wp_page, and where they call the notifier hooks), ``fault`` (the secondary
MMU's fault path in its four reference modes), ``guest`` (the guest or device
using its entries), ``secondaries`` (KVM, the GRU and XPMEM as records),
``schemes`` (notifier users as data) and ``eras`` (where each release calls
each hook, and in what context).  2.6.27 unless a step's site says otherwise.
"""
