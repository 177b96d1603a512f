/**
 * The storage model on the runtime: block layer, device-mapper targets, md, loop, dm-bufio and a
 * journaling filesystem, in which the seed deadlocks arise from the mechanisms. Not built yet; the
 * module exists so the layout is final.
 */
package dev.rescuer.storage;
