/**
 * md ({@code drivers/md/md.c}, {@code raid1.c}): arrays over member devices, the superblock-change
 * flags and {@code sb_wait}, flushes on the shared {@code md_wq}, raid1, and the IMSM metadata daemon
 * mdmon as a user-space task.
 */
package dev.rescuer.storage.md;
