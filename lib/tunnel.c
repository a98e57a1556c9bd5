/* tunnel.c: (stub) */
#include "tunnel.h"
