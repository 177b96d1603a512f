/**
 * Declared dependencies of the storage model: {@link dev.rescuer.storage.deps.WaitGraph}, which
 * every target fills as it is constructed and the analyzer reads.
 */
package dev.rescuer.storage.deps;
