/* supervise.h */
#ifndef TC_SUPERVISE_H
#define TC_SUPERVISE_H
#endif
