package io.qspec.chat;

import java.time.ZonedDateTime;
import java.time.format.TextStyle;
import java.util.Locale;

/**
 * Python's {@code time.strftime} directives over a {@link ZonedDateTime}, in the C locale, for
 * templates that print today's date ({@code strftime_now("%d %b %Y")} in Llama 3.1+).
 */
final class PythonStrftime {

    private PythonStrftime() {
    }

    /** @throws ChatTemplateException for a directive outside the supported set */
    static String format(String pattern, ZonedDateTime time) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < pattern.length(); i++) {
            char c = pattern.charAt(i);
            if (c != '%' || i + 1 == pattern.length()) {
                out.append(c);
                continue;
            }
            char directive = pattern.charAt(++i);
            out.append(switch (directive) {
                case 'Y' -> String.valueOf(time.getYear());
                case 'y' -> twoDigits(time.getYear() % 100);
                case 'm' -> twoDigits(time.getMonthValue());
                case 'd' -> twoDigits(time.getDayOfMonth());
                case 'e' -> String.format(Locale.ROOT, "%2d", time.getDayOfMonth());
                case 'j' -> String.format(Locale.ROOT, "%03d", time.getDayOfYear());
                case 'H' -> twoDigits(time.getHour());
                case 'I' -> twoDigits((time.getHour() + 11) % 12 + 1);
                case 'M' -> twoDigits(time.getMinute());
                case 'S' -> twoDigits(time.getSecond());
                case 'p' -> time.getHour() < 12 ? "AM" : "PM";
                case 'b' -> time.getMonth().getDisplayName(TextStyle.SHORT, Locale.ENGLISH);
                case 'B' -> time.getMonth().getDisplayName(TextStyle.FULL, Locale.ENGLISH);
                case 'a' -> time.getDayOfWeek().getDisplayName(TextStyle.SHORT, Locale.ENGLISH);
                case 'A' -> time.getDayOfWeek().getDisplayName(TextStyle.FULL, Locale.ENGLISH);
                case 'Z' -> time.getZone().getDisplayName(TextStyle.SHORT, Locale.ENGLISH);
                case '%' -> "%";
                default -> throw new ChatTemplateException("strftime_now: unsupported directive %" + directive
                        + " in \"" + pattern + "\"");
            });
        }
        return out.toString();
    }

    private static String twoDigits(int value) {
        return String.format(Locale.ROOT, "%02d", value);
    }
}
