package io.qspec.format.gguf;

import io.qspec.format.TensorType;

/**
 * One validated tensor entry of the GGUF header.
 *
 * @param shape      row-major (PyTorch) order, i.e. GGUF's dimensions reversed
 * @param fileOffset absolute byte offset of the data in the file
 * @param byteSize   bytes the data occupies
 */
record GgufTensorInfo(String name, TensorType type, long[] shape, long fileOffset, long byteSize) {
}
