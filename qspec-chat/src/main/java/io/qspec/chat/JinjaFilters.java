package io.qspec.chat;

import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.lib.filter.Filter;
import com.hubspot.jinjava.util.ObjectIterator;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * The built-in filters of Jinja that Jinjava lacks ({@code items}, {@code max}, {@code min}), so that every
 * filter a Hugging Face template may name exists, and a name that is none of them is refused when the
 * template loads, as Jinja refuses it.
 */
final class JinjaFilters {
    private JinjaFilters() {
    }

    static List<Filter> all() {
        return List.of(new Items(), new Extreme("max", 1), new Extreme("min", -1));
    }

    /** {@code mapping | items}: the (key, value) pairs, in the mapping's order. */
    private static final class Items implements Filter {
        @Override
        public String getName() {
            return "items";
        }

        @Override
        public Object filter(Object value, JinjavaInterpreter interpreter, String... args) {
            List<List<Object>> pairs = new ArrayList<>();
            if (value instanceof Map<?, ?> map) {
                map.forEach((k, v) -> pairs.add(java.util.Arrays.asList(k, v)));
            }
            return pairs;
        }
    }

    /** {@code values | max} and {@code values | min}: numbers by value, anything else by its text. */
    private static final class Extreme implements Filter {
        private static final Comparator<Object> ORDER = (a, b) -> a instanceof Number x && b instanceof Number y
                ? Double.compare(x.doubleValue(), y.doubleValue()) : String.valueOf(a).compareTo(String.valueOf(b));

        private final String name;
        private final int sign;

        Extreme(String name, int sign) {
            this.name = name;
            this.sign = sign;
        }

        @Override
        public String getName() {
            return name;
        }

        @Override
        public Object filter(Object value, JinjavaInterpreter interpreter, String... args) {
            Object best = null;
            for (Iterator<Object> it = ObjectIterator.getLoop(value); it.hasNext(); ) {
                Object item = it.next();
                if (best == null || sign * ORDER.compare(item, best) > 0) {
                    best = item;
                }
            }
            return best;
        }
    }
}
