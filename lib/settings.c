/* settings.c: (stub) */
#include "settings.h"
