package io.qspec.chat;

import java.beans.FeatureDescriptor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import jinjava.javax.el.ELContext;
import jinjava.javax.el.ELResolver;

/**
 * Python's string methods that chat templates call ({@code content.startswith('<think>')},
 * {@code text.lstrip('\n')}, {@code '\n'.join(parts)}, {@code content.split('</think>')[-1]}), which
 * Jinjava, seeing a Java {@link String}, would not find or would run as Java's ({@code split} takes a
 * regular expression there), and Python's indexing of a string by a position, negative from the end.
 * Placed before Jinjava's own resolver; every other call goes through to it.
 */
final class PythonStringMethods extends ELResolver {
    /** What {@link #call} returns for a method or an argument list that is not Python's. */
    private static final Object NOT_PYTHON = new Object();

    @Override
    public Object invoke(ELContext context, Object base, Object method, Class<?>[] paramTypes, Object[] params) {
        if (!(base instanceof String text) || method == null) {
            return null;
        }
        Object[] args = params == null ? new Object[0] : params;
        Object result = call(text, method.toString(), args);
        if (result != NOT_PYTHON) {
            context.setPropertyResolved(true);
            return result;
        }
        return null;
    }

    private static Object call(String s, String name, Object[] args) {
        return switch (name) {
            case "startswith" -> args.length == 1 ? anyOf(args[0]).stream().anyMatch(s::startsWith) : NOT_PYTHON;
            case "endswith" -> args.length == 1 ? anyOf(args[0]).stream().anyMatch(s::endsWith) : NOT_PYTHON;
            case "lstrip" -> args.length <= 1 ? strip(s, args, true, false) : NOT_PYTHON;
            case "rstrip" -> args.length <= 1 ? strip(s, args, false, true) : NOT_PYTHON;
            case "strip" -> args.length == 1 ? strip(s, args, true, true) : NOT_PYTHON;
            case "upper" -> args.length == 0 ? s.toUpperCase(Locale.ROOT) : NOT_PYTHON;
            case "lower" -> args.length == 0 ? s.toLowerCase(Locale.ROOT) : NOT_PYTHON;
            case "find" -> args.length == 1 ? (Object) (long) s.indexOf(String.valueOf(args[0])) : NOT_PYTHON;
            case "join" -> args.length == 1 ? join(s, args[0]) : NOT_PYTHON;
            case "split" -> args.length <= 2 ? split(s, args, false) : NOT_PYTHON;
            case "rsplit" -> args.length <= 2 ? split(s, args, true) : NOT_PYTHON;
            case "count" -> args.length == 1 ? (Object) count(s, String.valueOf(args[0])) : NOT_PYTHON;
            case "capitalize" -> args.length == 0 ? capitalize(s) : NOT_PYTHON;
            case "title" -> args.length == 0 ? title(s) : NOT_PYTHON;
            default -> NOT_PYTHON;
        };
    }

    /**
     * Python's {@code split} / {@code rsplit}: by runs of whitespace without a separator (no empty
     * parts), else by the literal separator (empty parts kept); at most {@code maxsplit} splits, counted
     * from the right for {@code rsplit}.
     */
    private static Object split(String s, Object[] args, boolean fromRight) {
        String separator = args.length == 0 || args[0] == null ? null : String.valueOf(args[0]);
        long maxsplit = args.length == 2 && args[1] instanceof Number n ? n.longValue() : -1;
        if (separator != null && separator.isEmpty()) {
            throw new IllegalArgumentException("empty separator");  // Python's ValueError
        }
        List<String> parts = new ArrayList<>();
        if (separator == null) {
            return fromRight ? rsplitWhitespace(s, maxsplit, parts) : splitWhitespace(s, maxsplit, parts);
        }
        int start = 0;
        int end = s.length();
        if (fromRight) {
            for (long n = 0; maxsplit < 0 || n < maxsplit; n++) {
                int at = s.lastIndexOf(separator, end - separator.length());
                if (at < 0) {
                    break;
                }
                parts.addFirst(s.substring(at + separator.length(), end));
                end = at;
            }
            parts.addFirst(s.substring(0, end));
            return parts;
        }
        for (long n = 0; maxsplit < 0 || n < maxsplit; n++) {
            int at = s.indexOf(separator, start);
            if (at < 0) {
                break;
            }
            parts.add(s.substring(start, at));
            start = at + separator.length();
        }
        parts.add(s.substring(start));
        return parts;
    }

    private static List<String> splitWhitespace(String s, long maxsplit, List<String> parts) {
        int i = 0;
        while (true) {
            while (i < s.length() && Character.isWhitespace(s.charAt(i))) {
                i++;
            }
            if (i == s.length()) {
                return parts;
            }
            if (parts.size() == maxsplit) {  // the rest as it is, trailing whitespace included
                parts.add(s.substring(i));
                return parts;
            }
            int j = i;
            while (j < s.length() && !Character.isWhitespace(s.charAt(j))) {
                j++;
            }
            parts.add(s.substring(i, j));
            i = j;
        }
    }

    private static List<String> rsplitWhitespace(String s, long maxsplit, List<String> parts) {
        int j = s.length();
        while (true) {
            while (j > 0 && Character.isWhitespace(s.charAt(j - 1))) {
                j--;
            }
            if (j == 0) {
                return parts;
            }
            if (parts.size() == maxsplit) {  // the rest as it is, leading whitespace included
                parts.addFirst(s.substring(0, j));
                return parts;
            }
            int i = j;
            while (i > 0 && !Character.isWhitespace(s.charAt(i - 1))) {
                i--;
            }
            parts.addFirst(s.substring(i, j));
            j = i;
        }
    }

    /** Python's {@code count}: non-overlapping occurrences; the empty string occurs len + 1 times. */
    private static long count(String s, String part) {
        if (part.isEmpty()) {
            return s.length() + 1L;
        }
        long n = 0;
        for (int at = s.indexOf(part); at >= 0; at = s.indexOf(part, at + part.length())) {
            n++;
        }
        return n;
    }

    private static String capitalize(String s) {
        return s.isEmpty() ? s : s.substring(0, 1).toUpperCase(Locale.ROOT) + s.substring(1).toLowerCase(Locale.ROOT);
    }

    /** Python's {@code title}: each run of letters starts upper case and goes on lower case. */
    private static String title(String s) {
        StringBuilder out = new StringBuilder(s.length());
        boolean inWord = false;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            out.append(inWord ? Character.toLowerCase(c) : Character.toUpperCase(c));
            inWord = Character.isLetter(c);
        }
        return out.toString();
    }

    /** startswith's argument: one prefix, or a tuple (list) of them. */
    private static List<String> anyOf(Object prefixes) {
        if (prefixes instanceof Iterable<?> many) {
            List<String> all = new java.util.ArrayList<>();
            many.forEach(p -> all.add(String.valueOf(p)));
            return all;
        }
        if (prefixes instanceof Object[] array) {
            return Arrays.stream(array).map(String::valueOf).toList();
        }
        return List.of(String.valueOf(prefixes));
    }

    /** Python's strip family: whitespace, or any of the given characters, from the chosen ends. */
    private static String strip(String s, Object[] args, boolean left, boolean right) {
        String chars = args.length == 0 || args[0] == null ? null : String.valueOf(args[0]);
        int start = 0;
        int end = s.length();
        while (left && start < end && strippable(s.charAt(start), chars)) {
            start++;
        }
        while (right && end > start && strippable(s.charAt(end - 1), chars)) {
            end--;
        }
        return s.substring(start, end);
    }

    private static boolean strippable(char c, String chars) {
        return chars == null ? Character.isWhitespace(c) : chars.indexOf(c) >= 0;
    }

    private static Object join(String separator, Object items) {
        if (!(items instanceof Iterable<?> parts)) {
            return NOT_PYTHON;
        }
        StringBuilder out = new StringBuilder();
        boolean first = true;
        for (Object part : parts) {
            if (!first) {
                out.append(separator);
            }
            out.append(part);
            first = false;
        }
        return out.toString();
    }

    /** {@code text[i]}: the character at i, negative i counting from the end; out of range, undefined (null). */
    @Override
    public Object getValue(ELContext context, Object base, Object property) {
        if (!(base instanceof String text) || position(property) == null) {
            return null;
        }
        long index = position(property);
        long i = index < 0 ? text.length() + index : index;
        context.setPropertyResolved(true);
        return i >= 0 && i < text.length() ? String.valueOf(text.charAt((int) i)) : null;
    }

    /** An integer index (Jinjava hands a negative one over as its text), else null. */
    private static Long position(Object property) {
        if (property instanceof Long || property instanceof Integer || property instanceof Short) {
            return ((Number) property).longValue();
        }
        if (property instanceof String text && text.matches("-?\\d{1,18}")) {
            return Long.parseLong(text);
        }
        return null;
    }

    @Override
    public Class<?> getType(ELContext context, Object base, Object property) {
        return null;
    }

    @Override
    public void setValue(ELContext context, Object base, Object property, Object value) {
    }

    @Override
    public boolean isReadOnly(ELContext context, Object base, Object property) {
        return false;
    }

    @Override
    public Iterator<FeatureDescriptor> getFeatureDescriptors(ELContext context, Object base) {
        return null;
    }

    @Override
    public Class<?> getCommonPropertyType(ELContext context, Object base) {
        return null;
    }
}
