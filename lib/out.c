/* out.c: (stub) */
#include "out.h"
