/**
 * Swap: anonymous memory ({@link dev.rescuer.storage.swap.AnonMemory}) that reclaim may write out to a
 * swap area ({@link dev.rescuer.storage.swap.SwapArea}) and free, when the allocation's context allows
 * I/O ({@code __GFP_IO}; a swap file also needs {@code __GFP_FS}).
 */
package dev.rescuer.storage.swap;
