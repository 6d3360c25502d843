/*
 * Repeated keys in a JSON object. cJSON keeps every copy of a key and its
 * lookups return the first, while other readers (Python's json) keep the
 * last: an object that repeats a key means different things to different
 * readers, so every parser of the project refuses it.
 */
#ifndef TADD_JSONKEYS_H
#define TADD_JSONKEYS_H

#include <stddef.h>

#include <cjson/cJSON.h>

/*
 * Returns 0 when no key of obj's direct members appears twice, else -1 with
 * "PATH.KEY: given twice" in err (just "KEY: given twice" when path is
 * empty), naming the first key in the object's order that repeats an
 * earlier one. Also -1 on running out of memory. Runs in O(n log n).
 */
int tadd_json_check_unique_keys(const cJSON *obj, const char *path,
                                char *err, size_t errlen);

#endif
