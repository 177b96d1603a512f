/**
 * dm-crypt ({@code drivers/md/dm-crypt.c}): the {@code crypt} target, its {@code kcryptd} and
 * {@code kcryptd_io} queues and its write-buffer page pool.
 */
package dev.rescuer.storage.dm.crypt;
