/* netwatch.c: (stub) */
#include "netwatch.h"
