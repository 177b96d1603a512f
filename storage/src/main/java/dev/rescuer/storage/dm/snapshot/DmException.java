package dev.rescuer.storage.dm.snapshot;

/**
 * A completed exception ({@code struct dm_exception}): origin chunks {@code [oldChunk, oldChunk +
 * consecutive]} live in COW chunks from {@code newChunk} on. {@code consecutive} is the kernel's
 * {@code dm_consecutive_chunk_count}: how many further chunks follow in both places.
 */
public record DmException(long oldChunk, long newChunk, int consecutive) {

    /** One chunk. */
    public static DmException of(long oldChunk, long newChunk) {
        return new DmException(oldChunk, newChunk, 0);
    }

    /** Whether origin chunk {@code chunk} falls in this exception. */
    public boolean covers(long chunk) {
        return chunk >= oldChunk && chunk <= oldChunk + consecutive;
    }

    /** Where origin chunk {@code chunk} (which this exception covers) lives in the COW device. */
    public long remap(long chunk) {
        return newChunk + (chunk - oldChunk);
    }
}
