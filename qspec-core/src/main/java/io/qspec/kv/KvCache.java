package io.qspec.kv;

/**
 * The key/value cache of <em>one</em> sequence, owned by the backend that computes into it.
 * QSpec keeps a single cache per sequence: draft passes append low-precision entries, the verify
 * pass rewrites those positions with W4A16 entries, and {@link #truncate} rolls rejected positions
 * back. Positions {@code [0, length())} hold valid entries.
 *
 * <p>A forward pass over {@code n} tokens writes positions {@code [length(), length() + n)} and then
 * advances {@code length()} by {@code n}. To rewrite positions (the verify pass), truncate first:
 * truncation is logical and O(1); the next write overwrites the old entries in place.
 */
public interface KvCache extends AutoCloseable {

    /** Number of leading positions whose K/V entries are valid. */
    int length();

    /** The most positions this cache can hold. */
    int capacity();

    /** Forgets positions {@code [newLength, length())}; {@code newLength} must be in [0, length()]. */
    void truncate(int newLength);

    /** Number of transformer layers the cache holds entries for. */
    int layers();

    /** Width of one key (and one value) row: {@code kvHeads * headDim}. */
    int kvDim();

    /** Copies the key of {@code layer} at {@code position} (< length()) into {@code dst[0..kvDim)}. */
    void readKey(int layer, int position, float[] dst);

    /** Copies the value of {@code layer} at {@code position} (< length()) into {@code dst[0..kvDim)}. */
    void readValue(int layer, int position, float[] dst);

    /** Releases the memory. Idempotent. */
    @Override
    void close();
}
