/* spec.c: (stub) */
#include "spec.h"
