package dev.rescuer.cli.html;

/**
 * Escaping for the HTML report: every name that reaches the page (task, queue, primitive and work
 * names, reasons, reports) goes through {@link #text}, which is safe both in element content and in
 * double- or single-quoted attribute values.
 */
public final class Html {

    private Html() {
    }

    /**
     * {@code s} with {@code & < > " '} replaced by character references, and characters that HTML does
     * not allow (controls other than tab, newline and carriage return) replaced by U+FFFD; {@code null}
     * becomes the empty string.
     */
    public static String text(String s) {
        if (s == null) {
            return "";
        }
        StringBuilder sb = new StringBuilder(s.length() + 16);
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '&' -> sb.append("&amp;");
                case '<' -> sb.append("&lt;");
                case '>' -> sb.append("&gt;");
                case '"' -> sb.append("&quot;");
                case '\'' -> sb.append("&#39;");
                default -> sb.append(c < 0x20 && c != '\n' && c != '\r' && c != '\t' || c == 0x7f ? '\ufffd' : c);
            }
        }
        return sb.toString();
    }

    /** A number for an SVG attribute: one decimal, no exponent, independent of the default locale. */
    static String num(double v) {
        return String.format(java.util.Locale.ROOT, "%.1f", v);
    }
}
