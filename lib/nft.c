/* nft.c: (stub) */
#include "nft.h"
