package dev.rescuer.storage.dm;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * One line of a {@code dmsetup} table: {@code <start> <length> <target type> <arguments...>}.
 *
 * @param start the first sector of the mapped device the target covers
 * @param length the number of sectors
 * @param type the target type's name
 * @param args the target's arguments
 */
public record TableLine(long start, long length, String type, List<String> args) {

    /** The line's arguments are kept as an unmodifiable list. */
    public TableLine {
        args = List.copyOf(args);
    }

    /**
     * Parses a table of one or more lines (separated by newlines), checking what dm core checks
     * ({@code dm_table_add_target}): a start and length that are numbers, a non-zero length, an end
     * no further than {@code LLONG_MAX >> SECTOR_SHIFT} ("too large device"), and targets that follow
     * each other without a gap, starting at sector 0.
     *
     * @throws IllegalArgumentException naming the line and the problem
     */
    public static List<TableLine> parseTable(String table) {
        List<TableLine> out = new ArrayList<>();
        long next = 0;
        int lineNo = 0;
        for (String raw : table.split("\n")) {
            lineNo++;
            String line = raw.strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            String[] f = line.split("\\s+");
            String where = "table line " + lineNo + " '" + line + "'";
            if (f.length < 3) {
                throw new IllegalArgumentException(where + ": expected <start> <length> <target type> [arguments]");
            }
            long start = number(f[0], where, "start");
            long length = number(f[1], where, "length");
            if (length == 0) {
                throw new IllegalArgumentException(where + ": zero-length target");
            }
            if (start + length < start || start + length > Long.MAX_VALUE >> 9) {
                throw new IllegalArgumentException(where + ": too large device (the table ends past sector "
                        + (Long.MAX_VALUE >> 9) + ", dm_table_add_target's limit)");
            }
            if (start != next) {
                throw new IllegalArgumentException(where + ": Gap in table (the target starts at " + start
                        + ", the previous one ends at " + next + ")");
            }
            next = start + length;
            out.add(new TableLine(start, length, f[2], Arrays.asList(f).subList(3, f.length)));
        }
        if (out.isEmpty()) {
            throw new IllegalArgumentException("empty table");
        }
        return out;
    }

    private static long number(String s, String where, String what) {
        try {
            long v = Long.parseLong(s);
            if (v >= 0) {
                return v;
            }
        } catch (NumberFormatException e) {
            // fall through
        }
        throw new IllegalArgumentException(where + ": invalid " + what + " '" + s + "'");
    }
}
