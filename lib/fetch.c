/* fetch.c: (stub) */
#include "fetch.h"
