/**
 * The analyzer: from a declared dependency graph ({@link dev.rescuer.storage.deps.WaitGraph}, from a
 * stack file's targets or a YAML file for code outside the model) it tells which queues need a
 * rescuer and why, which waits violate reclaim layering, and the least set of rescuer domains
 * (queues on one dependency chain never share; the least number is the longest chain, Mirsky's
 * theorem), and it proves plans by exploration on the simulator ({@link dev.rescuer.analyze.GraphScenario}).
 * A graph can also be learned by the validator from a run ({@link dev.rescuer.analyze.LearnedGraph}).
 */
package dev.rescuer.analyze;
