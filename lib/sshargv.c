/* sshargv.c: (stub) */
#include "sshargv.h"
