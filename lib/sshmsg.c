/* sshmsg.c: (stub) */
#include "sshmsg.h"
