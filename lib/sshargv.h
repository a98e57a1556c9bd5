/* sshargv.h */
#ifndef TC_SSHARGV_H
#define TC_SSHARGV_H
#endif
