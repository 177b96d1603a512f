/**
 * The loop device ({@code drivers/block/loop.c}): a block device served by a worker that does I/O
 * into a file of a filesystem of the model.
 */
package dev.rescuer.storage.loop;
