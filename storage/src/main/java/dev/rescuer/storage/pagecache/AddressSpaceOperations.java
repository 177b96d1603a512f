package dev.rescuer.storage.pagecache;

import dev.rescuer.storage.block.BlockDevice;

/**
 * Where a file's pages live on disk: the part of {@code struct address_space_operations} and
 * {@code get_block_t} the model needs. The page cache builds and submits the bios itself (one per
 * page, as {@code mpage_read_folio}/{@code mpage_writepages} would for unmerged pages).
 */
public interface AddressSpaceOperations {

    /** The device the file's data lives on. */
    BlockDevice device();

    /**
     * The first sector of page {@code index} of {@code mapping} ({@code get_block}).
     *
     * @throws IllegalArgumentException if the file has no block for that page; a write that would
     *     need one is refused before any page is dirtied
     */
    long sectorOf(AddressSpace mapping, long index);

    /**
     * Whether reclaim (kswapd) may write a dirty page of this mapping itself ({@code ->writepage}
     * exists, so {@code pageout} can call it). XFS and ext4 no longer have {@code ->writepage}, and
     * recent kernels removed it from regular filesystems altogether, leaving file writeback to the
     * flusher; so the default is {@code false}.
     */
    default boolean writepageFromReclaim() {
        return false;
    }
}
