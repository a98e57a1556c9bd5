/* state.c: (stub) */
#include "state.h"
