/* supervise.c: (stub) */
#include "supervise.h"
