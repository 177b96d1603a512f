/**
 * Writeback ({@code fs/fs-writeback.c}, {@code mm/page-writeback.c}): a
 * {@link dev.rescuer.storage.writeback.BdiWriteback} per device, whose writeback item runs on the
 * {@code writeback} workqueue ({@code bdi_wq}: {@code MEM_RECLAIM | UNBOUND | FREEZABLE}), and the
 * {@link dev.rescuer.storage.writeback.DirtyThrottle} that holds writers in
 * {@code balance_dirty_pages} while too much memory is dirty.
 */
package dev.rescuer.storage.writeback;
