package dev.rescuer.bench;

/**
 * One issue-11 target against one run: the benchmark, the peer it is judged against, what it asks,
 * the ratio measured (higher is better for Rescuer, as in {@link BenchResult}) and whether it is met.
 *
 * @param benchmark the {@link BenchResult#name()} it reads
 * @param peer the peer judged against (for "the best peer": the best peer of this run), or
 *        {@code null} when the run has no such row
 * @param goal what the target asks, in words, for example {@code "≥ 1.0× ForkJoinPool"}
 * @param threshold the least ratio that meets it ({@code 1 / 1.1} for "at most 1.1× the time");
 *        {@code NaN} for a row that is only recorded
 * @param ratio the ratio measured, or {@code NaN} when not measured
 * @param status met, missed, not measured, or recorded (no threshold)
 */
public record Target(String benchmark, String peer, String goal, double threshold, double ratio, Status status) {

    /** How a target came out. */
    public enum Status {
        /** The ratio reaches the threshold. */
        MET,
        /** The ratio falls short of the threshold. */
        MISSED,
        /** The run has no row for the benchmark or the peer (for example no virtual threads, or a benchmark left out). */
        NOT_MEASURED,
        /** Recorded only: the issue sets no threshold. */
        RECORDED;

        /** {@code "met"}, {@code "missed"}, {@code "not measured"}, {@code "recorded"}. */
        public String label() {
            return name().toLowerCase().replace('_', ' ');
        }
    }
}
