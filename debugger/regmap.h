/*
 * Register maps: what a PCI device's BAR registers are called, how wide they are and which fields
 * they hold (and, in a "dma" section, which of them program its DMA engines), loaded from a JSON
 * file (format: docs/register-maps.md) and validated strictly, every error placed at
 * FILE:LINE:COL. Lookups by (bar, offset) and by name, field values, and the "FIELD=value ..."
 * decoding of one access. No global state; a loaded map is read-only.
 */
#ifndef REGDBG_REGMAP_H
#define REGDBG_REGMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define REGMAP_MAX_BAR 5u
#define REGMAP_OFFSET_LIMIT (1ull << 40) /* every register lies below this BAR offset */
/* The most fields a register can have: they do not overlap, and it is at most 64 bits wide. */
#define REGMAP_MAX_FIELDS 64u

struct regmap_enum { char *name; uint64_t value; };
struct regmap_field {
    char *name;
    unsigned lsb, msb;              /* bit range, inclusive */
    char *description;              /* may be NULL */
    struct regmap_enum *values;     /* enumerated values, may be empty */
    size_t n_values;
};
struct regmap_reg {
    char *name;
    unsigned bar;                   /* 0..5 */
    uint64_t offset;
    unsigned width;                 /* bytes: 1, 2, 4 or 8 */
    char access[8];                 /* "rw", "ro", "wo", "rc" (read clears), "w1c" */
    bool has_reset;
    uint64_t reset;
    char *description;              /* may be NULL */
    struct regmap_field *fields;    /* in the order the file declares them */
    size_t n_fields;
};
struct regmap_id { uint16_t vendor, device; };

/*
 * The map's "dma" section: the device's DMA engines that are programmed through registers
 * (docs/register-maps.md, "DMA engines"). Registers and fields point into the map's regs.
 */
#define REGMAP_MAX_DMA_ENGINES 4u
struct regmap_dma_ref {             /* a register, or one field of it */
    const struct regmap_reg *reg;
    const struct regmap_field *field; /* NULL: the whole register */
};
struct regmap_dma_addr {            /* an address: one register, or low and high halves */
    const struct regmap_reg *low;   /* NULL: absent */
    const struct regmap_reg *high;  /* NULL: low holds all of it */
};
enum regmap_dma_dir {
    REGMAP_DMA_DIR_FIELD = 0,       /* a field says: to_device / from_device values */
    REGMAP_DMA_TO_DEVICE = 1,       /* always toward the device (memory -> device) */
    REGMAP_DMA_FROM_DEVICE = 2,     /* always from the device (device -> memory) */
};
struct regmap_dma_engine {
    char *name;
    char *description;              /* may be NULL */
    struct regmap_dma_addr source;  /* the memory side toward the device */
    struct regmap_dma_addr destination; /* the memory side from the device */
    const struct regmap_reg *length; /* bytes */
    struct regmap_dma_ref start;    /* a write with the field nonzero (any write to a register
                                       without field) starts a transfer */
    enum regmap_dma_dir direction;
    struct regmap_dma_ref dir_field; /* REGMAP_DMA_DIR_FIELD */
    uint64_t to_device, from_device; /* its values */
    bool done_by_field;             /* completion: a read shows done_field == done_value */
    struct regmap_dma_ref done_field;
    uint64_t done_value;
    bool done_by_interrupt;         /* completion: the device's interrupt */
    uint64_t max_length;            /* 0: no limit given */
};
struct regmap_dma {
    unsigned address_bits;          /* the device's DMA address width, 12..64 */
    struct regmap_dma_engine *engines;
    size_t n_engines;
};

struct regmap {
    char *path;
    char *name;
    struct regmap_id *ids;
    size_t n_ids;
    struct regmap_reg *regs;        /* sorted by (bar, offset) */
    size_t n_regs;
    struct regmap_dma *dma;         /* NULL: the map has no "dma" section */
};

/*
 * Load and validate strictly. NULL on error with "FILE:LINE:COL: message" in err.
 * LINE and COL are 1-based; COL counts characters (a tab or a multi-byte UTF-8 character is one).
 * An error that has no place in the text (the file cannot be read) is "FILE: message".
 */
struct regmap *regmap_load(const char *path, char *err, size_t errlen);
void regmap_free(struct regmap *map);
bool regmap_matches(const struct regmap *map, uint16_t vendor, uint16_t device);
/* The register that contains [offset, offset+size) of bar, or NULL. O(log n). */
/* (A size of 0 is taken as 1; an access that straddles two registers has no register.) */
const struct regmap_reg *regmap_find(const struct regmap *map, unsigned bar, uint64_t offset,
                                     unsigned size);
const struct regmap_reg *regmap_find_name(const struct regmap *map, const char *name);
/* A field by name within a register, or NULL. */
const struct regmap_field *regmap_find_field(const struct regmap_reg *reg, const char *name);
/* Value of a field within a register value. */
uint64_t regmap_field_value(const struct regmap_field *f, uint64_t reg_value);
/*
 * Decode value (as accessed: size bytes at offset within reg) into "FIELD=x FIELD=name ..." in buf:
 * single-bit fields without enums print as FIELD=0/1, fields with enums print the enum name when one
 * matches (else the number), multi-bit numbers print in hex (0x55). Fields outside the accessed
 * bytes are left out. Registers without fields produce "". Returns the length written.
 *
 * offset is the BAR offset of the access, the same one given to regmap_find (so a 1-byte access to
 * the second byte of a register at 0x10 has offset 0x11 and its value in bits 7:0). Fields are
 * printed in declaration order, separated by one space; a field only partly inside the accessed
 * bytes is left out too. buf is always NUL-terminated (when len > 0) and cut short if too small;
 * the return value is strlen(buf).
 */
size_t regmap_decode(const struct regmap_reg *reg, uint64_t offset, unsigned size, uint64_t value,
                     char *buf, size_t len);

/* One field of a decoded access: its value, and the name the map gives that value (or NULL). */
struct regmap_field_value {
    const struct regmap_field *field;
    uint64_t value;
    const char *name;
};
/*
 * The fields regmap_decode() prints, as values: those wholly inside the accessed bytes, in
 * declaration order, into out (room for REGMAP_MAX_FIELDS). Returns how many; 0 for an access
 * outside reg.
 */
size_t regmap_access_fields(const struct regmap_reg *reg, uint64_t offset, unsigned size,
                            uint64_t value, struct regmap_field_value *out);

#endif /* REGDBG_REGMAP_H */
