package dev.rescuer.storage.dm.bufio;

import dev.rescuer.core.RescuerSystem;
import dev.rescuer.core.mm.Gfp;
import dev.rescuer.core.mm.Pages;
import dev.rescuer.storage.block.Bio;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * Reserved buffers and buffer reuse together with dirty buffers and the shrinker, on real threads
 * ({@code __alloc_buffer_wait_no_callback}, {@code __get_unclaimed_buffer}, {@code __free_buffer_wake}).
 * Memory is exhausted with {@code GFP_NOIO} allocations, so reclaim never writes a dirty buffer.
 */
class ReservedBuffersTest {

    private final RescuerSystem sys = RescuerSystem.builder().totalPages(64).watermarks(4, 8, 12).backgroundReclaim(false).build();
    private final ShrinkerFormTest.RecordingDevice dev = new ShrinkerFormTest.RecordingDevice(sys.platform());
    private final List<Pages> taken = new ArrayList<>();

    @AfterEach
    void close() {
        taken.forEach(Pages::free);
        sys.close();
    }

    private void exhaustMemory() {
        for (Pages p; (p = sys.pages().tryAllocate(1, Gfp.NOIO.with(Gfp.Modifier.RETRY_MAYFAIL))) != null; ) { // a plain NOIO one would be too small to fail
            taken.add(p);
        }
    }

    @Test
    void withNoMemoryANewBufferReusesAnUnheldDirtyBufferAfterWritingIt() {
        DmBufioClient c = new DmBufioClient(sys, dev, Bio.PAGE_SIZE, 0, 0, "thin", ShrinkerForm.GFP_FS_2014);
        DmBuffer old = c.newBuffer(0);
        old.data()[0] = 7;
        c.markBufferDirty(old);
        c.release(old);
        exhaustMemory();
        assertEquals(1, c.dirty(), "NOIO reclaim left the dirty buffer");

        DmBuffer b = c.newBuffer(1);
        assertNotNull(b);
        assertEquals(List.of(sys.platform().currentTask().name()), dev.writers, "the allocating task wrote block 0 first");
        assertEquals(1, c.cached(), "block 0's buffer became block 1's");
        assertEquals(0, c.dirty());
        c.release(b);
    }

    @Test
    void aReservedBufferServesANewBufferAndTheShrinkerRefillsTheReserve() {
        DmBufioClient c = new DmBufioClient(sys, dev, Bio.PAGE_SIZE, 1, 0, "thin", ShrinkerForm.GFP_FS_2014);
        exhaustMemory();
        DmBuffer first = c.newBuffer(0);
        assertNotNull(first, "taken from the reserve");
        c.release(first);

        // Reclaim evicts block 0; its pages refill the reserve instead of going back to the allocator.
        assertNull(sys.pages().tryAllocate(1, Gfp.KERNEL));
        assertEquals(0, c.cached());

        DmBuffer second = c.newBuffer(1);
        assertNotNull(second, "taken from the refilled reserve");
        assertEquals(1, c.cached());
        assertEquals(List.of(), dev.writers, "nothing was dirty");
        c.release(second);
    }
}
