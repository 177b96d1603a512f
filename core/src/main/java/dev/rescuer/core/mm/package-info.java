/**
 * The memory model: allocation contexts ({@link dev.rescuer.core.mm.Gfp}), per-task scopes
 * ({@link dev.rescuer.core.mm.MemallocScope}), a page budget with watermarks, direct and background
 * reclaim through {@link dev.rescuer.core.mm.Shrinker}s ({@link dev.rescuer.core.mm.PageAllocator}),
 * reserved pools ({@link dev.rescuer.core.mm.Mempool}) and the page cost of starting a thread
 * ({@link dev.rescuer.core.mm.ThreadPages}).
 */
package dev.rescuer.core.mm;
