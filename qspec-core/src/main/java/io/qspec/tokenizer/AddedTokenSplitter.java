package io.qspec.tokenizer;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Cuts text at occurrences of added tokens, leftmost first and, among matches at the same place,
 * longest first (as Hugging Face's Aho-Corasick matcher does).
 */
final class AddedTokenSplitter {

    /** A piece of the input: plain text for BPE ({@code tokenId < 0}) or one added token. */
    record Piece(int start, String text, int tokenId) {
        boolean isToken() {
            return tokenId >= 0;
        }
    }

    private final Map<Character, List<AddedToken>> byFirstChar = new HashMap<>();

    AddedTokenSplitter(List<AddedToken> tokens) {
        for (AddedToken t : tokens) {
            if (!t.content().isEmpty()) {
                byFirstChar.computeIfAbsent(t.content().charAt(0), c -> new ArrayList<>()).add(t);
            }
        }
        byFirstChar.values().forEach(l -> l.sort(Comparator.comparingInt((AddedToken t) -> t.content().length()).reversed()));
    }

    List<Piece> split(String text) {
        List<Piece> pieces = new ArrayList<>();
        if (byFirstChar.isEmpty()) {
            if (!text.isEmpty()) {
                pieces.add(new Piece(0, text, -1));
            }
            return pieces;
        }
        int plainStart = 0;
        int i = 0;
        while (i < text.length()) {
            AddedToken match = matchAt(text, i);
            if (match == null) {
                i++;
                continue;
            }
            int start = i;
            int end = i + match.content().length();
            if (match.lstrip()) {
                while (start > plainStart && Character.isWhitespace(text.charAt(start - 1))) {
                    start--;
                }
            }
            if (match.rstrip()) {
                while (end < text.length() && Character.isWhitespace(text.charAt(end))) {
                    end++;
                }
            }
            if (start > plainStart) {
                pieces.add(new Piece(plainStart, text.substring(plainStart, start), -1));
            }
            pieces.add(new Piece(start, text.substring(start, end), match.id()));
            plainStart = end;
            i = end;
        }
        if (plainStart < text.length()) {
            pieces.add(new Piece(plainStart, text.substring(plainStart), -1));
        }
        return pieces;
    }

    private AddedToken matchAt(String text, int i) {
        List<AddedToken> candidates = byFirstChar.get(text.charAt(i));
        if (candidates == null) {
            return null;
        }
        for (AddedToken t : candidates) {
            if (text.startsWith(t.content(), i) && (!t.singleWord() || isWholeWord(text, i, i + t.content().length()))) {
                return t;
            }
        }
        return null;
    }

    private static boolean isWholeWord(String text, int start, int end) {
        return (start == 0 || !isWordChar(text.charAt(start - 1))) && (end == text.length() || !isWordChar(text.charAt(end)));
    }

    private static boolean isWordChar(char c) {
        return Character.isLetterOrDigit(c) || c == '_';
    }
}
