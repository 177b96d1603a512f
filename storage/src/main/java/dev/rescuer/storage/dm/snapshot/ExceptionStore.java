package dev.rescuer.storage.dm.snapshot;

import java.util.function.Consumer;

/**
 * Where a snapshot records its exceptions ({@code struct dm_exception_store_type},
 * {@code drivers/md/dm-exception-store.h}): {@link PersistentStore} ({@code P}) on the COW device,
 * {@link TransientStore} ({@code N}) in memory. Called with the snapshot's lock held except
 * {@link #readMetadata}, which runs in the constructor, and {@link #commitException}, which runs in
 * kcopyd's worker.
 */
interface ExceptionStore {

    /** Chunk size in sectors. */
    int chunkSize();

    /**
     * Reads the exceptions already on the COW device ({@code read_metadata}), calling {@code add} with
     * each (old chunk, new chunk) pair; a fresh device is initialised.
     *
     * @return false if the store is marked invalid on disk
     */
    boolean readMetadata(ExceptionSink add);

    /**
     * Reserves a COW chunk for {@code pe} ({@code prepare_exception}) and sets {@code pe.newChunk}.
     *
     * @return false if the COW device is full
     */
    boolean prepareException(PendingException pe);

    /**
     * Records {@code pe}'s exception ({@code commit_exception}); {@code callback} runs, now or when a
     * later commit writes the metadata, with whether the exception is valid on disk.
     */
    void commitException(PendingException pe, boolean valid, Consumer<Boolean> callback);

    /** Receives the exceptions {@link #readMetadata} finds. */
    @FunctionalInterface
    interface ExceptionSink {
        /** Origin chunk {@code oldChunk} lives in COW chunk {@code newChunk}. */
        void add(long oldChunk, long newChunk);
    }
}
