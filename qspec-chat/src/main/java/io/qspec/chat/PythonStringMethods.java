package io.qspec.chat;

import java.beans.FeatureDescriptor;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import jinjava.javax.el.ELContext;
import jinjava.javax.el.ELResolver;

/**
 * Python's string methods that chat templates call ({@code content.startswith('<think>')},
 * {@code text.lstrip('\n')}, {@code '\n'.join(parts)}), which Jinjava, seeing a Java {@link String},
 * would not find. Placed before Jinjava's own resolver; every other call goes through to it.
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
            default -> NOT_PYTHON;
        };
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

    @Override
    public Object getValue(ELContext context, Object base, Object property) {
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
