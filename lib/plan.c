/* plan.c: (stub) */
#include "plan.h"
