/* sha256.c: (stub) */
#include "sha256.h"
