package io.qspec.tokenizer;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What a {@code Split} pre-tokenizer does with the matches of its pattern, as in Hugging Face's
 * {@code SplitDelimiterBehavior}: drop them, keep each as its own word, glue each to the word
 * before or after it, or join runs of adjacent matches into one word.
 */
enum SplitBehavior {
    REMOVED, ISOLATED, MERGED_WITH_PREVIOUS, MERGED_WITH_NEXT, CONTIGUOUS;

    /** A stretch of the text: a match of the pattern or the text between two matches. */
    private record Segment(int start, int end, boolean match) {
    }

    /** The tokenizer.json name ("Isolated", "MergedWithPrevious", ...), or null if unknown. */
    static SplitBehavior byJsonName(String name) {
        return switch (name) {
            case "Removed" -> REMOVED;
            case "Isolated" -> ISOLATED;
            case "MergedWithPrevious" -> MERGED_WITH_PREVIOUS;
            case "MergedWithNext" -> MERGED_WITH_NEXT;
            case "Contiguous" -> CONTIGUOUS;
            default -> null;
        };
    }

    /**
     * The words of {@code text}; with {@code invert} the text between matches plays the part of the
     * matches. Empty matches and empty words are dropped.
     */
    List<String> split(String text, Pattern pattern, boolean invert) {
        List<Segment> segments = new ArrayList<>();
        Matcher m = pattern.matcher(text);
        int at = 0;
        while (m.find()) {
            if (m.end() == m.start()) {
                continue;
            }
            if (m.start() > at) {
                segments.add(new Segment(at, m.start(), invert));
            }
            segments.add(new Segment(m.start(), m.end(), !invert));
            at = m.end();
        }
        if (at < text.length()) {
            segments.add(new Segment(at, text.length(), invert));
        }
        List<String> words = new ArrayList<>(segments.size());
        for (Segment s : combine(segments)) {
            words.add(text.substring(s.start, s.end));
        }
        return words;
    }

    private List<Segment> combine(List<Segment> segments) {
        List<Segment> out = new ArrayList<>(segments.size());
        switch (this) {
            case ISOLATED -> out.addAll(segments);
            case REMOVED -> segments.stream().filter(s -> !s.match).forEach(out::add);
            case CONTIGUOUS -> {
                for (Segment s : segments) {
                    Segment last = out.isEmpty() ? null : out.getLast();
                    if (last != null && last.match && s.match) {
                        out.set(out.size() - 1, new Segment(last.start, s.end, true));
                    } else {
                        out.add(s);
                    }
                }
            }
            case MERGED_WITH_PREVIOUS -> {
                for (Segment s : segments) {
                    Segment last = out.isEmpty() ? null : out.getLast();
                    // A match joins the word before it unless that word is itself a match.
                    if (s.match && last != null && !last.match) {
                        out.set(out.size() - 1, new Segment(last.start, s.end, true));
                    } else {
                        out.add(s);
                    }
                }
            }
            case MERGED_WITH_NEXT -> {
                for (Segment s : segments.reversed()) {
                    Segment next = out.isEmpty() ? null : out.getLast();
                    if (s.match && next != null && !next.match) {
                        out.set(out.size() - 1, new Segment(s.start, next.end, true));
                    } else {
                        out.add(s);
                    }
                }
                return out.reversed();
            }
        }
        return out;
    }
}
