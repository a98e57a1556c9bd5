/* netwatch.h */
#ifndef TC_NETWATCH_H
#define TC_NETWATCH_H
#endif
