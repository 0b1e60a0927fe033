/*
 * A register map from a C header, the way Linux drivers describe hardware (`regdbg map import`,
 * docs/formats.md): register offsets as #defines of plain numbers, fields as #defines built with
 * BIT(n) and GENMASK(h, l) named after their register, enumerated field values as other
 * #defines named after their field. Every #define the import does not place it reports, with
 * why: none is dropped silently. The result is JSON in the format regmap_load() reads
 * (docs/register-maps.md). No printing, no files written.
 */
#ifndef REGDBG_HEADER_MAP_H
#define REGDBG_HEADER_MAP_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct header_map_opts {
    const char *prefix;         /* only #defines whose names start with it; NULL: all */
    const char *strip;          /* taken off the start of register names; NULL: nothing */
    const char *name;           /* the map's name; NULL: "registers from HEADER" */
    const uint16_t (*ids)[2];   /* vendor, device pairs the map matches */
    size_t n_ids;               /* 0: 0xffff:0xffff, which no device has */
};

/* A #define the import did not place, and why. */
struct header_map_skip {
    unsigned line;
    char name[128];
    char why[200];
};

struct header_map_result {
    json_t *map;                /* the map, for json_dump*(); owned by the caller */
    size_t n_registers, n_fields, n_values;
    struct header_map_skip *skipped;    /* in the header's order; free() it */
    size_t n_skipped;
};

/*
 * Read path and make the map. 0, or -1 with a message in err (the header cannot be read, has
 * no register offset at all, or memory runs out).
 */
int header_map_import(const char *path, const struct header_map_opts *opts,
                      struct header_map_result *out, char *err, size_t errlen);

#endif /* REGDBG_HEADER_MAP_H */
