/**
 * Workloads that drive the page cache and the filesystem: {@link dev.rescuer.storage.fs.workload.PageCacheWriter},
 * {@link dev.rescuer.storage.fs.workload.FileReader} and {@link dev.rescuer.storage.fs.workload.MemoryHog}.
 * Each is built from a map of settings ({@link dev.rescuer.storage.fs.workload.Settings}, errors name the
 * field), started on the system's platform through a {@link dev.rescuer.storage.fs.workload.TaskStarter}
 * and reports its progress; {@link dev.rescuer.storage.fs.workload.WorkloadKinds} lists them by the
 * names a stack file uses.
 */
package dev.rescuer.storage.fs.workload;
