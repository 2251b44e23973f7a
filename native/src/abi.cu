// ABI version check for the Java loader.
#include "common.cuh"

QSPEC_API int qspec_abi_version(void) { return QSPEC_ABI_VERSION; }
