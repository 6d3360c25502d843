/*
 * Model and training configuration: the fields of SPEC sections 2, 3 and 5,
 * their defaults, their validation, and their JSON form.
 *
 * Every parser here reports the first problem it finds as a message that
 * names the key path (for example "base.lr" or "variants[2].norm") and what
 * is wrong with the value, and leaves its output untouched on failure.
 */
#ifndef TADD_CONFIG_H
#define TADD_CONFIG_H

#include <stddef.h>

#include <cjson/cJSON.h>

#define TADD_VOCAB 14
#define TADD_CONTEXT 33        /* model input length T */
#define TADD_PROMPT_LEN 22     /* 10 digits, '+', 10 digits, '=' */
#define TADD_ANSWER_DIGITS 11
#define TADD_ANSWER_POSITIONS 12 /* 11 digits and <EOS> */
#define TADD_FIRST_ANSWER_POS 21 /* position of '=', predicts digit 0 */
#define TADD_TOK_PLUS 10
#define TADD_TOK_EQUALS 11
#define TADD_TOK_PAD 12
#define TADD_TOK_EOS 13

#define TADD_MAX_PHASES 16
#define TADD_ERR_LEN 512

enum tadd_norm { TADD_NORM_LAYERNORM = 0, TADD_NORM_RMSNORM = 1 };
enum tadd_qkv_tie { TADD_QKV_TIE_NONE = 0, TADD_QKV_TIE_SHAREA_TIEKV = 1 };

/* The model family of SPEC section 2. */
struct tadd_model_config {
    int n_layer;
    int d_model;
    int n_head;
    int d_ff;
    int pos_rank;
    int qkv_rank;
    int attn_out_rank;
    int ffn_rank;
    int fixed_full_rank_attn; /* 0 or 1 */
    int fixed_full_rank_mlp;  /* 0 or 1 */
    enum tadd_norm norm;
    enum tadd_qkv_tie qkv_tie;
};

struct tadd_phase {
    int min_digits;
    int max_digits;
    long steps;
};

/* The training recipe of SPEC section 3. */
struct tadd_train_config {
    int batch_size;
    double lr;
    double weight_decay;
    long warmup_steps;
    double min_lr_ratio;
    double grad_clip;
    long train_steps;
    long eval_interval;
    int val_size;
    int test_size;
    int n_phases;
    struct tadd_phase curriculum[TADD_MAX_PHASES];
};

/* A trial's whole configuration, seed excluded. */
struct tadd_config {
    struct tadd_model_config model;
    struct tadd_train_config train;
};

/* Fills cfg with SPEC's defaults (the seed-sensitive baseline). */
void tadd_config_defaults(struct tadd_config *cfg);

/*
 * Applies every key of obj (a JSON object of model and training fields) onto
 * cfg. Keys outside SPEC section 5's field list, wrong types and
 * out-of-range values are refused. path is the key path of obj itself, used
 * as the prefix of error messages ("" for the top level).
 * Returns 0, or -1 with a message in err (errlen bytes) and cfg unchanged.
 * The combination is not checked here: call tadd_config_validate after the
 * last override.
 */
int tadd_config_apply_json(struct tadd_config *cfg, const cJSON *obj,
                           const char *path, char *err, size_t errlen);

/*
 * Applies one field by name; used by the sweep grid. Same contract as
 * tadd_config_apply_json for a single key.
 */
int tadd_config_apply_field(struct tadd_config *cfg, const char *key,
                            const cJSON *value, const char *path,
                            char *err, size_t errlen);

/*
 * Same as tadd_config_apply_field, but where is the value's whole key path
 * as messages should show it (for example "grid.lr[2]").
 */
int tadd_config_set_field(struct tadd_config *cfg, const char *key,
                          const cJSON *value, const char *where, char *err,
                          size_t errlen);

/* 1 when key is one of SPEC section 5's model or training fields. */
int tadd_config_is_field(const char *key);

/* 1 when key is one of the six per-model fields of SPEC section 5. */
int tadd_config_is_per_model_field(const char *key);

/*
 * Checks the cross-field rules (d_model % n_head == 0, shareA_tieKV needs
 * qkv_rank > 0, warmup_steps < train_steps, min_digits <= max_digits, ...).
 * Returns 0, or -1 with a message in err naming the fields at fault.
 */
int tadd_config_validate(const struct tadd_config *cfg, char *err,
                         size_t errlen);

/* The model config alone, same contract as tadd_config_validate. */
int tadd_model_config_validate(const struct tadd_model_config *m, char *err,
                               size_t errlen);

/*
 * Parses a JSON object holding exactly the section-2 model fields (all
 * optional, defaults elsewhere); unknown keys are refused. Used for
 * checkpoints' model_config and the golden config.json files.
 */
int tadd_model_config_from_json(struct tadd_model_config *m,
                                const cJSON *obj, const char *path,
                                char *err, size_t errlen);

/* New JSON objects (caller frees with cJSON_Delete); NULL on OOM. */
cJSON *tadd_model_config_to_json(const struct tadd_model_config *m);
cJSON *tadd_train_config_to_json(const struct tadd_train_config *t);

/*
 * Defaults, then every key of obj, then tadd_config_validate: the whole
 * config a stored JSON object describes. Same contract as
 * tadd_config_apply_json; cfg is unchanged on failure.
 */
int tadd_config_from_json(struct tadd_config *cfg, const cJSON *obj,
                          const char *path, char *err, size_t errlen);

/* Every model and training field, in SPEC section 5's order; NULL on OOM.
 * Equal configs give equal printed text. */
cJSON *tadd_config_to_json(const struct tadd_config *cfg);

/*
 * One field's value as short text for names: integers plainly, numbers in
 * the shortest form that reads back exactly (0.0135, 1e-5), booleans as
 * true/false, enums by name, the curriculum as 1-3-2000_1-6-5000.
 * Returns 0, or -1 for an unknown key or a buffer too small.
 */
int tadd_config_field_text(const struct tadd_config *cfg, const char *key,
                           char *buf, size_t len);

/*
 * v in the fewest significant digits that read back as the same double,
 * exponent without '+' or leading zeros ("0.015", "1e-5", "3e20").
 * Returns the length snprintf would give.
 */
int tadd_format_double(double v, char *buf, size_t len);

/*
 * A short description of a JSON value for error messages: the number, the
 * string quoted (cut after max_chars characters), true, false, null, "a
 * list" or "an object"; "nothing" for NULL. Returns buf. Cannot fail.
 */
const char *tadd_json_describe(const cJSON *v, int max_chars, char *buf,
                               size_t len);

const char *tadd_norm_name(enum tadd_norm n);
const char *tadd_qkv_tie_name(enum tadd_qkv_tie t);

#endif
