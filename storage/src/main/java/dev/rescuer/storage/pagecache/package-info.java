/**
 * The page cache ({@code mm/filemap.c}, the page-cache half of {@code mm/vmscan.c}): per-file
 * {@link dev.rescuer.storage.pagecache.AddressSpace}s whose pages come from the system's
 * {@link dev.rescuer.core.mm.PageAllocator}, their clean/dirty/writeback states, the system-wide
 * {@link dev.rescuer.storage.pagecache.PageCache} with its counters and LRU, and the
 * {@link dev.rescuer.storage.pagecache.PageCacheShrinker} that reclaim calls.
 *
 * <p>Who writes dirty pages back is not decided here: an address space reports to an
 * {@link dev.rescuer.storage.pagecache.InodeWriteback} (the {@code bdi_writeback} of its device,
 * package {@code writeback}), as {@code __mark_inode_dirty} and {@code balance_dirty_pages_ratelimited}
 * do.
 */
package dev.rescuer.storage.pagecache;
