/* localnet.c: (stub) */
#include "localnet.h"
