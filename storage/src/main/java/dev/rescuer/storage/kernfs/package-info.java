/**
 * kernfs ({@code fs/kernfs/}): the part of sysfs that md needs, a file node that user space can wait
 * on and {@code kernfs_notify}, with its notify work item and {@code kernfs_supers_rwsem}.
 */
package dev.rescuer.storage.kernfs;
