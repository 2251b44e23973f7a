package io.qspec.format.gguf;

import java.util.List;

/**
 * The parsed, validated header of a GGUF file.
 *
 * @param version    GGUF version (2 or 3)
 * @param metadata   key/values in file order
 * @param alignment  alignment of the data section and of every tensor offset in it
 * @param dataOffset absolute byte offset where the tensor data section starts
 * @param tensors    tensor entries in file order; every data range lies inside the file
 */
record GgufHeader(int version, GgufMetadata metadata, long alignment, long dataOffset, List<GgufTensorInfo> tensors) {
}
