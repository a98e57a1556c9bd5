/* log.c: (stub) */
#include "log.h"
