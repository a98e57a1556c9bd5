/* sha256.h */
#ifndef TC_SHA256_H
#define TC_SHA256_H
#endif
