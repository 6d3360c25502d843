/* libFuzzer's entry point over a target's tadd_fuzz_run. */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char msg[1024];

    tadd_fuzz_run(data, size, msg, sizeof(msg));
    return 0;
}
