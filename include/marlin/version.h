/* marlin version macros. meson.build reads MARLIN_VERSION_* back from this
 * file, so this is the single source of the version number. */
#ifndef MARLIN_VERSION_H
#define MARLIN_VERSION_H

#define MARLIN_VERSION_MAJOR 0
#define MARLIN_VERSION_MINOR 1
#define MARLIN_VERSION_PATCH 0

/* One integer, comparable: MARLIN_VERSION >= MARLIN_MAKE_VERSION(0, 1, 0). */
#define MARLIN_MAKE_VERSION(major, minor, patch) (((major) << 16) | ((minor) << 8) | (patch))
#define MARLIN_VERSION MARLIN_MAKE_VERSION(MARLIN_VERSION_MAJOR, MARLIN_VERSION_MINOR, MARLIN_VERSION_PATCH)

#endif
