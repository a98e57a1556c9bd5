/* doc.c: (stub) */
#include "doc.h"
