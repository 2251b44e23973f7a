/**
 * Reader for GGUF model files (the llama.cpp format): a memory-mapped {@link io.qspec.format.gguf.GgufFile}
 * that validates the whole header against the file size before exposing any tensor.
 */
package io.qspec.format.gguf;
