/*
 * Where the shipped register maps are, as this build knows it: the one object that differs
 * between the build tree's regdbg (the tree's maps/) and an installed one (PREFIX/share/regdbg/
 * maps); the Makefile compiles it with REGDBG_MAPS_DIR for each.
 */
#include "session.h"

#ifndef REGDBG_MAPS_DIR
#define REGDBG_MAPS_DIR "maps"
#endif

const char regdbg_maps_dir[] = REGDBG_MAPS_DIR;
