/* out.h */
#ifndef TC_OUT_H
#define TC_OUT_H
#endif
