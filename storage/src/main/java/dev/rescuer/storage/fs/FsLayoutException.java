package dev.rescuer.storage.fs;

import java.util.Objects;

/**
 * {@code mkfs} or a file of the image refused ({@link FsLayout#mkfs}, {@link FsLayout#addFile}): the
 * message says why, and {@link #param()} says which parameter was at fault, so that a caller can
 * point at it (a stack file's key) without reading the message.
 */
public final class FsLayoutException extends IllegalArgumentException {

    /** The parameter of {@code mkfs} or of a file that a refusal is about. */
    public enum Param {
        /** {@code mkfs}: the allocation group count ({@code agcount}). */
        AG_COUNT,
        /** {@code mkfs}: the log's sector size. */
        LOG_SECTOR_BYTES,
        /** {@code mkfs}: the log's size in blocks. */
        LOG_BLOCKS,
        /** {@code mkfs}: the inode table's size. */
        INODES,
        /** {@code mkfs}: the device's capacity, too small for the layout. */
        CAPACITY,
        /** A file: its name (empty, with a '/', or taken). */
        FILE_NAME,
        /** A file: its extent's size in blocks. */
        FILE_BLOCKS,
        /** A file: its size in bytes. */
        FILE_SIZE,
        /** A file: the inode table has no room for it. */
        FILE_INODE,
        /** A file: its allocation group (no such group, or no room left in it). */
        FILE_AG,
        /** A file: how many of its blocks are allocated. */
        FILE_ALLOCATED_BLOCKS,
        /** A file: no room left on a filesystem of one allocation group. */
        FILE_SPACE
    }

    private final Param param;

    FsLayoutException(Param param, String message) {
        super(message);
        this.param = Objects.requireNonNull(param, "param");
    }

    /** The parameter the refusal is about. */
    public Param param() {
        return param;
    }
}
