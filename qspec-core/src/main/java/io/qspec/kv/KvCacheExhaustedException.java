package io.qspec.kv;

import io.qspec.QSpecException;

/** A sequence needs more key/value positions than its cache (or the block pool) can hold. */
public class KvCacheExhaustedException extends QSpecException {
    public KvCacheExhaustedException(String message) {
        super(message);
    }
}
